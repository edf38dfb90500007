import { composeStoreEvent, signStoreEventRequest, type StoreEventDraft } from '../domain/purchases/compose.js';
import { findSubscription } from '../domain/purchases/apply.js';
import { hasPendingRoleJobFor } from '../domain/roles/sync.js';
import type { HttpApp } from '../http/app.js';
import type { Clock } from '../shared/clock.js';
import { formatMoney } from '../shared/money.js';
import { findCustomerByDiscordId, findCustomerByEmail, findCustomerById } from '../store/customer.repository.js';
import type { Db } from '../store/database.js';
import { findInboundEvent } from '../store/purchase-event.repository.js';
import { findOrderByNumber, lastPriceOfProduct, listProducts } from '../store/order.repository.js';
import type { LocalDiscord } from './local-discord/index.js';

// The store's side of the sandbox: `store purchase alice@example.com VIP Rank` sends the event
// the store's checkout would, signed with the session's secret, through the bot's own HTTP app,
// then waits for the bot to apply it so the owner sees the Discord role arrive (or leave).

export const STORE_HELP = `The store's side (signed purchase events, as the store sends them):
  store purchase <customer> <product>      an order paid and completed (customer: email, #id or Discord id)
  store refund <order number>
  store chargeback <order number> [won|lost]   opened, or resolved with its outcome
  store subscription start <customer> <product>
  store subscription renew|cancel|fail|expire <subscription id>
  store ticket <customer> <subject>`;

export interface SandboxStoreDeps {
  db: Db;
  clock: Clock;
  http: Pick<HttpApp, 'inject'>;
  discord: LocalDiscord;
  guildId: string;
  secret: string;
  /** Role names by id, for saying which role came or went. */
  roleNames: ReadonlyMap<string, string>;
}

const SETTLE_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

const SUBSCRIPTION_STEPS: Record<string, StoreEventDraft['type']> = {
  renew: 'subscription.renewed',
  cancel: 'subscription.cancelled',
  fail: 'subscription.payment_failed',
  expire: 'subscription.expired',
};

/** The handler of the prompt's `store …` lines: what it prints, line by line. */
export function sandboxStoreCommand(deps: SandboxStoreDeps): (words: string) => Promise<string> {
  return async (words) => {
    const [verb = '', ...rest] = words.trim().split(/\s+/).filter(Boolean);
    switch (verb) {
      case 'purchase': {
        const [who, ...product] = rest;
        if (who === undefined || product.length === 0) return 'Say who buys what: store purchase alice@example.com VIP Rank';
        const customer = await customerFor(deps.db, who);
        const item = await productFor(deps.db, product.join(' '));
        return send(deps, { type: 'order.completed', ...customer, ...item }, customer.discordId);
      }
      case 'refund':
      case 'chargeback': {
        const [order, outcome] = rest;
        if (order === undefined) return `Say which order: store ${verb} ORD-123 (the number a purchase printed)`;
        const stored = await findOrderByNumber(deps.db, order);
        // The bot would wait for an order it has not seen (the store may send a refund first);
        // at this prompt that is a typo.
        if (!stored) return `No order "${order}" in the store: use the number a purchase printed, or one from /customer lookup.`;
        const buyer = stored.customerId === null ? undefined : await findCustomerById(deps.db, stored.customerId);
        const type = verb === 'refund' ? 'order.refunded' : outcome === undefined ? 'dispute.created' : 'dispute.resolved';
        return send(deps, { type, order, outcome }, buyer?.discord?.id);
      }
      case 'subscription':
        return subscription(deps, rest);
      case 'ticket': {
        const [who, ...subject] = rest;
        if (who === undefined) return 'Say who asks: store ticket alice@example.com Where is my rank?';
        const customer = await customerFor(deps.db, who);
        return send(deps, { type: 'ticket.created', ...customer, subject: subject.join(' ') || undefined }, undefined);
      }
      default:
        return STORE_HELP;
    }
  };
}

