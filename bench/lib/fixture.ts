import type { NewCustomerInput } from '../../src/domain/customers/registration.js';
import type { OrderInput } from '../../src/store/order.repository.js';
import type { OrderStatus } from '../../src/domain/customers/types.js';
import { Rng } from './rng.js';

/**
 * What a generated store looks like. Everything is a pure function of (seed, index), so two runs
 * with the same seed build byte-for-byte the same customers and orders.
 */

/** The benchmark's "now": the data ends here and every time-dependent figure is computed at it. */
export const BENCH_NOW = '2026-11-22T12:00:00.000Z';
/** The store opened here; registrations and orders are spread from then to BENCH_NOW. */
export const STORE_OPENED = '2021-01-04T09:00:00.000Z';

const FIRST_NAMES = [
  'James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda', 'William', 'Elizabeth', 'David', 'Barbara',
  'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen', 'Daniel', 'Nancy', 'Matthew', 'Lisa',
  'Anthony', 'Betty', 'Mark', 'Sandra', 'Donald', 'Ashley', 'Steven', 'Emily', 'Paul', 'Donna', 'Andrew', 'Michelle',
  'Joshua', 'Carol', 'Kevin', 'Amanda', 'Brian', 'Melissa', 'George', 'Deborah', 'Timothy', 'Stephanie', 'Ryan', 'Rebecca',
  'Jacob', 'Laura', 'Gary', 'Sharon', 'Nicholas', 'Cynthia', 'Eric', 'Kathleen', 'Jonathan', 'Amy', 'Justin', 'Angela',
  'Lukas', 'Leon', 'Finn', 'Jonas', 'Elias', 'Noah', 'Lea', 'Hannah', 'Mia', 'Emma', 'Sofia', 'Lena', 'Jürgen', 'Jörg',
  'Björn', 'Søren', 'Mateusz', 'Jakub', 'Kacper', 'Zofia', 'Łukasz', 'Oliwia', 'Lucas', 'Gabriel', 'Mateus', 'Ana', 'João',
  'Maria', 'Camille', 'Léa', 'Chloé', 'Hugo', 'Théo', 'Louis', 'Zoë', 'Noémie', 'Pablo', 'Javier', 'Lucía', 'Martina',
  'Dmitri', 'Ivan', 'Olga', 'Anastasia', 'Mehmet', 'Emre', 'Elif', 'Yuki', 'Haruto', 'Sakura', 'Min-jun', 'Ji-woo', 'Wei',
  'Li', 'Arjun', 'Priya', 'Aditya', 'Oliver', 'Jack', 'Harry', 'Charlie', 'Freddie', 'Alfie', 'Isla', 'Ava', 'Grace',
  'Quinn', 'Xavier', 'Zachary', 'Yvonne', 'Quentin', 'Ximena', 'Kai', 'Aiden', 'Liam', 'Ethan', 'Mason', 'Logan',
];

const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez',
  'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson',
  'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright',
  'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green', 'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell',
  'Mitchell', 'Carter', 'Roberts', 'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker',
  'Schulz', 'Hoffmann', 'Nowak', 'Kowalski', 'Wiśniewski', 'Wójcik', 'Kowalczyk', 'Silva', 'Santos', 'Oliveira', 'Souza',
  'Pereira', 'Dubois', 'Moreau', 'Laurent', 'Lefèvre', 'Fernández', 'González', 'Ivanov', 'Petrov', 'Smirnov', 'Yılmaz',
  'Kaya', 'Demir', 'Sato', 'Suzuki', 'Takahashi', 'Kim', 'Park', 'Choi', 'Wang', 'Zhang', 'Chen', 'Patel', 'Sharma',
  'Singh', 'Jensen', 'Nielsen', 'Hansen', 'Andersson', 'Johansson', 'Virtanen', 'Novák', 'Horváth', 'Rossi', 'Russo',
  'Bianchi', 'Romano', 'Quigley', 'Xu', 'Zhou', 'Young', 'Vance', 'Oakley', 'Underwood', 'Ellis', 'Fox', 'Gray',
];

