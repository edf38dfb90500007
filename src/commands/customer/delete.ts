import type { APIEmbed, ChatInputCommandInteraction } from 'discord.js';
import { UserError } from '../../shared/errors.js';
import { eraseCustomer, findErasedAt, previewErasure } from '../../domain/privacy/erasure.js';
import type { Actor } from '../../domain/customers/types.js';
import type { BotDeps } from '../context.js';
import { customId } from '../../discord/custom-ids.js';
import { DANGER_COLOR, SUCCESS_COLOR, discordDate, escapeText, field, fitEmbed, type View } from '../../discord/render/view.js';
import { resolveOneCustomer } from './resolve-customer.js';
import { confirmRow } from '../../discord/render/components.js';

export interface DeleteOptions {
  customer: string;
}

interface PendingErasure {
  kind: 'erase';
  customerId: number;
}

export function parseDeleteOptions(interaction: ChatInputCommandInteraction): DeleteOptions {
  return { customer: interaction.options.getString('customer', true) };
}

/**
 * Asks the admin to confirm an erasure, naming the customer: it cannot be undone. Only the same
 * admin can confirm, within the PendingActions lifetime; after a restart the command is asked again.
 */
export async function runDeletePreview(deps: BotDeps, actor: Actor, options: DeleteOptions): Promise<View> {
  const customer = await resolveOneCustomer(deps.db, options.customer);
  const erasedAt = await findErasedAt(deps.db, customer.id);
  if (erasedAt !== null) {
    return { content: `Customer #${customer.id} was already erased on ${discordDate(erasedAt, 'f')}; there is nothing left to erase.`, embeds: [], components: [] };
  }
  const kept = await previewErasure(deps.db, customer.id);
  const token = deps.pending.put(actor.id, { kind: 'erase', customerId: customer.id } satisfies PendingErasure);
  const embed: APIEmbed = {
    title: 'Erase customer',
    description: `Erase **${escapeText(customer.name)}** (${escapeText(customer.email)}, #${customer.id})? This cannot be undone.`,
    color: DANGER_COLOR,
    fields: [
      field('Removed', 'Name, email, country, linked Discord and Steam accounts, IP address, metadata, referral code, notes, support ticket subjects'),
      field(
        'Kept, anonymised',
        `${kept.ordersKept} ${kept.ordersKept === 1 ? 'order' : 'orders'} of any status (${kept.completedOrders} paid or completed) and their amounts, for accounting; the store figures do not change`,
      ),
      field('Also', 'Subscriptions are cancelled, Discord roles the bot gave are taken back, and bans on their email or ids keep working without storing them.'),
    ],
    footer: { text: 'Cancel any recurring billing for this customer in the store platform as well.' },
  };
  return {
    content: '',
    embeds: [fitEmbed(embed)],
    components: [confirmRow({ confirm: customId.eraseConfirm(token), cancel: customId.eraseCancel(token) }, 'Erase customer')],
  };
}

export async function runDeleteConfirm(deps: BotDeps, actor: Actor, token: string): Promise<View> {
  const pending = deps.pending.take<PendingErasure>(token, actor.id);
  if (pending?.kind !== 'erase') {
    throw new UserError('confirmation_expired', 'This confirmation has expired or belongs to someone else. Run /customer delete again.');
  }
  const result = await eraseCustomer(deps.db, deps.clock, { customerId: pending.customerId, actor });
  if (result.alreadyErased) {
    return { content: `Customer #${result.customerId} was already erased on ${discordDate(result.erasedAt, 'f')}; nothing was changed.`, embeds: [], components: [] };
  }
  deps.wakeRoleWorker?.();
  const c = result.counts;
  const lines = [
    `Orders kept (anonymised): ${c.ordersKept}`,
    `Subscriptions cancelled: ${c.subscriptionsCancelled}`,
    `Support tickets anonymised: ${c.supportTicketsAnonymized}`,
    `Notes deleted: ${c.notesDeleted}`,
    `Linked accounts removed: ${c.linkedAccountsRemoved}`,
    `Bans kept on hashed identifiers: ${c.bansPseudonymized}`,
    `Stored events, webhooks, alerts and log entries scrubbed: ${c.inboundEventsScrubbed + c.webhookDeliveriesScrubbed + c.staffAlertsScrubbed + c.activityEntriesRedacted}`,
  ];
  const fields = [
    field('Done', lines.join('\n')),
    field(
      'Discord roles',
      c.roleRemovalsQueued > 0 ? `${c.roleRemovalsQueued} role removal(s) queued; they are applied in the background (see the staff channel if one fails).` : 'None to take back.',
    ),
  ];
  if (result.exportFilesOnDisk.count > 0) {
    fields.push(
      field(
        'Earlier exports',
        `${result.exportFilesOnDisk.count} customer export(s) made before now are still downloadable until ${discordDate(result.exportFilesOnDisk.lastExpiresAt, 'f')} and may list this customer.`,
      ),
    );
  }
  return {
    content: '',
    embeds: [fitEmbed({ title: `Customer #${result.customerId} erased`, color: SUCCESS_COLOR, fields })],
    components: [],
  };
}

export function runDeleteCancel(deps: BotDeps, actor: Actor, token: string): View {
  deps.pending.take(token, actor.id);
  return { content: 'Erasure cancelled; nothing was changed.', embeds: [], components: [] };
}
