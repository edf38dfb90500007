import { formatMoney } from '../../shared/money.js';

const formatters = new Map<string, Intl.NumberFormat>();

/** Money for people: 1374850 USD → "$13,748.50", in the store's currency. */
export function displayMoney(cents: number, currency: string): string {
  let formatter = formatters.get(currency);
  if (!formatter) {
    try {
      formatter = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    } catch {
      // An order in a currency code Intl does not know still shows, just unformatted.
      return `${formatMoney(cents)} ${currency}`;
    }
    formatters.set(currency, formatter);
  }
  return formatter.format(cents / 100);
}