const HANDLE_HEADS = [
  'Dark', 'Shadow', 'Silent', 'Frost', 'Iron', 'Night', 'Toxic', 'Lucky', 'Crazy', 'Epic', 'Pixel', 'Turbo', 'Mega', 'Ultra',
  'Cyber', 'Neon', 'Storm', 'Blaze', 'Ghost', 'Rapid', 'Savage', 'Mystic', 'Hyper', 'Atomic', 'Cosmic', 'Lunar', 'Solar',
  'Wild', 'Grim', 'Royal', 'Sneaky', 'Salty', 'Noob', 'Pro', 'Sir', 'Captain', 'Lord', 'Baron', 'xX', 'Mr', 'The',
];
const HANDLE_TAILS = [
  'Wolf', 'Sniper', 'Dragon', 'Knight', 'Gamer', 'Hunter', 'Ninja', 'Reaper', 'Viper', 'Falcon', 'Titan', 'Rogue', 'Miner',
  'Crafter', 'Builder', 'Slayer', 'Raider', 'Phoenix', 'Panda', 'Fox', 'Bear', 'Tiger', 'Shark', 'Zombie', 'Creeper',
  'Potato', 'Toast', 'Pickle', 'Llama', 'Goose', 'Byte', 'Bot', 'Blade', 'Arrow', 'Spark', 'Nova', 'Rex', 'Ace', 'Zed',
];

/** Mailbox providers by share of customers; the rest use a long tail of their own domains. */
const DOMAINS: ReadonlyArray<readonly [string, number]> = [
  ['gmail.com', 44],
  ['yahoo.com', 9],
  ['hotmail.com', 9],
  ['outlook.com', 8],
  ['icloud.com', 6],
  ['gmx.de', 3],
  ['web.de', 2],
  ['proton.me', 3],
  ['mail.ru', 2],
  ['yandex.ru', 1],
  ['hotmail.co.uk', 2],
  ['live.com', 2],
  ['aol.com', 1],
  ['*', 6],
];
const TAIL_DOMAIN_WORDS = ['craft', 'games', 'net', 'home', 'mail', 'family', 'studio', 'tech', 'cloud', 'web', 'box', 'online'];
const TAIL_TLDS = ['com', 'net', 'org', 'de', 'co.uk', 'fr', 'pl', 'nl', 'io', 'se', 'com.br', 'es'];

const COUNTRIES: ReadonlyArray<readonly [string | null, number]> = [
  ['US', 28], ['DE', 12], ['GB', 8], ['BR', 7], ['FR', 5], ['PL', 5], ['RU', 4], ['CA', 4], ['NL', 3], ['SE', 2], ['AU', 3],
  ['TR', 2], ['ES', 2], ['IT', 2], ['MX', 2], ['JP', 1], ['KR', 1], ['IN', 2], ['DK', 1], ['FI', 1], ['CZ', 1], [null, 8],
];

export interface Product {
  id: number;
  name: string;
  priceCents: number;
  /** Sold in quantities (crate keys, coins) rather than one at a time. */
  stackable: boolean;
  subscription: boolean;
}

export const PRODUCTS: readonly Product[] = [
  ['VIP Rank', 999], ['VIP+ Rank', 1999], ['MVP Rank', 2999], ['MVP+ Rank', 4999], ['Legend Rank', 7999], ['Titan Rank', 14999],
  ['Crate Key', 249, true], ['Legendary Crate Key', 599, true], ['1,000 Coins', 499, true], ['5,000 Coins', 1999, true],
  ['Pet: Dragon', 1299], ['Pet: Panda', 799], ['Trail: Flames', 399], ['Trail: Hearts', 299], ['Kit: Builder', 699],
  ['Kit: Warrior', 899], ['Unban Appeal Fee', 1499], ['Name Colour', 199], ['Private Vault', 999], ['Home Slots +5', 499],
  ['Discord Booster Perks', 0], ['Spring Bundle', 2499], ['Summer Bundle', 2999], ['Halloween Bundle', 1999],
  ['Winter Bundle', 3499], ['Supporter (monthly)', 499, false, true], ['Supporter+ (monthly)', 999, false, true],
  ['Server Sponsor (monthly)', 2499, false, true], ['Battle Pass S1', 999], ['Battle Pass S2', 999], ['Battle Pass S3', 999],
  ['Battle Pass S4', 1099], ['Battle Pass S5', 1099], ['Emote Pack', 349], ['Cosmetic Hat', 249], ['Cape: Founder', 1999],
  ['Land Claim +1,000', 599], ['Fly Perk (30 days)', 799], ['Custom Tag', 399], ['Gift Card $25', 2500],
].map(([name, priceCents, stackable, subscription], index) => ({
  id: index + 1,
  name: name as string,
  priceCents: priceCents as number,
  stackable: Boolean(stackable),
  subscription: Boolean(subscription),
}));

const ONE_TIME_PRODUCTS = PRODUCTS.filter((p) => !p.subscription);
export const SUBSCRIPTION_PRODUCTS = PRODUCTS.filter((p) => p.subscription);

const DAY = 86_400_000;
const nowMs = Date.parse(BENCH_NOW);
const openedMs = Date.parse(STORE_OPENED);

function stripDiacritics(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ł/g, 'l')
    .replace(/Ł/g, 'L')
    .replace(/ø/g, 'o')
    .replace(/ı/g, 'i');
}

