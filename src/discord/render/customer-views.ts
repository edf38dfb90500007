import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponent, type APIComponentInMessageActionRow, type APIEmbed } from 'discord.js';
import { describeBan } from '../../domain/bans/bans.js';
import type { Ban, Customer, CustomerProfile, Note, Order, OrderStatus, OrderWithItems, Page } from '../../domain/customers/types.js';
import { ORDER_STATUSES } from '../../shared/vocabulary.js';
import { customId } from '../custom-ids.js';
import { renderInitialsAvatar } from './avatar.js';
import { pagerRow } from './components.js';
import { displayMoney as money } from './money.js';
import { BRAND_COLOR, DANGER_COLOR, clip, discordDate, escapeText, field, fitEmbed, type View } from './view.js';

// The customer views drawn from what their loaders (src/commands/customer/customer-views.ts)
// read: plain data in, a View out, nothing read on the way.

type Row = APIActionRowComponent<APIComponentInMessageActionRow>;

const PROFILE_BANS = 3;

const SEGMENT_LABEL = { new: 'New', repeat: 'Repeat', loyal: 'Loyal' } as const;

export function discordAvatarUrl(discordId: string, avatar: string): string {
  const ext = avatar.startsWith('a_') ? 'gif' : 'png';
  return `https://cdn.discordapp.com/avatars/${discordId}/${avatar}.${ext}?size=128`;
}

function orderLine(order: Order): string {
  return `\`${order.orderNumber}\` · ${order.status} · ${money(order.totalCents, order.currency)} · ${discordDate(order.createdAt)}`;
}

function segmentLine(profile: CustomerProfile): string {
  const parts: string[] = [SEGMENT_LABEL[profile.segment]];
  if (profile.atRisk) parts.push('⚠️ At risk');
  const badges = profile.badges.length ? ` · badges: ${profile.badges.map((b) => `**${b}**`).join(', ')}` : '';
  return parts.join(' · ') + badges;
}

function linkedAccounts(customer: Customer): string {
  const lines: string[] = [];
  if (customer.discord) lines.push(`Discord: <@${customer.discord.id}>${customer.discord.username ? ` (${escapeText(customer.discord.username)})` : ''} · \`${customer.discord.id}\``);
  if (customer.steam)
    lines.push(`Steam: [${escapeText(customer.steam.username ?? customer.steam.id)}](https://steamcommunity.com/profiles/${customer.steam.id}) · \`${customer.steam.id}\``);
  if (customer.gameUserId) lines.push(`Game ID: \`${escapeText(customer.gameUserId)}\``);
  return lines.length ? lines.join('\n') : 'None linked';
}

