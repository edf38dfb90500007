import type { Clock } from '../shared/clock.js';
import { addNote } from '../domain/customers/notes.js';
import type { Actor, OrderStatus } from '../domain/customers/types.js';
import { hasAnyCustomer, updateCustomer } from '../store/customer.repository.js';
import { insertCustomers, type NewCustomerInput } from '../domain/customers/registration.js';
import { inTransaction, type Db } from '../store/database.js';
import { hasAnyOrder, upsertOrder, type OrderInput } from '../store/order.repository.js';
import { addDigestHistory, DEFAULT_DEMO_SCHEDULE, type DemoDigestSchedule } from './demo-digest.js';

/** The staff member the demo notes are written by. */
export const DEMO_STAFF: Actor = { id: '100000000000000042', name: 'Demo Staff' };

const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

const FIRST_NAMES = [
  'Alice', 'Ben', 'Chloé', 'Daniel', 'Emma', 'Felix', 'Grace', 'Hugo', 'Isla', 'Jonas', 'Kai', 'Lena', 'Mateo',
  'Nora', 'Oliver', 'Paula', 'Quinn', 'Rafael', 'Sofia', 'Tom', 'Uma', 'Viktor', 'Wen', 'Yusuf', 'Zoe', 'Liam',
  'Mia', 'Noah', 'Ava', 'Lucas', 'Hannah', 'Leon', 'Marta', 'Piotr', 'Sven', 'Aiko', 'Diego', 'Fatima', 'Ivan',
];
const LAST_NAMES = [
  'Smith', 'Johnson', 'Moreau', 'Chen', 'Novak', 'Garcia', 'Müller', 'Rossi', 'Kowalski', 'Tanaka', 'Silva',
  'Brown', 'Lee', 'Martin', 'Dubois', 'Schmidt', 'Jansen', 'Andersson', 'Nguyen', 'Kim', "O'Brien", 'Fischer',
  'Lopez', 'Petrov', 'Haddad', 'Costa', 'Walker', 'Berg', 'Ivanova', 'Okafor',
];
const DOMAINS = ['gmail.com', 'outlook.com', 'proton.me', 'yahoo.com', 'gmx.de', 'example.net'];
const COUNTRIES = ['US', 'US', 'US', 'DE', 'DE', 'GB', 'GB', 'FR', 'CA', 'BR', 'PL', 'NL', 'SE', 'AU', 'ES'];
const TAG_WORDS = ['Swift', 'Dark', 'Iron', 'Lucky', 'Pixel', 'Frost', 'Crimson', 'Silent', 'Turbo', 'Mighty'];
const TAG_NOUNS = ['Fox', 'Wolf', 'Creeper', 'Miner', 'Raider', 'Knight', 'Falcon', 'Golem', 'Ninja', 'Builder'];

const PRODUCTS = [
  { id: 1, name: 'VIP Rank', priceCents: 999, maxQuantity: 1 },
  { id: 2, name: 'MVP Rank', priceCents: 2499, maxQuantity: 1 },
  { id: 3, name: 'Crate Key', priceCents: 249, maxQuantity: 10 },
  { id: 4, name: 'Monthly Supporter', priceCents: 499, maxQuantity: 1 },
  { id: 5, name: 'Legend Rank', priceCents: 4999, maxQuantity: 1 },
  { id: 6, name: 'Cosmetic Pack', priceCents: 749, maxQuantity: 3 },
] as const;

const NOTE_BODIES = [
  'Asked for a refund on a crate key bought by mistake; refunded as a one-off.',
  'VIP rank did not apply in-game at first; resolved after relog.',
  'Prefers to be contacted on Discord rather than email.',
  'Reported a bug in the survival server shop, passed to the dev team.',
  'Chargeback threatened over a duplicate payment; duplicate refunded.',
  'Long-time supporter, invited to the beta server.',
  'Changed Minecraft username; updated game id on request.',
  'Asked about gifting a rank to a friend.',
];

/** Orders with no predetermined shape draw a status from this table (weights out of 100). */
const STATUS_WEIGHTS: Array<[OrderStatus, number]> = [
  ['completed', 78],
  ['paid', 6],
  ['refunded', 6],
  ['pending', 4],
  ['cancelled', 3],
  ['failed', 2],
  ['disputed', 1],
];

type Profile = { orders: number; window: 'any' | 'recent' | 'lapsed'; statuses: 'mixed' | 'completed' };

