import type { ChatInputCommandInteraction } from 'discord.js';
import { lookupCustomer } from '../../domain/customers/lookup.js';
import type { BotDeps } from '../context.js';
import type { View } from '../../discord/render/view.js';
import { renderMatchesView } from '../../discord/render/customer-views.js';
import { buildProfileView } from './customer-views.js';

export interface LookupOptions {
  query: string;
}

export function parseLookupOptions(interaction: ChatInputCommandInteraction): LookupOptions {
  return { query: interaction.options.getString('query', true) };
}

export async function runLookup(deps: BotDeps, options: LookupOptions): Promise<View> {
  const result = await lookupCustomer(deps.db, options.query);
  if (result.kind === 'customer') return buildProfileView(deps, result.customer.id);
  return renderMatchesView(options.query, result.matches, result.total);
}