function statisticsLines(profile: CustomerProfile, currency: string): string {
  const s = profile.statistics;
  const last = s.lastOrderAt ? `${s.lastOrderNumber ? `\`${s.lastOrderNumber}\` ` : ''}${discordDate(s.lastOrderAt)}` : 'never';
  const frequency = s.purchaseFrequencyDays === null ? '—' : `every ${s.purchaseFrequencyDays.toFixed(1)} days`;
  return [
    `Total orders (paid or completed): **${s.totalOrders}**`,
    `Total spent: **${money(s.totalSpentCents, currency)}**`,
    `Avg order: ${money(s.averageOrderValueCents, currency)}`,
    `Last order: ${last}`,
    `LTV: ${money(s.ltvCents, currency)} · Frequency: ${frequency}`,
  ].join('\n');
}

/**
 * The orders field's title. Total orders counts paid and completed orders only while the list
 * shows every status, so the title breaks the count down by status for staff to reconcile them.
 */
function recentOrdersTitle(byStatus: Partial<Record<OrderStatus, number>>, total: number): string {
  const parts = ORDER_STATUSES.flatMap((status) => (byStatus[status] ? [`${byStatus[status]} ${status}`] : []));
  return parts.length ? `Recent orders (${total} in all: ${parts.join(', ')})` : `Recent orders (${total})`;
}

function profileButtons(profile: CustomerProfile, orderTotal: number, noteTotal: number, erased: boolean): Row {
  const id = profile.customer.id;
  const buttons: APIButtonComponent[] = [
    { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: customId.orders(id, 0), label: `Orders (${orderTotal})`, disabled: orderTotal === 0 },
    { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: customId.notes(id, 0), label: `Notes (${noteTotal})`, disabled: noteTotal === 0 },
  ];
  // An erased customer takes no notes (addNote refuses); the button would only lead to a refusal.
  if (!erased) buttons.push({ type: ComponentType.Button, style: ButtonStyle.Primary, custom_id: customId.addNote(id), label: 'Add note' });
  buttons.push({ type: ComponentType.Button, style: ButtonStyle.Danger, custom_id: customId.banCustomer(id), label: 'Ban' });
  return { type: ComponentType.ActionRow, components: buttons };
}

function orderMenu(customerId: number, orders: Order[]): Row | undefined {
  if (orders.length === 0) return undefined;
  return {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.StringSelect,
        custom_id: customId.order(customerId),
        placeholder: 'Open an order…',
        options: orders.slice(0, 25).map((o) => ({
          label: clip(`${o.orderNumber} · ${money(o.totalCents, o.currency)}`, 100),
          description: clip(`${o.status} · ${o.createdAt.slice(0, 10)}`, 100),
          value: String(o.id),
        })),
      },
    ],
  };
}

/** Everything the profile shows, as its loader read it. */
export interface ProfileData {
  profile: CustomerProfile;
  /** The newest orders, with the total of all. */
  orders: Page<Order>;
  ordersByStatus: Partial<Record<OrderStatus, number>>;
  /** The newest notes, with the total of all. */
  notes: Page<Note>;
  activeBans: Ban[];
  erased: boolean;
  currency: string;
}

/** The full profile a staff member sees after a lookup: one embed, buttons for everything else. */
export function renderProfileView(data: ProfileData, notice?: string): View {
  const { profile, orders, ordersByStatus: byStatus, notes, activeBans: bans, erased, currency } = data;
  const { customer } = profile;
  const customerId = customer.id;

  const files: { attachment: Buffer; name: string }[] = [];
  let thumbnail: string;
  if (customer.discord?.avatar) {
    thumbnail = discordAvatarUrl(customer.discord.id, customer.discord.avatar);
  } else {
    files.push({ attachment: renderInitialsAvatar(customer.name, { key: String(customer.id) }), name: 'avatar.png' });
    thumbnail = 'attachment://avatar.png';
  }

  const embed: APIEmbed = {
    title: customer.name,
    description: [escapeText(customer.email), `Customer since ${discordDate(customer.createdAt, 'D')}${customer.country ? ` · ${customer.country}` : ''}`].join('\n'),
    color: bans.length ? DANGER_COLOR : BRAND_COLOR,
    thumbnail: { url: thumbnail },
    fields: [
      field('Segment', segmentLine(profile)),
      field('Statistics', statisticsLines(profile, currency)),
      field('Linked accounts', linkedAccounts(customer)),
      field(
        `Active bans (${bans.length})`,
        bans.length ? bans.slice(0, PROFILE_BANS).map((b) => escapeText(describeBan(b))).join('\n') + (bans.length > PROFILE_BANS ? `\n…and ${bans.length - PROFILE_BANS} more` : '') : 'None',
      ),
      field(
        `Latest notes (${notes.total})`,
        notes.items.length
          ? notes.items.map((n) => `${discordDate(n.createdAt)} **${escapeText(n.authorName)}**: ${escapeText(clip(n.body, 200))}`).join('\n')
          : 'No notes yet',
      ),
      field(recentOrdersTitle(byStatus, orders.total), orders.items.length ? orders.items.map(orderLine).join('\n') : 'No orders yet'),
    ],
    footer: { text: `Customer #${customer.id}${customer.supportTicketsCount ? ` · ${customer.supportTicketsCount} support tickets` : ''}${profile.referralsCount ? ` · referred ${profile.referralsCount}` : ''}` },
  };
  const components: Row[] = [profileButtons(profile, orders.total, notes.total, erased)];
  const menu = orderMenu(customerId, orders.items);
  if (menu) components.push(menu);
  return { content: notice ?? '', embeds: [fitEmbed(embed)], components, files, attachments: [] };
}

function backToProfile(customerId: number): APIButtonComponent {
  return { type: ComponentType.Button, style: ButtonStyle.Primary, custom_id: customId.profile(customerId), label: 'Back to profile' };
}

/** A one-embed view that replaces whatever the message showed before (files included). */
function embedView(embed: APIEmbed, components: Row[]): View {
  return { content: '', embeds: [fitEmbed(embed)], components, files: [], attachments: [] };
}

