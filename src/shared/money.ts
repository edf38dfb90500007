import { UserError } from './errors.js';

/** Minor units to the API's decimal string: 2999 → "29.99", -500 → "-5.00". */
export function formatMoney(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(cents));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** "29.99" / "29.9" / "29" / 29.99 → 2999, exactly (no floating-point rounding of the string). */
export function parseMoney(value: string | number): number {
  const text = typeof value === 'number' ? value.toFixed(2) : value.trim();
  const match = /^(-)?(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) throw new UserError('bad_amount', `"${text}" is not an amount of money.`);
  const [, minus, whole = '0', fraction = ''] = match;
  const cents = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  return minus ? -cents : cents;
}
