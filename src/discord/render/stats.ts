import type { APIEmbed } from 'discord.js';
import type { CustomerProfile, StoreStatistics } from '../../domain/customers/types.js';
import { displayMoney } from './money.js';
import { BRAND_COLOR, discordDate, field, fitEmbed, type View } from './view.js';

// `/customer stats`, drawn from what src/commands/customer/stats.ts read.

const count = (n: number) => n.toLocaleString('en-US');

export function renderCustomerStatistics(profile: CustomerProfile, currency: string): View {
  const { customer } = profile;
  const s = profile.statistics;
  const embed: APIEmbed = {
    title: `Statistics · ${customer.name}`,
    color: BRAND_COLOR,
    fields: [
      field('Total orders (paid or completed)', count(s.totalOrders), true),
      field('Total spent', displayMoney(s.totalSpentCents, currency), true),
      field('Avg order', displayMoney(s.averageOrderValueCents, currency), true),
      field('Last order', s.lastOrderAt ? `${s.lastOrderNumber ?? ''} ${discordDate(s.lastOrderAt)}`.trim() : 'never', true),
      field('Lifetime value', displayMoney(s.ltvCents, currency), true),
      field('Purchase frequency', s.purchaseFrequencyDays === null ? '—' : `every ${s.purchaseFrequencyDays.toFixed(1)} days`, true),
      field('Segment', `${profile.segment}${profile.atRisk ? ' · at risk' : ''}`, true),
      field('First order', discordDate(s.firstOrderAt), true),
      field('Customer since', discordDate(customer.createdAt), true),
    ],
    footer: { text: `Customer #${customer.id}` },
  };
  return { content: '', embeds: [fitEmbed(embed)], components: [] };
}

/** The store's figures; `atRiskDays` and `timeZone` are the settings they were counted with. */
export function renderStoreStatistics(stats: StoreStatistics, settings: { currency: string; atRiskDays: number; timeZone: string }): View {
  const { currency, atRiskDays, timeZone } = settings;
  const embed: APIEmbed = {
    title: 'Store statistics',
    color: BRAND_COLOR,
    fields: [
      field('Total customers', count(stats.totalCustomers), true),
      // Each label says what it counts: the digest beside it splits customers into New (0–1
      // orders), Repeat (2–4) and Loyal (5+), and "Repeat customers" here also holds the loyal.
      field('New this month (registered)', count(stats.newThisMonth), true),
      field('With orders (1+ orders)', count(stats.withOrders), true),
      field('Repeat customers (2+ orders)', count(stats.repeatCustomers), true),
      field('Loyal customers (5+ orders)', count(stats.loyalCustomers), true),
      field(`At risk (no order in ${atRiskDays} days)`, count(stats.atRisk), true),
      field('Completed orders', count(stats.totalOrders), true),
      field('Revenue', displayMoney(stats.revenueCents, currency), true),
      field('Average order value', displayMoney(stats.averageOrderValueCents, currency), true),
    ],
    footer: { text: `Months follow the store time zone (${timeZone}).` },
  };
  return { content: '', embeds: [fitEmbed(embed)], components: [] };
}
