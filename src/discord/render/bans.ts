import type { APIEmbed } from 'discord.js';
import { describeBan } from '../../domain/bans/bans.js';
import type { Ban, BanType, Page } from '../../domain/customers/types.js';
import { customId } from '../custom-ids.js';
import { pagerRow } from './components.js';
import { BRAND_COLOR, escapeText, fitEmbed, type View } from './view.js';

/** One page of `/customer bans`, as its loader read it. */
export interface BansPageData {
  filters: { status: string; type: BanType | undefined; search: string | undefined };
  /** The pending-actions token the pager buttons carry. */
  token: string;
  page: number;
  pages: number;
  bans: Page<Ban>;
}

export function renderBansPage({ filters: options, token, page, pages, bans: result }: BansPageData): View {
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
