import { findCustomerById, findOtherCustomerWithAccount, updateCustomer } from '../../store/customer.repository.js';
import { inTransaction, type Db } from '../../store/database.js';
import { markLinkSessionUsed } from '../../store/link-session.repository.js';
import type { LinkProvider } from '../../store/schema/index.js';
import { recordActivity } from '../customers/activity-log.js';
import { checkIdentifiers } from '../bans/bans.js';
import type { Clock } from '../../shared/clock.js';
import { GENERIC_REFUSAL, UserError } from '../../shared/errors.js';
import { countryForIp } from '../customers/geoip.js';
import type { Actor, Customer } from '../customers/types.js';

/** What changed when a customer linked an account, for the role side (grant to the new id, revoke from the old). */
export interface CustomerLinkedChange {
  provider: LinkProvider;
  /** The id linked before, or null; equal to `newId` when the same account was linked again. */
  previousId: string | null;
  newId: string;
}

/** Called inside the link transaction; throwing rolls the link back. */
export type CustomerLinkedHook = (trx: Db, customerId: number, change: CustomerLinkedChange) => Promise<void>;

/** An external account as its provider described it. */
export interface ExternalAccount {
  id: string;
  username: string | null;
  avatar: string | null;
}

export interface CompleteLinkInput {
  sessionId: number;
  customerId: number;
  provider: LinkProvider;
  account: ExternalAccount;
  /** The address the customer linked from: sets `country` when it resolves, and `last_ip`. */
  ip: string | null;
  onCustomerLinked?: CustomerLinkedHook | undefined;
}

export interface CompletedLink {
  customer: Customer;
  previousId: string | null;
}

const USERNAME_MAX_LENGTH = 100;

/** The customer as actor: they linked their own account (staff cannot link for them). */
export function customerActor(customerId: number): Actor {
  return { id: `customer:${customerId}`, name: 'customer' };
}

function clean(text: string | null, max: number): string | null {
  const trimmed = text?.replace(/\p{Cc}/gu, '').trim() ?? '';
  if (trimmed === '') return null;
  const chars = [...trimmed];
  return chars.length <= max ? trimmed : chars.slice(0, max).join('');
}

/**
 * Links a verified external account to the customer of a link session, in one transaction: spends
 * the session, refuses (UserError) a banned identity (`link_banned`, whose message is the generic
 * refusal), an account already linked to another customer (`discord_taken` / `steam_taken`) and a
 * session spent or expired meanwhile (`link_used`), replaces a previously linked account, records
 * the country and address seen, writes the activity entry and calls the hook. A refusal changes nothing.
 */
export async function completeLink(db: Db, clock: Clock, input: CompleteLinkInput): Promise<CompletedLink> {
  const { provider, account, customerId } = input;
  return inTransaction(db, async (trx) => {
    const nowIso = clock.now().toISOString();
    if (!(await markLinkSessionUsed(trx, input.sessionId, provider, nowIso))) {
      throw new UserError('link_used', 'This link has already been used or has expired.');
    }
    const before = await findCustomerById(trx, customerId);
    if (!before) throw new UserError('customer_not_found', `No customer with id ${customerId}.`);

    // The customer's own account (and its other identifiers), the new account and the address
    // they come from: any active ban refuses, and the customer is told only the generic text.
    const check = await checkIdentifiers(trx, clock, {
      customerId,
      ip: input.ip ?? undefined,
      ...(provider === 'discord' ? { discordId: account.id } : { steamId: account.id }),
    });
    if (!check.allowed) throw new UserError('link_banned', GENERIC_REFUSAL);

    const column = provider === 'discord' ? 'discord_id' : 'steam_id';
    if ((await findOtherCustomerWithAccount(trx, column, account.id, customerId)) !== undefined) throw takenError(provider);

    const previousId = provider === 'discord' ? (before.discord?.id ?? null) : (before.steam?.id ?? null);
    const username = clean(account.username, USERNAME_MAX_LENGTH);
    const country = input.ip ? countryForIp(input.ip) : null;
    try {
      await updateCustomer(trx, customerId, {
        ...(provider === 'discord'
          ? { discord_id: account.id, discord_username: username, discord_avatar: account.avatar }
          : { steam_id: account.id, steam_username: username, steam_avatar: account.avatar }),
        ...(country ? { country } : {}),
        ...(input.ip ? { last_ip: input.ip } : {}),
        last_seen_at: nowIso,
        updated_at: nowIso,
      });
    } catch (error) {
      // Another customer linked the same account between our probe and our write.
      if (/unique/i.test(String(error)) && String(error).includes(column)) throw takenError(provider);
      throw error;
    }

    await recordActivity(trx, clock, {
      actor: customerActor(customerId),
      action: `customer.link_${provider}`,
      targetType: 'customer',
      targetId: customerId,
      details: { accountId: account.id, previousAccountId: previousId },
    });
    await input.onCustomerLinked?.(trx, customerId, { provider, previousId, newId: account.id });

    const customer = await findCustomerById(trx, customerId);
    if (!customer) throw new Error(`customer ${customerId} vanished inside its own link transaction`);
    return { customer, previousId };
  });
}

function takenError(provider: LinkProvider): UserError {
  return provider === 'discord'
    ? new UserError('discord_taken', 'This Discord account is already linked to another store account.')
    : new UserError('steam_taken', 'This Steam account is already linked to another store account.');
}
