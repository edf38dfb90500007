import type { APIEmbed, ChatInputCommandInteraction } from 'discord.js';
import { createBan, describeBan, previewBan } from '../../domain/bans/bans.js';
import { UserError } from '../../shared/errors.js';
import type { Actor } from '../../domain/customers/types.js';
import { BAN_TYPES, type BanType } from '../../shared/vocabulary.js';
import type { BotDeps } from '../context.js';
import { customId } from '../../discord/custom-ids.js';
import { DANGER_COLOR, SUCCESS_COLOR, discordDate, escapeText, field, fitEmbed, type View } from '../../discord/render/view.js';
import { resolveOneCustomer } from './resolve-customer.js';
import { confirmRow } from '../../discord/render/components.js';

export interface BanRequest {
  type: BanType;
  target: string;
  duration: string;
  reason: string;
}

export function parseBanOptions(interaction: ChatInputCommandInteraction): BanRequest {
  const type = interaction.options.getString('type', true);
  if (!(BAN_TYPES as readonly string[]).includes(type)) throw new UserError('bad_ban_type', `Ban type must be one of ${BAN_TYPES.join(', ')}.`);
  return {
    type: type as BanType,
    target: interaction.options.getString('target', true),
    duration: interaction.options.getString('duration', true),
    reason: interaction.options.getString('reason', true),
  };
}

/**
 * Validates the ban and shows what it will do with Confirm / Cancel: a ban is never written
 * by a single mis-click. The request waits in PendingActions for the same staff member.
 */
export async function runBanPreview(deps: BotDeps, actor: Actor, request: BanRequest): Promise<View> {
  const resolved = request.type === 'customer' ? { ...request, target: String((await resolveOneCustomer(deps.db, request.target)).id) } : request;
  const preview = await previewBan(deps.db, deps.clock, { ...resolved, actor });
  const token = deps.pending.put(actor.id, resolved);
  const covered = preview.customer ? `#${preview.customer.id} ${escapeText(preview.customer.name)} (${escapeText(preview.customer.email)})` : 'No known customer';
  const coverage = preview.ipCoverage;
  const seen = coverage && `${coverage.knownCustomers} known customer${coverage.knownCustomers === 1 ? '' : 's'}`;
  const coverageFields = !coverage
    ? []
    : coverage.wide
      ? [field('⚠️ Very wide range', `This bans **${coverage.addresses}**, and ${seen} ${coverage.knownCustomers === 1 ? 'was' : 'were'} last seen from one of them. A whole provider or country may sit in a range this wide.`)]
      : [field('Covers', `${coverage.addresses} · ${seen}`)];
  const embed: APIEmbed = {
    title: 'Confirm ban',
    color: DANGER_COLOR,
    fields: [
      field('Type', preview.type, true),
      field('Target', `\`${preview.value}\``, true),
      field('Duration', preview.expiresAt ? `${preview.durationLabel} (until ${discordDate(preview.expiresAt, 'f')})` : preview.durationLabel, true),
      field('Customer', covered),
      ...coverageFields,
      field('Reason (internal)', escapeText(resolved.reason)),
    ],
    footer: {
      text:
        preview.type === 'customer'
          ? "A customer ban also covers the account's email and every linked ID. The customer only ever sees a generic error."
          : 'The customer only ever sees a generic error, never that they are banned.',
    },
  };
  return {
    content: '',
    embeds: [fitEmbed(embed)],
    components: [confirmRow({ confirm: customId.banConfirm(token), cancel: customId.banCancel(token) }, coverage?.wide ? `Ban all ${coverage.addresses}` : 'Confirm ban')],
  };
}

export async function runBanConfirm(deps: BotDeps, actor: Actor, token: string): Promise<View> {
  const request = deps.pending.take<BanRequest>(token, actor.id);
  if (!request) throw new UserError('confirmation_expired', 'This confirmation has expired or belongs to someone else. Run /customer ban again.');
  const ban = await createBan(deps.db, deps.clock, { ...request, actor });
  return {
    content: '',
    embeds: [fitEmbed({ title: `Ban #${ban.id} created`, description: escapeText(describeBan(ban)), color: SUCCESS_COLOR })],
    components: [],
  };
}

export function runBanCancel(deps: BotDeps, actor: Actor, token: string): View {
  deps.pending.take(token, actor.id);
  return { content: 'Ban cancelled; nothing was changed.', embeds: [], components: [] };
}
