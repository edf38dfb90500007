import { lookupCustomer } from '../../domain/customers/lookup.js';
import { UserError } from '../../shared/errors.js';
import type { Customer } from '../../domain/customers/types.js';
import type { Db } from '../../store/database.js';
import { clipText } from '../../shared/text.js';

/**
 * For options that must name exactly one customer (note, stats, ban type customer): the
 * autocomplete hands back `id:N`; typed text must still lead to a single customer.
 */
export async function resolveOneCustomer(db: Db, query: string): Promise<Customer> {
  const result = await lookupCustomer(db, query);
  if (result.kind === 'customer') return result.customer;
  const names = result.matches
    .slice(0, 5)
    .map((c) => `#${c.id} ${c.name}`)
    .join(', ');
  throw new UserError('ambiguous_customer', `${result.total} customers match "${clipText(query, 80)}" (${names}${result.total > 5 ? ', …' : ''}). Pick one from the suggestions or use its id.`);
}