/**
 * Fills an empty database with a deterministic, plausible store (same clock time and seed, same
 * data): customers registered over the last two years, ~60% with Discord, ~30% with Steam, orders
 * of a few products with some refunded or pending, referrals, support tickets and staff notes.
 * Some customers are fixed so demos can rely on them: exactly one Alice Johnson
 * (alice@example.com, a repeat customer), several other Alices, a loyal customer, an at-risk one
 * and a brand-new one. The weekly digest's past segment snapshots (see addDigestHistory) fill
 * its chart. A database that already has customers or orders is left alone (returns zeros).
 */
export async function seedDemoData(
  db: Db,
  clock: Clock,
  options: { customers?: number; seed?: number; digest?: DemoDigestSchedule } = {},
): Promise<{ customers: number; orders: number }> {
  const count = Math.max(0, Math.min(100_000, Math.trunc(options.customers ?? 300)));
  const random = mulberry32(options.seed ?? 1);
  const work = async (trx: Db) => {
    const existing = await hasAnyCustomer(trx);
    const existingOrder = await hasAnyOrder(trx);
    if (existing || existingOrder || count === 0) return { customers: 0, orders: 0 };
    const seeded = await seed(trx, clock.now().getTime(), count, random);
    await addDigestHistory(trx, clock.now().getTime(), options.digest ?? DEFAULT_DEMO_SCHEDULE);
    return seeded;
  };
  return inTransaction(db, work);
}

/** The seeded draws every step takes from, in one order, so the same seed always yields the same store. */
interface Draw {
  random: () => number;
  pick: <T>(items: readonly T[]) => T;
  between: (from: number, to: number) => number;
}

/** A customer's registration time and the order history they are given. */
type Plan = { createdAt: number; profile: Profile };

/** Keeps generated emails, Discord ids, Steam ids and referral codes unique across the store. */
type Used = { emails: Set<string>; snowflakes: Set<string>; steam: Set<string>; codes: Set<string> };

async function seed(db: Db, now: number, count: number, random: () => number): Promise<{ customers: number; orders: number }> {
  const draw: Draw = {
    random,
    pick: <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T,
    between: (from: number, to: number) => Math.floor(from + random() * Math.max(0, to - from)),
  };
  const { inputs, plans } = customerInputs(now, registrationTimes(now, count, draw), draw);
  const customers = await insertCustomers(db, { now: () => new Date(now) }, inputs);
  await addReferrals(db, customers, random);
  const orders = planOrders(customers, plans, now, draw);
  await insertOrders(db, orders);
  await addNotes(db, customers, plans, now, draw);
  return { customers: customers.length, orders: orders.length };
}

/**
 * Registration times, oldest first so ids follow registration as they do in a live store. The
 * two oldest are pinned far back: they carry the loyal and the at-risk story.
 */
function registrationTimes(now: number, count: number, { between }: Draw): number[] {
  const registered = [now - 730 * DAY, now - 725 * DAY];
  while (registered.length < count) registered.push(between(now - 720 * DAY, now - HOUR));
  registered.length = count;
  registered.sort((a, b) => a - b);
  return registered;
}

/** The customers demos rely on, by registration index: their order history and their names. */
function fixedStories(count: number): { profiles: Map<number, Profile>; names: Map<number, [string, string]> } {
  const profiles = new Map<number, Profile>([
    [0, { orders: 8, window: 'any', statuses: 'completed' }],
    [1, { orders: 3, window: 'lapsed', statuses: 'completed' }],
    [2, { orders: 3, window: 'recent', statuses: 'completed' }],
  ]);
  if (count > 3) profiles.set(count - 1, { orders: 0, window: 'any', statuses: 'completed' });
  const names = new Map<number, [string, string]>([
    [2, ['Alice', 'Johnson']],
    [Math.floor(count / 5) + 3, ['Alice', 'Moreau']],
    [Math.floor(count / 3) + 4, ['Alice', 'Chen']],
    [Math.floor(count / 2) + 5, ['Alice', 'Novak']],
  ]);
  return { profiles, names };
}

function customerInputs(now: number, registered: number[], draw: Draw): { inputs: NewCustomerInput[]; plans: Plan[] } {
  const stories = fixedStories(registered.length);
  const used: Used = { emails: new Set(['alice@example.com']), snowflakes: new Set(), steam: new Set(), codes: new Set() };
  const inputs: NewCustomerInput[] = [];
  const plans: Plan[] = [];
  registered.forEach((createdAt, i) => {
    inputs.push(customerInput(i, createdAt, now, stories.names.get(i), used, draw));
    plans.push({ createdAt, profile: stories.profiles.get(i) ?? randomProfile(draw.random) });
  });
  return { inputs, plans };
}