export interface OrdersPageData {
  customerId: number;
  customerName: string;
  page: number;
  pages: number;
  orders: Page<Order>;
}

export function renderOrdersView({ customerId, customerName, page, pages, orders }: OrdersPageData): View {
  const embed: APIEmbed = {
    title: `Orders of ${customerName}`,
    description: orders.items.length ? orders.items.map(orderLine).join('\n') : 'No orders yet.',
    color: BRAND_COLOR,
    footer: { text: `Page ${page + 1} of ${pages} · ${orders.total} orders · Customer #${customerId}` },
  };
  const components: Row[] = [pagerRow({ previous: customId.orders(customerId, page - 1), next: customId.orders(customerId, page + 1) }, page, pages, [backToProfile(customerId)])];
  const menu = orderMenu(customerId, orders.items);
  if (menu) components.push(menu);
  return embedView(embed, components);
}

export interface NotesPageData {
  customerId: number;
  customerName: string;
  page: number;
  pages: number;
  notes: Page<Note>;
  erased: boolean;
}

export function renderNotesView({ customerId, customerName, page, pages, notes, erased }: NotesPageData): View {
  const embed: APIEmbed = {
    title: `Notes on ${customerName}`,
    description: notes.items.length ? undefined : 'No notes yet.',
    color: BRAND_COLOR,
    fields: notes.items.map((n) => field(`${n.authorName} · ${n.createdAt.slice(0, 16).replace('T', ' ')} UTC`, escapeText(n.body))),
    footer: { text: `Page ${page + 1} of ${pages} · ${notes.total} notes · internal, never shown to the customer` },
  };
  const extra: APIButtonComponent[] = [backToProfile(customerId)];
  if (!erased) extra.push({ type: ComponentType.Button, style: ButtonStyle.Success, custom_id: customId.addNote(customerId), label: 'Add note' });
  const nav = pagerRow({ previous: customId.notes(customerId, page - 1), next: customId.notes(customerId, page + 1) }, page, pages, extra);
  return embedView(embed, [nav]);
}

export function renderOrderView(customerId: number, order: OrderWithItems): View {
  const items = order.items.length
    ? order.items.map((i) => `${i.quantity} × ${escapeText(i.productName)} — ${money(i.priceCents, order.currency)}`).join('\n')
    : 'No items recorded';
  const embed: APIEmbed = {
    title: `Order ${order.orderNumber}`,
    color: order.status === 'refunded' || order.status === 'disputed' ? DANGER_COLOR : BRAND_COLOR,
    fields: [
      field('Status', order.status, true),
      field('Total', `${money(order.totalCents, order.currency)}`, true),
      field('Placed', discordDate(order.createdAt, 'f'), true),
      field('Completed', discordDate(order.completedAt, 'f'), true),
      field('Refunded', discordDate(order.refundedAt, 'f'), true),
      field('Items', items),
    ],
    footer: { text: `Order id ${order.id} · Customer #${customerId}` },
  };
  return embedView(embed, [
    {
      type: ComponentType.ActionRow,
      components: [
        { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: customId.orders(customerId, 0), label: 'All orders' },
        backToProfile(customerId),
      ],
    },
  ]);
}

/** Several customers matched a free-text lookup: let staff pick one instead of retyping. */
export function renderMatchesView(query: string, matches: Customer[], total: number): View {
  const shown = matches.slice(0, 25);
  const embed: APIEmbed = {
    title: `${total} customers match "${clip(query, 80)}"`,
    description: shown.map((c) => `#${c.id} **${escapeText(c.name)}** · ${escapeText(c.email)} · ${c.ordersCount} ${c.ordersCount === 1 ? 'order' : 'orders'}`).join('\n'),
    color: BRAND_COLOR,
    footer: { text: total > shown.length ? `Showing the newest ${shown.length}; refine the search to narrow it.` : 'Pick one to open the profile.' },
  };
  return embedView(embed, [
    {
      type: ComponentType.ActionRow,
      components: [
        {
          type: ComponentType.StringSelect,
          custom_id: customId.pickCustomer(),
          placeholder: 'Open a customer…',
          options: shown.map((c) => ({ label: clip(c.name, 100), description: clip(`${c.email} · #${c.id}`, 100), value: String(c.id) })),
        },
      ],
    },
  ]);
}
