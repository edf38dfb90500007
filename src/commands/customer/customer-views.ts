import { findActiveBansForCustomer } from '../../domain/bans/bans.js';
import { getCustomerProfile } from '../../domain/customers/profile.js';
import { listNotes } from '../../domain/customers/notes.js';
import { findErasedAt } from '../../domain/privacy/erasure.js';
import { UserError } from '../../shared/errors.js';
import { countOrdersByStatus, getOrderWithItems, listOrdersForCustomer } from '../../store/order.repository.js';
import { renderNotesView, renderOrdersView, renderOrderView, renderProfileView, type ProfileData } from '../../discord/render/customer-views.js';
import type { View } from '../../discord/render/view.js';
import type { BotDeps } from '../context.js';
import { fetchPage } from '../components.js';

// The customer views' loaders: each reads what its view shows, once, and hands the plain data to
// its renderer in src/discord/render/customer-views.ts.

export const ORDERS_PER_PAGE = 10;
export const NOTES_PER_PAGE = 5;
const PROFILE_ORDERS = 5;
const PROFILE_NOTES = 3;

export async function loadProfile(deps: BotDeps, customerId: number): Promise<ProfileData> {
  const { db, clock, config } = deps;
  const profile = await getCustomerProfile(db, clock, customerId, { atRiskDays: config.atRiskDays });
  const [orders, ordersByStatus, notes, activeBans, erasedAt] = await Promise.all([
    listOrdersForCustomer(db, customerId, { offset: 0, limit: PROFILE_ORDERS }),
    countOrdersByStatus(db, customerId),
    listNotes(db, customerId, { offset: 0, limit: PROFILE_NOTES }),
    findActiveBansForCustomer(db, clock, customerId),
    findErasedAt(db, customerId),
  ]);
  return { profile, orders, ordersByStatus, notes, activeBans, erased: erasedAt !== null, currency: config.storeCurrency };
}

/** The full profile a staff member sees after a lookup. */
export async function buildProfileView(deps: BotDeps, customerId: number, notice?: string): Promise<View> {
  return renderProfileView(await loadProfile(deps, customerId), notice);
}

async function customerName(deps: BotDeps, customerId: number): Promise<string> {
  const profile = await getCustomerProfile(deps.db, deps.clock, customerId, { atRiskDays: deps.config.atRiskDays });
  return profile.customer.name;
}

export async function buildOrdersView(deps: BotDeps, customerId: number, requestedPage: number): Promise<View> {
  const name = await customerName(deps, customerId);
  const { page, pages, result: orders } = await fetchPage(requestedPage, ORDERS_PER_PAGE, (offset, limit) => listOrdersForCustomer(deps.db, customerId, { offset, limit }));
  return renderOrdersView({ customerId, customerName: name, page, pages, orders });
}

export async function buildNotesView(deps: BotDeps, customerId: number, requestedPage: number): Promise<View> {
  const name = await customerName(deps, customerId);
  const { page, pages, result: notes } = await fetchPage(requestedPage, NOTES_PER_PAGE, (offset, limit) => listNotes(deps.db, customerId, { offset, limit }));
  const erased = (await findErasedAt(deps.db, customerId)) !== null;
  return renderNotesView({ customerId, customerName: name, page, pages, notes, erased });
}

export async function buildOrderView(deps: BotDeps, customerId: number, orderId: number): Promise<View> {
  const order = await getOrderWithItems(deps.db, orderId);
  if (!order || order.customerId !== customerId) throw new UserError('order_not_found', `No order ${orderId} for customer #${customerId}.`);
  return renderOrderView(customerId, order);
}