/** Customer number `i`; the third is always alice@example.com, and no one else is called Alice Johnson. */
function customerInput(
  i: number,
  createdAt: number,
  now: number,
  fixed: [string, string] | undefined,
  used: Used,
  draw: Draw,
): NewCustomerInput {
  const { random, pick, between } = draw;
  const first = fixed?.[0] ?? pick(FIRST_NAMES);
  let last = fixed?.[1] ?? pick(LAST_NAMES);
  while (first === 'Alice' && last === 'Johnson' && i !== 2) last = pick(LAST_NAMES);
  const email = i === 2 ? 'alice@example.com' : uniqueEmail(first, last, pick(DOMAINS), used.emails, random);
  const input: NewCustomerInput = {
    name: `${first} ${last}`,
    email,
    country: random() < 0.9 ? pick(COUNTRIES) : null,
    twoFactorEnabled: random() < 0.2,
    lastIp: random() < 0.5 ? `203.0.113.${between(1, 255)}` : `198.51.100.${between(1, 255)}`,
    lastSeenAt: new Date(between(createdAt, now)).toISOString(),
    referralCode: uniqueCode(used.codes, random),
    supportTicketsCount: random() < 0.08 ? between(1, 4) : 0,
    createdAt: new Date(createdAt).toISOString(),
  };
  addAccounts(input, createdAt, asciiFold(`${first}${last}`).toLowerCase().replace(/[^a-z0-9]/g, ''), used, draw);
  return input;
}

/** ~60% link Discord, ~30% Steam, some have a game id or metadata. */
function addAccounts(input: NewCustomerInput, createdAt: number, handle: string, used: Used, { random, pick, between }: Draw): void {
  if (random() < 0.6) {
    input.discord = {
      id: uniqueSnowflake(createdAt, used.snowflakes, random),
      username: `${handle}${random() < 0.5 ? '' : between(1, 999)}`,
      avatar: random() < 0.7 ? hex(32, random) : null,
    };
  }
  if (random() < 0.3) {
    input.steam = {
      id: uniqueSteamId(used.steam, random),
      username: `${pick(TAG_WORDS)}${pick(TAG_NOUNS)}`,
      avatar: random() < 0.8 ? hex(40, random) : null,
    };
  }
  if (random() < 0.35) input.gameUserId = `${pick(TAG_WORDS)}${pick(TAG_NOUNS)}${between(1, 99)}`;
  if (random() < 0.15) input.metadata = random() < 0.5 ? { source: 'tebex-import' } : { favouriteServer: pick(['survival', 'skyblock', 'prison']) };
}

/** Referrals point back at someone who registered earlier, as they must in a live store. */
async function addReferrals(db: Db, customers: Array<{ id: number }>, random: () => number): Promise<void> {
  for (let i = 10; i < customers.length; i++) {
    if (random() >= 0.12) continue;
    const referrer = customers[Math.floor(random() * i)];
    const customer = customers[i];
    if (referrer && customer) await updateCustomer(db, customer.id, { referred_by: referrer.id });
  }
}

type PlannedOrder = Omit<OrderInput, 'id' | 'orderNumber'>;

/** Every customer's orders, oldest first. */
function planOrders(customers: Array<{ id: number }>, plans: Plan[], now: number, draw: Draw): PlannedOrder[] {
  const orders: PlannedOrder[] = [];
  customers.forEach((customer, i) => {
    const plan = plans[i];
    if (!plan) return;
    const { profile, createdAt } = plan;
    const [from, to] = orderWindow(profile, createdAt, now);
    for (let n = 0; n < profile.orders; n++) {
      const placed = draw.between(from, to);
      const status = profile.statuses === 'completed' ? 'completed' : weightedStatus(draw.random);
      orders.push(buildOrder(customer.id, placed, status, now, draw));
    }
    // A fixed recent order keeps the "recent" and loyal stories true whatever the draws were.
    if (profile.window !== 'lapsed' && profile.orders >= 5) {
      orders.push(buildOrder(customer.id, now - draw.between(DAY, 20 * DAY), 'completed', now, draw));
    }
  });
  return orders.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}

/** When a customer's orders may be placed: lapsed ones stopped 120 days ago, recent ones began 60 days ago. */
function orderWindow(profile: Profile, createdAt: number, now: number): [number, number] {
  if (profile.window === 'lapsed') return [createdAt, Math.max(createdAt + HOUR, now - 120 * DAY)];
  if (profile.window === 'recent') return [Math.max(createdAt, now - 60 * DAY), now - HOUR];
  return [createdAt, now - HOUR];
}

/** Order ids and numbers follow placement time; each is stored as of its last change. */
async function insertOrders(db: Db, orders: PlannedOrder[]): Promise<void> {
  let orderId = 1000;
  for (const order of orders) {
    orderId += 1;
    const year = order.createdAt.slice(0, 4);
    const at = order.refundedAt ?? order.completedAt ?? order.createdAt;
    await upsertOrder(db, { now: () => new Date(at) }, { ...order, id: orderId, orderNumber: `ORD-${year}-${String(orderId).padStart(5, '0')}` });
  }
}