/** Registration time of customer `index` (0-based) of `count`: the store grows, so later months are busier. */
export function registrationTime(index: number, count: number, rng: Rng): number {
  const u = (index + 0.5) / count;
  // u^0.75: sign-ups per day rise over the years; a few hours of jitter keeps ids and times loosely coupled.
  const t = openedMs + (nowMs - 2 * DAY - openedMs) * Math.pow(u, 0.75) + rng.int(-6, 6) * 3_600_000;
  return Math.min(nowMs - DAY, Math.max(openedMs, t));
}

export interface GeneratedCustomer {
  input: NewCustomerInput;
  createdAtMs: number;
}

/**
 * Customer `index` (0-based). `takenEmails` keeps emails unique across the store (the generator
 * adds digits on a clash, as people do); `referrerMax` is the highest id that already exists.
 */
export function generateCustomer(
  seed: number,
  index: number,
  count: number,
  takenEmails: Set<string>,
  referrerMax: number,
  passwordHash: string,
): GeneratedCustomer {
  const rng = new Rng(seed * 7919 + index);
  const createdAtMs = Math.floor(registrationTime(index, count, rng));
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const handle = `${rng.pick(HANDLE_HEADS)}${rng.pick(HANDLE_TAILS)}${rng.chance(0.6) ? rng.int(1, 9999) : ''}`;
  const style = rng.weighted([
    ['full', 55],
    ['handle', 25],
    ['first', 8],
    ['lower', 7],
    ['handle-full', 5],
  ] as const);
  const name =
    style === 'full'
      ? `${first} ${last}`
      : style === 'handle'
        ? handle
        : style === 'first'
          ? first
          : style === 'lower'
            ? `${first} ${last}`.toLowerCase()
            : `${first} "${handle}" ${last}`;

  const plainFirst = stripDiacritics(first).toLowerCase().replace(/[^a-z]/g, '');
  const plainLast = stripDiacritics(last).toLowerCase().replace(/[^a-z]/g, '');
  const plainHandle = handle.toLowerCase();
  const localStyle = rng.weighted([
    ['first.last', 30],
    ['firstlast', 15],
    ['f.last', 8],
    ['first_last', 6],
    ['handle', 30],
    ['first', 11],
  ] as const);
  let local =
    localStyle === 'first.last'
      ? `${plainFirst}.${plainLast}`
      : localStyle === 'firstlast'
        ? `${plainFirst}${plainLast}`
        : localStyle === 'f.last'
          ? `${plainFirst.slice(0, 1)}.${plainLast}`
          : localStyle === 'first_last'
            ? `${plainFirst}_${plainLast}`
            : localStyle === 'handle'
              ? plainHandle
              : plainFirst;
  if (rng.chance(0.45)) local += String(rng.int(1, 2010));
  const provider = rng.weighted(DOMAINS);
  const domain = provider === '*' ? `${plainLast || 'my'}${rng.pick(TAIL_DOMAIN_WORDS)}.${rng.pick(TAIL_TLDS)}` : provider;
  let email = `${local}@${domain}`;
  for (let attempt = 0; takenEmails.has(email); attempt++) {
    email = `${local}${attempt < 3 ? rng.int(10, 99999) : index}@${domain}`;
  }
  takenEmails.add(email);
  // Some people type their address with capitals; the store compares emails case-insensitively.
  if (rng.chance(0.04)) email = email.slice(0, 1).toUpperCase() + email.slice(1);

  const discordLinked = rng.chance(0.45);
  const steamLinked = rng.chance(0.25);
  const joinedDiscordMs = createdAtMs - rng.int(0, 900) * DAY;
  const input: NewCustomerInput = {
    name,
    email,
    country: rng.weighted(COUNTRIES),
    discord: discordLinked
      ? {
          // A snowflake carries its creation time; the low bits (worker, sequence) keep it unique.
          id: ((BigInt(Math.floor(Math.max(joinedDiscordMs, 1_430_000_000_000)) - 1_420_070_400_000) << 22n) | BigInt(index & 0x3fffff)).toString(),
          username: `${plainHandle.replace(/[^a-z0-9]/g, '')}_${rng.int(0, 999)}`,
          avatar: rng.chance(0.7) ? rng.hex(32) : null,
        }
      : null,
    steam: steamLinked
      ? { id: String(76_561_198_000_000_000n + BigInt(index) * 7n + 3n), username: rng.chance(0.5) ? handle : `${first}${rng.int(1, 99)}`, avatar: rng.hex(40) }
      : null,
    gameUserId: rng.chance(0.3) ? handle : null,
    passwordHash: rng.chance(0.35) ? passwordHash : null,
    lastIp: rng.chance(0.7) ? `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}` : null,
    lastSeenAt: new Date(createdAtMs + rng.next() * (nowMs - createdAtMs)).toISOString(),
    twoFactorEnabled: rng.chance(0.15),
    referredBy: referrerMax > 0 && rng.chance(0.04) ? rng.int(1, referrerMax) : null,
    metadata: rng.chance(0.1) ? { source: rng.pick(['website', 'launcher', 'discord', 'import']), newsletter: rng.chance(0.5) } : undefined,
    createdAt: new Date(createdAtMs).toISOString(),
  };
  return { input, createdAtMs };
}

