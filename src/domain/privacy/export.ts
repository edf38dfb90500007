import { zipSync } from 'fflate';
import { toCustomer } from '../../store/customer.repository.js';
import type { Db } from '../../store/database.js';
import type { BanType } from '../../shared/vocabulary.js';
import { recordActivity } from '../customers/activity-log.js';
import type { Clock } from '../../shared/clock.js';
import { computeStatistics } from '../customers/profile.js';
import { ERASED_VALUE_PREFIX } from './erased-identifiers.js';
import { UserError } from '../../shared/errors.js';
import { csvRecords } from '../exports/csv.js';
import { neutralizeFormula } from '../exports/customer-export.js';
import { findSubjectInboundEvents, loadDataSubject, type DataSubject } from './subject.js';
import { formatMoney } from '../../shared/money.js';
import type { Actor } from '../customers/types.js';

// GDPR access and portability: everything stored about one customer, for the
// customer. It is the data subject's own file, so it holds what staff never see — the last IP
// address, labelled as such — and leaves out what is not theirs to have: the password hash (a
// credential, not information about them), staff notes and ban reasons (internal notes, written
// by and about staff decisions, never shown to customers), who on the staff did what, and other
// customers (a referral shows ids only).

export const DATA_EXPORT_FORMAT_VERSION = 1;

export interface ExportedOrderItem {
  product_id: number | null;
  product_name: string;
  quantity: number;
  price: string;
}

export interface ExportedOrder {
  id: number;
  order_number: string;
  status: string;
  total: string;
  currency: string;
  created_at: string;
  completed_at: string | null;
  refunded_at: string | null;
  dispute: { status: string; opened_at: string | null; resolved_at: string | null } | null;
  items: ExportedOrderItem[];
}

export interface ExportedBan {
  type: BanType;
  /** The identifier banned (theirs); `customer account` for a ban on the account itself. */
  value: string;
  created_at: string;
  expires_at: string | null;
  lifted_at: string | null;
  active: boolean;
}

/**
 * Everything stored about one customer, as plain JSON-able data (snake_case, like the API). A type
 * rather than an interface so it is a plain JSON record to the API's response schema.
 */
export type CustomerDataExport = {
  export: {
    kind: 'customer_data';
    format_version: number;
    generated_at: string;
    explanations: Record<string, string>;
  };
  customer: {
    id: number;
    name: string;
    email: string;
    country: string | null;
    created_at: string;
    updated_at: string;
    erased_at: string | null;
  };
  security: {
    two_factor_enabled: boolean;
    last_seen_at: string | null;
    /** Personal data held for fraud prevention only: never shown to staff, only in this file. */
    last_ip: string | null;
  };
  linked_accounts: {
    discord: { id: string; username: string | null; avatar: string | null } | null;
    steam: { id: string; username: string | null; avatar: string | null } | null;
    game_user_id: string | null;
  };
  statistics: {
    total_orders: number;
    total_spent: string;
    average_order_value: string;
    first_order_at: string | null;
    last_order_at: string | null;
    support_tickets_count: number;
  };
  orders: ExportedOrder[];
  subscriptions: Array<{
    id: number;
    product_id: number | null;
    product_name: string | null;
    status: string;
    current_period_end: string | null;
    created_at: string;
    cancelled_at: string | null;
    failed_at: string | null;
  }>;
  support_tickets: Array<{ id: string; subject: string | null; status: string | null; created_at: string }>;
  referrals: { referral_code: string | null; referred_by: number | null; referred_customer_ids: number[] };
  metadata: Record<string, unknown>;
  bans: ExportedBan[];
  discord_roles: Array<{ guild_id: string; role_id: string; discord_user_id: string; state: string; updated_at: string }>;
  /** The store platform's purchase events about them, as received (the source of the orders above). */
  purchase_events: Array<{ id: string; event_type: string; received_at: string; status: string; payload: unknown }>;
};

