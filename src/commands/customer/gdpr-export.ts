import type { ChatInputCommandInteraction } from 'discord.js';
import { UserError } from '../../shared/errors.js';
import { DEFAULT_MAX_EXPORT_BYTES } from '../../domain/exports/customer-export.js';
import { buildCustomerDataFile, type DataExportFormat } from '../../domain/privacy/export.js';
import type { Actor } from '../../domain/customers/types.js';
import type { BotDeps } from '../context.js';
import type { View } from '../../discord/render/view.js';
import { resolveOneCustomer } from './resolve-customer.js';

export interface GdprExportOptions {
  customer: string;
  format: DataExportFormat;
}

export function parseGdprExportOptions(interaction: ChatInputCommandInteraction): GdprExportOptions {
  const format = interaction.options.getString('format') ?? 'json';
  if (format !== 'json' && format !== 'csv') throw new UserError('bad_option', 'format must be json or csv.');
  return { customer: interaction.options.getString('customer', true), format };
}

/**
 * A data-access request (GDPR art. 15/20): everything stored about one customer as a file for
 * the admin to hand over. The reply itself shows counts only: the file holds the customer's last
 * IP address, which staff never see anywhere else.
 */
export async function runGdprExport(deps: BotDeps, actor: Actor, options: GdprExportOptions): Promise<View> {
  const customer = await resolveOneCustomer(deps.db, options.customer);
  const file = await buildCustomerDataFile(deps.db, deps.clock, {
    customerId: customer.id,
    actor,
    format: options.format,
    via: 'discord',
    maxBytes: deps.exportUploadLimitBytes ?? DEFAULT_MAX_EXPORT_BYTES,
  });
  const { data } = file;
  const counts = [
    `${data.orders.length} orders`,
    `${data.subscriptions.length} subscriptions`,
    `${data.support_tickets.length} support tickets`,
    `${data.bans.length} bans`,
    `${data.purchase_events.length} purchase events`,
  ].join(', ');
  return {
    content:
      `📦 Data export for customer #${customer.id} (${options.format.toUpperCase()}${file.contentType === 'application/zip' ? ', zipped' : ''}): ${counts}.\n` +
      'Send it to the customer privately and do not keep copies: it contains their last IP address. Staff notes are not included.',
    embeds: [],
    components: [],
    files: [{ attachment: file.body, name: file.fileName }],
    attachments: [],
  };
}
