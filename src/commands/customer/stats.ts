import type { ChatInputCommandInteraction } from 'discord.js';
import { getCustomerProfile } from '../../domain/customers/profile.js';
import { getStoreStatistics } from '../../domain/customers/statistics.js';
import type { BotDeps } from '../context.js';
import { renderCustomerStatistics, renderStoreStatistics } from '../../discord/render/stats.js';
import type { View } from '../../discord/render/view.js';
import { resolveOneCustomer } from './resolve-customer.js';

export interface StatsOptions {
  customer: string | undefined;
}

export function parseStatsOptions(interaction: ChatInputCommandInteraction): StatsOptions {
  return { customer: interaction.options.getString('customer') ?? undefined };
}

export async function runStats(deps: BotDeps, options: StatsOptions): Promise<View> {
  const { config } = deps;
  if (options.customer) {
    const customer = await resolveOneCustomer(deps.db, options.customer);
    const profile = await getCustomerProfile(deps.db, deps.clock, customer, { atRiskDays: config.atRiskDays });
    return renderCustomerStatistics(profile, config.storeCurrency);
  }
  const stats = await getStoreStatistics(deps.db, deps.clock, { timeZone: config.storeTimeZone, atRiskDays: config.atRiskDays });
  return renderStoreStatistics(stats, { currency: config.storeCurrency, atRiskDays: config.atRiskDays, timeZone: config.storeTimeZone });
}
