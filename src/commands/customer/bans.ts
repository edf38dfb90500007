import type { APIEmbed, ChatInputCommandInteraction } from 'discord.js';
import { describeBan, listBans } from '../../domain/bans/bans.js';
import { UserError } from '../../shared/errors.js';
import type { Actor, BanType } from '../../domain/customers/types.js';
import type { BotDeps } from '../context.js';
import { customId } from '../custom-ids.js';
import { fetchPage, pagerRow } from '../components.js';
import { BRAND_COLOR, escapeText, fitEmbed, type View } from '../../discord/render/view.js';

export const BANS_PER_PAGE = 10;
const STATUSES = ['active', 'expired', 'lifted', 'all'] as const;
type BanStatus = (typeof STATUSES)[number];

export interface BansOptions {
  status: BanStatus;
  type: BanType | undefined;
  search: string | undefined;
}

export function parseBansOptions(interaction: ChatInputCommandInteraction): BansOptions {
  const status = interaction.options.getString('status') ?? 'active';
  if (!(STATUSES as readonly string[]).includes(status)) throw new UserError('bad_status', `Status must be one of ${STATUSES.join(', ')}.`);
  return {
    status: status as BanStatus,
    type: (interaction.options.getString('type') as BanType | null) ?? undefined,
    search: interaction.options.getString('search')?.trim() || undefined,
  };
}

export async function runBans(deps: BotDeps, actor: Actor, options: BansOptions): Promise<View> {
  const token = deps.pending.put(actor.id, options);
  return renderBansPage(deps, options, token, 0);
}

export async function runBansPage(deps: BotDeps, actor: Actor, token: string, page: number): Promise<View> {
  const options = deps.pending.get<BansOptions>(token, actor.id);
  if (!options) throw new UserError('list_expired', 'This list has expired. Run /customer bans again.');
  return renderBansPage(deps, options, token, page);
}

async function renderBansPage(deps: BotDeps, options: BansOptions, token: string, requestedPage: number): Promise<View> {
  const query = { status: options.status, ...(options.type ? { type: options.type } : {}), ...(options.search ? { search: options.search } : {}) };
  const { page, pages, result } = await fetchPage(requestedPage, BANS_PER_PAGE, (offset, limit) => listBans(deps.db, deps.clock, { ...query, offset, limit }));
  const filters = [options.status, options.type, options.search ? `"${options.search}"` : undefined].filter(Boolean).join(' · ');
  const embed: APIEmbed = {
    title: `Bans (${result.total}) · ${filters}`,
    description: result.items.length ? result.items.map((b) => escapeText(describeBan(b))).join('\n') : 'No bans match.',
    color: BRAND_COLOR,
    footer: { text: `Page ${page + 1} of ${pages}` },
  };
  return {
    content: '',
    embeds: [fitEmbed(embed)],
    components: [pagerRow({ previous: customId.bansPage(token, page - 1), next: customId.bansPage(token, page + 1) }, page, pages)],
  };
}