/** One staff note per ~20 customers; the first always on Alice Johnson (or the last customer of a tiny store). */
async function addNotes(db: Db, customers: Array<{ id: number }>, plans: Plan[], now: number, { random, pick, between }: Draw): Promise<void> {
  const count = plans.length;
  const noteCount = Math.max(1, Math.round(count / 20));
  for (let n = 0; n < noteCount; n++) {
    const index = n === 0 ? Math.min(2, count - 1) : Math.floor(random() * count);
    const customer = customers[index];
    const plan = plans[index];
    if (!customer || !plan) continue;
    const at = new Date(between(plan.createdAt, now));
    await addNote(db, { now: () => at }, { customerId: customer.id, author: DEMO_STAFF, body: pick(NOTE_BODIES) });
  }
}

function randomProfile(random: () => number): Profile {
  const r = random();
  const orders = r < 0.3 ? 0 : r < 0.55 ? 1 : r < 0.83 ? 2 + Math.floor(random() * 3) : 5 + Math.floor(random() * 8);
  return { orders, window: random() < 0.25 ? 'lapsed' : 'any', statuses: 'mixed' };
}

function buildOrder(customerId: number, placed: number, status: OrderStatus, now: number, { random, pick, between }: Draw): PlannedOrder {
  const lines = 1 + Math.floor(random() * (random() < 0.8 ? 1 : 3));
  const items: OrderInput['items'] = [];
  for (let l = 0; l < lines; l++) {
    const product = pick(PRODUCTS);
    if (items.some((item) => item.productId === product.id)) continue;
    items.push({ productId: product.id, productName: product.name, quantity: 1 + Math.floor(random() * product.maxQuantity), priceCents: product.priceCents });
  }
  const totalCents = items.reduce((sum, item) => sum + item.quantity * item.priceCents, 0);
  const paidAt = Math.min(now - 1000, placed + between(30_000, 10 * 60_000));
  const wasPaid = status === 'paid' || status === 'completed' || status === 'refunded' || status === 'disputed';
  return {
    customerId,
    status,
    totalCents,
    currency: 'USD',
    createdAt: new Date(placed).toISOString(),
    completedAt: wasPaid ? new Date(paidAt).toISOString() : null,
    refundedAt: status === 'refunded' ? new Date(Math.min(now - 1000, paidAt + between(HOUR, 14 * DAY))).toISOString() : null,
    items,
  };
}

function weightedStatus(random: () => number): OrderStatus {
  let roll = random() * 100;
  for (const [status, weight] of STATUS_WEIGHTS) {
    if (roll < weight) return status;
    roll -= weight;
  }
  return 'completed';
}

function uniqueEmail(first: string, last: string, domain: string, used: Set<string>, random: () => number): string {
  const local = asciiFold(`${first}.${last}`).toLowerCase().replace(/[^a-z0-9.]/g, '');
  let email = `${local}@${domain}`;
  while (used.has(email)) email = `${local}${1 + Math.floor(random() * 9999)}@${domain}`;
  used.add(email);
  return email;
}

// Discord ids encode their creation time: milliseconds since 2015-01-01 shifted left 22 bits.
const DISCORD_EPOCH = 1_420_070_400_000n;

function uniqueSnowflake(createdAt: number, used: Set<string>, random: () => number): string {
  let id: string;
  do {
    id = (((BigInt(createdAt) - DISCORD_EPOCH) << 22n) | BigInt(Math.floor(random() * 0x3fffff))).toString();
  } while (used.has(id));
  used.add(id);
  return id;
}

// SteamID64 of individual accounts: 76561197960265728 + account number, so always 7656119….
const STEAM_BASE = 76_561_197_960_265_728n;

function uniqueSteamId(used: Set<string>, random: () => number): string {
  let id: string;
  do {
    id = (STEAM_BASE + BigInt(1 + Math.floor(random() * 1_900_000_000))).toString();
  } while (used.has(id));
  used.add(id);
  return id;
}

const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function uniqueCode(used: Set<string>, random: () => number): string {
  let code: string;
  do {
    code = Array.from({ length: 8 }, () => CODE_ALPHABET[Math.floor(random() * 32)]).join('');
  } while (used.has(code));
  used.add(code);
  return code;
}

function hex(length: number, random: () => number): string {
  return Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join('');
}

function asciiFold(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

/** mulberry32: a tiny, fast, seedable PRNG; plenty for demo data (not for anything secret). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
