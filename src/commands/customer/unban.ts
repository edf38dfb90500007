import type { ChatInputCommandInteraction } from 'discord.js';
import { describeBan, liftBan, listBans } from '../../domain/bans/bans.js';
import { UserError } from '../../shared/errors.js';
import type { Actor } from '../../domain/customers/types.js';
import type { BotDeps } from '../context.js';
import { SUCCESS_COLOR, escapeText, fitEmbed, type View } from '../../discord/render/view.js';
import { clipText } from '../../shared/text.js';

export interface UnbanOptions {
  ban: string;
  reason: string | undefined;
}

export function parseUnbanOptions(interaction: ChatInputCommandInteraction): UnbanOptions {
  return { ban: interaction.options.getString('ban', true), reason: interaction.options.getString('reason') ?? undefined };
}

/** Finds the one active ban meant: `#12` / `12` by id, otherwise the banned value itself. */
async function findBanId(deps: BotDeps, text: string): Promise<number> {
  const trimmed = text.trim();
  const byId = /^#?(\d{1,12})$/.exec(trimmed);
  if (byId) return Number(byId[1]);
  const candidates = await listBans(deps.db, deps.clock, { search: trimmed, status: 'active', limit: 10 });
  const exact = candidates.items.filter((b) => b.value.toLowerCase() === trimmed.toLowerCase());
  const matches = exact.length ? exact : candidates.items;
  const only = matches.length === 1 ? matches[0] : undefined;
  if (only) return only.id;
  if (matches.length === 0) throw new UserError('ban_not_found', `No active ban matches "${clipText(trimmed, 80)}".`);
  throw new UserError('ambiguous_ban', `Several active bans match: ${matches.slice(0, 5).map((b) => `#${b.id} ${b.type} ${b.value}`).join(', ')}. Give the ban's #id.`);
}

export async function runUnban(deps: BotDeps, actor: Actor, options: UnbanOptions): Promise<View> {
  const banId = await findBanId(deps, options.ban);
  const ban = await liftBan(deps.db, deps.clock, { banId, actor, ...(options.reason ? { reason: options.reason } : {}) });
  return { content: '', embeds: [fitEmbed({ title: `Ban #${ban.id} lifted`, description: escapeText(describeBan(ban)), color: SUCCESS_COLOR })], components: [] };
}
