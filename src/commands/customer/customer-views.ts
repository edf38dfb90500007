import { findActiveBansForCustomer } from '../../domain/bans/bans.js';
import { getCustomerProfile } from '../../domain/customers/profile.js';
import { listNotes } from '../../domain/customers/notes.js';
import { UserError } from '../../shared/errors.js';
import { countOrdersByStatus, getOrderWithItems, listOrdersForCustomer } from '../../store/order.repository.js';
import { findCustomerById, findCustomerRecordById, type CustomerRecord } from '../../store/customer.repository.js';
import { renderNotesView, renderOrdersView, renderOrderView, renderProfileView, type ProfileData } from '../../discord/render/customer-views.js';
import type { View } from '../../discord/render/view.js';
import type { BotDeps } from '../context.js';
import { fetchPage } from '../components.js';

// The customer views' loaders: each reads what its view shows, once, and hands the plain data to
// its renderer in src/discord/render/customer-views.ts. The customer row is read once per view
// and its parts passed down (test/commands/view-reads.test.ts counts the reads).

export const ORDERS_PER_PAGE = 10;
export const NOTES_PER_PAGE = 5;
const PROFILE_ORDERS = 5;
const PROFILE_NOTES = 3;

export async function loadProfile(deps: BotDeps, customerId: number): Promise<ProfileData> {
  const { db, clock, config } = deps;
  const { customer, banIdentity, erasedAt } = await customerRecord(deps, customerId);
  const [profile, orders, ordersByStatus, notes, activeBans] = await Promise.all([
    getCustomerProfile(db, clock, customer, { atRiskDays: config.atRiskDays }),
    listOrdersForCustomer(db, customerId, { offset: 0, limit: PROFILE_ORDERS }),
    countOrdersByStatus(db, customerId),
    listNotes(db, customerId, { offset: 0, limit: PROFILE_NOTES }),
    findActiveBansForCustomer(db, clock, banIdentity),
  ]);
  return { profile, orders, ordersByStatus, notes, activeBans, erased: erasedAt !== null, currency: config.storeCurrency };
}

/** The full profile a staff member sees after a lookup. */
export async function buildProfileView(deps: BotDeps, customerId: number, notice?: string): Promise<View> {
  return renderProfileView(await loadProfile(deps, customerId), notice);
}

function notFound(customerId: number): UserError {
  return new UserError('customer_not_found', `No customer with id ${customerId}.`);
}

async function customerRecord(deps: BotDeps, customerId: number): Promise<CustomerRecord> {
  const record = await findCustomerRecordById(deps.db, customerId);
  if (!record) throw notFound(customerId);
  return record;
}

export async function buildOrdersView(deps: BotDeps, customerId: number, requestedPage: number): Promise<View> {
  const customer = await findCustomerById(deps.db, customerId);
  if (!customer) throw notFound(customerId);
  const { page, pages, result: orders } = await fetchPage(requestedPage, ORDERS_PER_PAGE, (offset, limit) => listOrdersForCustomer(deps.db, customerId, { offset, limit }));
  return renderOrdersView({ customerId, customerName: customer.name, page, pages, orders });
}

export async function buildNotesView(deps: BotDeps, customerId: number, requestedPage: number): Promise<View> {
  const { customer, erasedAt } = await customerRecord(deps, customerId);
  const { page, pages, result: notes } = await fetchPage(requestedPage, NOTES_PER_PAGE, (offset, limit) => listNotes(deps.db, customerId, { offset, limit }));
  return renderNotesView({ customerId, customerName: customer.name, page, pages, notes, erased: erasedAt !== null });
}

export async function buildOrderView(deps: BotDeps, customerId: number, orderId: number): Promise<View> {
  const order = await getOrderWithItems(deps.db, orderId);
  if (!order || order.customerId !== customerId) throw new UserError('order_not_found', `No order ${orderId} for customer #${customerId}.`);
  return renderOrderView(customerId, order);
}
