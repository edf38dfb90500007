import type { ChatInputCommandInteraction } from 'discord.js';
import { listBans } from '../../domain/bans/bans.js';
import { UserError } from '../../shared/errors.js';
import type { Actor, BanType } from '../../domain/customers/types.js';
import type { BotDeps } from '../context.js';
import { fetchPage } from '../components.js';
import { renderBansPage } from '../../discord/render/bans.js';
import type { View } from '../../discord/render/view.js';

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
  return loadBansPage(deps, options, token, 0);
}

export async function runBansPage(deps: BotDeps, actor: Actor, token: string, page: number): Promise<View> {
  const options = deps.pending.get<BansOptions>(token, actor.id);
  if (!options) throw new UserError('list_expired', 'This list has expired. Run /customer bans again.');
  return loadBansPage(deps, options, token, page);
}

async function loadBansPage(deps: BotDeps, options: BansOptions, token: string, requestedPage: number): Promise<View> {
  const query = { status: options.status, ...(options.type ? { type: options.type } : {}), ...(options.search ? { search: options.search } : {}) };
  const { page, pages, result } = await fetchPage(requestedPage, BANS_PER_PAGE, (offset, limit) => listBans(deps.db, deps.clock, { ...query, offset, limit }));
  return renderBansPage({ filters: options, token, page, pages, bans: result });
}