async function subscription(deps: SandboxStoreDeps, [step = '', ...rest]: string[]): Promise<string> {
  if (step === 'start') {
    const [who, ...product] = rest;
    if (who === undefined || product.length === 0) return 'Say who subscribes to what: store subscription start alice@example.com Monthly Supporter';
    const customer = await customerFor(deps.db, who);
    return send(deps, { type: 'subscription.created', ...customer, ...(await productFor(deps.db, product.join(' '))) }, customer.discordId);
  }
  const type = SUBSCRIPTION_STEPS[step];
  const id = rest[0];
  if (type === undefined || id === undefined || !/^\d{1,15}$/.test(id)) return STORE_HELP;
  const subscribed = await findSubscription(deps.db, Number(id));
  const subscriber = subscribed?.customerId == null ? undefined : await findCustomerById(deps.db, subscribed.customerId);
  if (!subscribed || !subscriber) return `No subscription ${id}: start one with store subscription start <customer> <product>`;
  return send(deps, { type, subscription: id, customer: subscriber.email, productId: subscribed.productId ?? undefined }, subscriber.discord?.id);
}

/** A known customer by email, #id or Discord id; an unknown email is a new customer. */
async function customerFor(db: Db, who: string): Promise<Pick<StoreEventDraft, 'customer' | 'customerName' | 'discordId'>> {
  const id = /^#?(\d{1,15})$/.exec(who)?.[1];
  const known = who.includes('@')
    ? await findCustomerByEmail(db, who)
    : /^\d{17,20}$/.test(who)
      ? await findCustomerByDiscordId(db, who)
      : id !== undefined
        ? await findCustomerById(db, Number(id))
        : undefined;
  if (!known) {
    if (who.includes('@')) return { customer: who };
    throw new Error(`No customer "${who}": name one by email, #id or Discord id`);
  }
  return { customer: known.email, customerName: known.name, discordId: known.discord?.id };
}

/** A product of the store by id or by (the start of) its name, priced as it last sold. */
async function productFor(db: Db, text: string): Promise<Pick<StoreEventDraft, 'product' | 'productId' | 'amount'>> {
  const products = await listProducts(db);
  const wanted = text.toLowerCase();
  const product =
    products.find((p) => String(p.id) === text) ??
    products.find((p) => p.name.toLowerCase() === wanted) ??
    products.find((p) => p.name.toLowerCase().startsWith(wanted));
  if (!product) throw new Error(`No product "${text}": the store sells ${products.map((p) => `${p.name} (${p.id})`).join(', ')}`);
  const last = await lastPriceOfProduct(db, product.id);
  return { product: product.name, productId: product.id, ...(last !== undefined ? { amount: formatMoney(last) } : {}) };
}

async function send(deps: SandboxStoreDeps, draft: StoreEventDraft, discordId: string | undefined): Promise<string> {
  const now = deps.clock.now();
  const event = composeStoreEvent(draft, now);
  const request = signStoreEventRequest(event, deps.secret, now);
  const rolesBefore = discordId ? deps.discord.memberRoles(deps.guildId, discordId) : [];
  const response = await deps.http.inject({ method: 'POST', url: '/webhooks/store', headers: request.headers, payload: request.body });
  const lines = [`Store → bot: ${event.summary}. HTTP ${response.statusCode} ${response.body}`];
  if (response.statusCode !== 200) return lines.join('\n');

  const applied = await until(async () => {
    const row = await findInboundEvent(deps.db, event.id);
    return row && row.status !== 'pending' ? { status: row.status, last_error: row.lastError } : undefined;
  });
  if (!applied) return [...lines, 'The bot has not applied it yet (it retries events whose order or customer it has not seen).'].join('\n');
  lines.push(applied.status === 'processed' ? 'The bot applied it.' : `The bot ${applied.status} it${applied.last_error ? `: ${applied.last_error}` : ''}.`);
  if (!discordId) return lines.join('\n');

  await until(async () => ((await hasPendingRoleJobFor(deps.db, discordId)) ? undefined : true));
  const rolesAfter = deps.discord.memberRoles(deps.guildId, discordId);
  const name = (id: string) => deps.roleNames.get(id) ?? id;
  const given = rolesAfter.filter((r) => !rolesBefore.includes(r)).map(name);
  const taken = rolesBefore.filter((r) => !rolesAfter.includes(r)).map(name);
  if (given.length) lines.push(`Discord: <@${discordId}> was given ${given.join(', ')}.`);
  if (taken.length) lines.push(`Discord: ${taken.join(', ')} taken from <@${discordId}>.`);
  if (!given.length && !taken.length) {
    lines.push(`Discord: no role of <@${discordId}> changed (no rule for the product, a role already held, or a banned customer).`);
  }
  return lines.join('\n');
}

async function until<T>(probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