const EXPLANATIONS: Record<string, string> = {
  security: 'last_ip is the address you were last seen from, kept only to prevent fraud.',
  bans: 'Restrictions on your account or identifiers, with their dates. Internal notes about them are not included.',
  referrals: 'Customers you referred are listed by their customer number only.',
  purchase_events: "The store's purchase notifications about you, as received; the orders above are built from them.",
  money: 'Amounts are decimal strings in the order currency.',
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function parseObject(text: string): Record<string, unknown> {
  const value = parseJson(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * Everything stored about one customer, for an access or portability request (GDPR art. 15, 20).
 * Unknown id → UserError `customer_not_found`. Reads only; see {@link buildCustomerDataFile} for
 * the file and the activity entry.
 */
export async function exportCustomerData(db: Db, clock: Clock, customerId: number): Promise<CustomerDataExport> {
  const subject = await loadDataSubject(db, customerId);
  if (!subject) throw new UserError('customer_not_found', `No customer has id ${customerId}.`);
  const { row } = subject;
  const customer = toCustomer(row);
  const statistics = computeStatistics(customer);

  const orderRows = await db.selectFrom('orders').selectAll().where('customer_id', '=', row.id).orderBy('created_at').orderBy('id').execute();
  const orderIds = orderRows.map((o) => o.id);
  const items = orderIds.length === 0 ? [] : await db.selectFrom('order_items').selectAll().where('order_id', 'in', orderIds).orderBy('id').execute();
  const disputes = orderIds.length === 0 ? [] : await db.selectFrom('order_disputes').selectAll().where('order_id', 'in', orderIds).execute();

  const subscriptions = await db
    .selectFrom('subscriptions')
    .leftJoin('products', 'products.id', 'subscriptions.product_id')
    .selectAll('subscriptions')
    .select('products.name as product_name')
    .where('subscriptions.customer_id', '=', row.id)
    .orderBy('subscriptions.created_at')
    .execute();
  const tickets = await db.selectFrom('support_tickets').selectAll().where('customer_id', '=', row.id).orderBy('created_at').execute();
  const referred = await db.selectFrom('customers').select('id').where('referred_by', '=', row.id).orderBy('id').execute();
  const roles = await db.selectFrom('role_assignments').selectAll().where('customer_id', '=', row.id).orderBy('id').execute();
  const events = await findSubjectInboundEvents(db, subject);

  return {
    export: { kind: 'customer_data', format_version: DATA_EXPORT_FORMAT_VERSION, generated_at: clock.now().toISOString(), explanations: EXPLANATIONS },
    customer: {
      id: row.id,
      name: row.name,
      email: row.email,
      country: row.country,
      created_at: row.created_at,
      updated_at: row.updated_at,
      erased_at: row.erased_at,
    },
    security: { two_factor_enabled: row.two_factor_enabled === 1, last_seen_at: row.last_seen_at, last_ip: row.last_ip },
    linked_accounts: {
      discord: row.discord_id ? { id: row.discord_id, username: row.discord_username, avatar: row.discord_avatar } : null,
      steam: row.steam_id ? { id: row.steam_id, username: row.steam_username, avatar: row.steam_avatar } : null,
      game_user_id: row.game_user_id,
    },
    statistics: {
      total_orders: statistics.totalOrders,
      total_spent: formatMoney(statistics.totalSpentCents),
      average_order_value: formatMoney(statistics.averageOrderValueCents),
      first_order_at: statistics.firstOrderAt,
      last_order_at: statistics.lastOrderAt,
      support_tickets_count: row.support_tickets_count,
    },
    orders: orderRows.map((o) => {
      const dispute = disputes.find((d) => d.order_id === o.id);
      return {
        id: o.id,
        order_number: o.order_number,
        status: o.status,
        total: formatMoney(o.total_cents),
        currency: o.currency,
        created_at: o.created_at,
        completed_at: o.completed_at,
        refunded_at: o.refunded_at,
        dispute: dispute ? { status: dispute.status, opened_at: dispute.opened_at, resolved_at: dispute.resolved_at } : null,
        items: items
          .filter((i) => i.order_id === o.id)
          .map((i) => ({ product_id: i.product_id, product_name: i.product_name, quantity: i.quantity, price: formatMoney(i.price_cents) })),
      };
    }),
    subscriptions: subscriptions.map((s) => ({
      id: s.id,
      product_id: s.product_id,
      product_name: s.product_name,
      status: s.status,
      current_period_end: s.current_period_end,
      created_at: s.created_at,
      cancelled_at: s.cancelled_at,
      failed_at: s.failed_at,
    })),
    support_tickets: tickets.map((t) => ({ id: t.id, subject: t.subject, status: t.status, created_at: t.created_at })),
    referrals: { referral_code: row.referral_code, referred_by: row.referred_by, referred_customer_ids: referred.map((r) => r.id) },
    metadata: parseObject(row.metadata),
    bans: await exportedBans(db, clock, subject),
    discord_roles: roles.map((r) => ({ guild_id: r.guild_id, role_id: r.role_id, discord_user_id: r.discord_user_id, state: r.state, updated_at: r.updated_at })),
    purchase_events: events.map((e) => ({ id: e.id, event_type: e.event_type, received_at: e.received_at, status: e.status, payload: parseJson(e.payload) })),
  };
}

/**
 * Bans on the account or on identifiers of theirs, active or not. IP bans are left out: they are
 * never tied to a customer (an address range is not a person), and listing the ones that happen
 * to cover their last address would reveal the fraud checks.
 */
async function exportedBans(db: Db, clock: Clock, subject: DataSubject): Promise<ExportedBan[]> {
  const { row } = subject;
  const gameIds = [...subject.steamIds, ...(row.game_user_id ? [row.game_user_id] : [])];
  const bans = await db
    .selectFrom('bans')
    .selectAll()
    .where('type', '!=', 'ip')
    .where((eb) =>
      eb.or([
        eb('customer_id', '=', row.id),
        eb.and([eb('type', '=', 'customer'), eb('value', '=', String(row.id))]),
        eb.and([eb('type', '=', 'email'), eb('value', '=', row.email_lower)]),
        ...(subject.discordIds.length ? [eb.and([eb('type', '=', 'discord'), eb('value', 'in', subject.discordIds)])] : []),
        ...(gameIds.length ? [eb.and([eb('type', '=', 'game_id'), eb('value', 'in', gameIds)])] : []),
      ]),
    )
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const nowIso = clock.now().toISOString();
  return bans.map((b) => ({
    type: b.type,
    value: b.type === 'customer' ? 'customer account' : b.value.startsWith(ERASED_VALUE_PREFIX) ? '(pseudonymised)' : b.value,
    created_at: b.created_at,
    expires_at: b.expires_at,
    lifted_at: b.lifted_at,
    active: b.lifted_at === null && (b.expires_at === null || b.expires_at > nowIso),
  }));
}

/** One CSV table: a header row, then the rows. Cells a spreadsheet would run as formulas are defused. */
export interface CsvTable {
  name: string;
  header: string[];
  rows: Array<Array<string | number | boolean | null>>;
}

const cell = (value: string | number | boolean | null | undefined): string | number =>
  value === null || value === undefined ? '' : typeof value === 'string' ? neutralizeFormula(value) : typeof value === 'boolean' ? (value ? 'yes' : 'no') : value;

const json = (value: unknown): string => (value === undefined ? '' : JSON.stringify(value));

/** The export as tables (one per section), for a CSV rendering. */
export function toCsvFiles(data: CustomerDataExport): CsvTable[] {
  const c = data.customer;
  const profile: Array<[string, string | number | boolean | null]> = [
    ['customer_id', c.id],
    ['name', c.name],
    ['email', c.email],
    ['country', c.country],
    ['registered_at', c.created_at],
    ['updated_at', c.updated_at],
    ['erased_at', c.erased_at],
    ['two_factor_enabled', data.security.two_factor_enabled],
    ['last_seen_at', data.security.last_seen_at],
    ['last_ip (fraud prevention only)', data.security.last_ip],
    ['discord_id', data.linked_accounts.discord?.id ?? null],
    ['discord_username', data.linked_accounts.discord?.username ?? null],
    ['steam_id', data.linked_accounts.steam?.id ?? null],
    ['steam_username', data.linked_accounts.steam?.username ?? null],
    ['game_user_id', data.linked_accounts.game_user_id],
    ['referral_code', data.referrals.referral_code],
    ['referred_by', data.referrals.referred_by],
    ['referred_customer_ids', data.referrals.referred_customer_ids.join(' ')],
    ['total_orders', data.statistics.total_orders],
    ['total_spent', data.statistics.total_spent],
    ['average_order_value', data.statistics.average_order_value],
    ['first_order_at', data.statistics.first_order_at],
    ['last_order_at', data.statistics.last_order_at],
    ['support_tickets_count', data.statistics.support_tickets_count],
    ['exported_at', data.export.generated_at],
  ];
  return [
    { name: 'profile', header: ['field', 'value'], rows: profile },
    {
      name: 'orders',
      header: ['order_id', 'order_number', 'status', 'total', 'currency', 'created_at', 'completed_at', 'refunded_at', 'dispute_status'],
      rows: data.orders.map((o) => [o.id, o.order_number, o.status, o.total, o.currency, o.created_at, o.completed_at, o.refunded_at, o.dispute?.status ?? null]),
    },
    {
      name: 'order_items',
      header: ['order_id', 'product_id', 'product_name', 'quantity', 'price'],
      rows: data.orders.flatMap((o) => o.items.map((i) => [o.id, i.product_id, i.product_name, i.quantity, i.price])),
    },
    {
      name: 'subscriptions',
      header: ['subscription_id', 'product_id', 'product_name', 'status', 'current_period_end', 'created_at', 'cancelled_at', 'failed_at'],
      rows: data.subscriptions.map((s) => [s.id, s.product_id, s.product_name, s.status, s.current_period_end, s.created_at, s.cancelled_at, s.failed_at]),
    },
    {
      name: 'support_tickets',
      header: ['ticket_id', 'subject', 'status', 'created_at'],
      rows: data.support_tickets.map((t) => [t.id, t.subject, t.status, t.created_at]),
    },
    { name: 'metadata', header: ['key', 'value'], rows: Object.entries(data.metadata).map(([k, v]) => [k, typeof v === 'string' ? v : json(v)]) },
    {
      name: 'bans',
      header: ['type', 'value', 'created_at', 'expires_at', 'lifted_at', 'active'],
      rows: data.bans.map((b) => [b.type, b.value, b.created_at, b.expires_at, b.lifted_at, b.active]),
    },
    {
      name: 'discord_roles',
      header: ['guild_id', 'role_id', 'discord_user_id', 'state', 'updated_at'],
      rows: data.discord_roles.map((r) => [r.guild_id, r.role_id, r.discord_user_id, r.state, r.updated_at]),
    },
    {
      name: 'purchase_events',
      header: ['event_id', 'event_type', 'received_at', 'status', 'payload_json'],
      rows: data.purchase_events.map((e) => [e.id, e.event_type, e.received_at, e.status, json(e.payload)]),
    },
  ];
}

/** One table as CSV text (no BOM). */
export function tableToCsv(table: CsvTable): string {
  return csvRecords([table.header, ...table.rows.map((r) => r.map(cell))]);
}

/**
 * The whole export as one CSV file, the simplest thing to hand a customer: each section is its
 * section name on a line of its own, its header, its rows, then a blank line. With a BOM, so a
 * spreadsheet reads it as UTF-8.
 */
export function toCsvDocument(data: CustomerDataExport): string {
  return '\uFEFF' + toCsvFiles(data).map((table) => csvRecords([[`[${table.name}]`]]) + tableToCsv(table)).join('\r\n');
}

export type DataExportFormat = 'json' | 'csv';

export interface CustomerDataFile {
  fileName: string;
  contentType: string;
  body: Buffer;
  data: CustomerDataExport;
}

/** `customer-42-data-2026-11-22.json` */
export function dataExportFileName(customerId: number, format: DataExportFormat | 'zip', now: Date): string {
  return `customer-${customerId}-data-${now.toISOString().slice(0, 10)}.${format}`;
}

/**
 * The export as a file in the asked format, and a `customer.data_export` activity entry (ids and
 * the format only). With `maxBytes`, a larger file is zipped, and a zip still too large is a
 * UserError `export_too_large`.
 */
export async function buildCustomerDataFile(
  db: Db,
  clock: Clock,
  input: { customerId: number; actor: Actor; format: DataExportFormat; via: 'discord' | 'api'; maxBytes?: number },
): Promise<CustomerDataFile> {
  const data = await exportCustomerData(db, clock, input.customerId);
  const now = clock.now();
  let fileName = dataExportFileName(input.customerId, input.format, now);
  let contentType = input.format === 'json' ? 'application/json; charset=utf-8' : 'text/csv; charset=utf-8';
  let body = Buffer.from(input.format === 'json' ? JSON.stringify(data, null, 2) + '\n' : toCsvDocument(data), 'utf8');
  let zipped = false;
  if (input.maxBytes !== undefined && body.length > input.maxBytes) {
    body = Buffer.from(zipSync({ [fileName]: [new Uint8Array(body), { level: 9 }] }));
    fileName = dataExportFileName(input.customerId, 'zip', now);
    contentType = 'application/zip';
    zipped = true;
    if (body.length > input.maxBytes) {
      throw new UserError('export_too_large', `The data of customer #${input.customerId} is ${(body.length / 2 ** 20).toFixed(1)} MB even zipped; use the API export instead.`);
    }
  }
  await recordActivity(db, clock, {
    actor: input.actor,
    action: 'customer.data_export',
    targetType: 'customer',
    targetId: input.customerId,
    details: { format: input.format, via: input.via, bytes: body.length, ...(zipped ? { zipped } : {}) },
  });
  return { fileName, contentType, body, data };
}