/**
 * How many orders each customer places: about 40% never buy, most buyers buy a handful of times,
 * and a long tail buys hundreds of times; scaled so the store holds exactly `totalOrders`.
 */
export function orderCounts(seed: number, customers: number, totalOrders: number): Uint32Array {
  const rng = new Rng(seed * 104_729 + 17);
  const counts = new Uint32Array(customers);
  const buyerShare = 0.6;
  const perBuyer = Math.max(1, totalOrders / (customers * buyerShare));
  // ceil(lognormal) with σ = 1.1 has a mean of about exp(μ + σ²/2) + 0.5.
  const sigma = 1.1;
  const mu = Math.log(Math.max(0.6, perBuyer - 0.5)) - (sigma * sigma) / 2;
  const buyers: number[] = [];
  let sum = 0;
  for (let i = 0; i < customers; i++) {
    if (!rng.chance(buyerShare)) continue;
    const k = Math.min(400, Math.max(1, Math.ceil(Math.exp(mu + sigma * rng.normal()))));
    counts[i] = k;
    sum += k;
    buyers.push(i);
  }
  if (buyers.length === 0 && totalOrders > 0) {
    buyers.push(0);
  }
  while (sum < totalOrders) {
    const i = buyers[Math.floor(rng.next() * buyers.length)] ?? 0;
    counts[i] = (counts[i] ?? 0) + 1;
    sum++;
  }
  while (sum > totalOrders) {
    const i = buyers[Math.floor(rng.next() * buyers.length)] ?? 0;
    if ((counts[i] ?? 0) > 1) {
      counts[i] = (counts[i] ?? 0) - 1;
      sum--;
    }
  }
  return counts;
}

/** The orders of one customer, ids from `firstOrderId` on, dated between registration and BENCH_NOW. */
export function generateOrders(seed: number, customerIndex: number, customerId: number, createdAtMs: number, count: number, firstOrderId: number): OrderInput[] {
  if (count === 0) return [];
  const rng = new Rng(seed * 15_485_863 + customerIndex);
  // Half the buyers stop buying at some point (many of them long enough ago to be at risk).
  const stopsAtMs = rng.chance(0.5) ? createdAtMs + rng.next() * (nowMs - createdAtMs) : nowMs - 60_000;
  const times: number[] = [];
  for (let k = 0; k < count; k++) times.push(createdAtMs + 60_000 + rng.next() * Math.max(60_000, stopsAtMs - createdAtMs - 60_000));
  times.sort((a, b) => a - b);
  const orders: OrderInput[] = [];
  for (let k = 0; k < count; k++) {
    const id = firstOrderId + k;
    const createdMs = times[k] ?? createdAtMs;
    const status: OrderStatus = rng.weighted([
      ['completed', 86],
      ['paid', 2],
      ['refunded', 4],
      ['pending', 2],
      ['failed', 3],
      ['cancelled', 2],
      ['disputed', 1],
    ] as const);
    const lines = rng.weighted([
      [1, 75],
      [2, 20],
      [3, 5],
    ] as const);
    const items: OrderInput['items'] = [];
    for (let l = 0; l < lines; l++) {
      const product = rng.pick(ONE_TIME_PRODUCTS);
      const quantity = product.stackable ? rng.pick([1, 1, 2, 3, 5, 10]) : 1;
      items.push({ productId: product.id, productName: product.name, quantity, priceCents: product.priceCents });
    }
    const totalCents = items.reduce((sum, item) => sum + item.priceCents * item.quantity, 0);
    const paid = status === 'completed' || status === 'paid' || status === 'refunded' || status === 'disputed';
    const completedMs = createdMs + rng.int(5, 600) * 1000;
    orders.push({
      id,
      orderNumber: `ORD-${new Date(createdMs).getUTCFullYear()}-${String(id).padStart(7, '0')}`,
      customerId,
      status,
      totalCents,
      currency: 'USD',
      createdAt: new Date(createdMs).toISOString(),
      completedAt: paid ? new Date(completedMs).toISOString() : null,
      refundedAt: status === 'refunded' ? new Date(Math.min(nowMs, completedMs + rng.int(1, 30) * DAY)).toISOString() : null,
      items,
    });
  }
  return orders;
}
