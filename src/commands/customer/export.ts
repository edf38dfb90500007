import type { ChatInputCommandInteraction } from 'discord.js';
import { rm } from 'node:fs/promises';
import { recordActivity } from '../../domain/activity-log.js';
import { iterateCustomers, listCustomers } from '../../domain/customer-list.js';
import { UserError } from '../../domain/errors.js';
import { exportFileName, writeCustomerExport } from '../../domain/export/customer-export.js';
import type { Actor, CustomerFilter, CustomerListQuery, CustomerSort } from '../../domain/types.js';
import type { BotDeps } from '../context.js';
import { FILTER_CHOICES, SORT_CHOICES } from '../definitions.js';
import type { View } from '../view.js';

export interface ExportOptions {
  format: 'csv' | 'xlsx';
  query: Omit<CustomerListQuery, 'page' | 'perPage'>;
}

function choice<T extends string>(value: string | null, allowed: readonly { value: T }[], fallback: T, what: string): T {
  if (value === null) return fallback;
  const found = allowed.find((c) => c.value === value);
  if (!found) throw new UserError('bad_option', `${what} must be one of ${allowed.map((c) => c.value).join(', ')}.`);
  return found.value;
}

/** YYYY-MM-DD as a UTC day boundary; anything else is refused with the expected shape. */
function parseDay(value: string | null, name: string, endOfDay: boolean): string | undefined {
  if (value === null) return undefined;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined;
  if (!match || !date || date.toISOString().slice(0, 10) !== value.trim()) {
    throw new UserError('bad_date', `${name} must be a date like 2025-01-31.`);
  }
  if (endOfDay) date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString();
}

export function parseExportOptions(interaction: ChatInputCommandInteraction): ExportOptions {
  const o = interaction.options;
  const format = choice(o.getString('format'), [{ value: 'csv' }, { value: 'xlsx' }] as const, 'csv', 'format');
  const filter = choice<CustomerFilter>(o.getString('filter'), FILTER_CHOICES, 'all', 'filter');
  const sort = choice<CustomerSort>(o.getString('sort'), SORT_CHOICES, 'newest', 'sort');
  const registeredAfter = parseDay(o.getString('registered_after'), 'registered_after', false);
  const registeredBefore = parseDay(o.getString('registered_before'), 'registered_before', true);
  if (registeredAfter && registeredBefore && registeredAfter >= registeredBefore) {
    throw new UserError('bad_date_range', 'registered_after must be before registered_before.');
  }
  const search = o.getString('search')?.trim() || undefined;
  return { format, query: { filter, sort, search, registeredAfter, registeredBefore } };
}

const PROGRESS_INTERVAL_MS = 2_000;

/**
 * Streams the matching customers into a file (never the whole list in memory), telling staff
 * how far it got on long exports, then uploads it.
 */
export async function runExport(deps: BotDeps, actor: Actor, options: ExportOptions, showProgress: (text: string) => Promise<void>): Promise<View> {
  const { db, clock, config } = deps;
  const { total } = await listCustomers(db, clock, { ...options.query, page: 1, perPage: 1 }, { atRiskDays: config.atRiskDays });
  if (total === 0) throw new UserError('export_empty', 'No customers match these filters; nothing to export.');
  let lastProgressAt = Date.now();
  const file = await writeCustomerExport(iterateCustomers(db, clock, options.query, { atRiskDays: config.atRiskDays }), {
    format: options.format,
    directory: deps.tempDir,
    baseName: exportFileName(options.format, clock.now()).replace(/\.[a-z]+$/, ''),
    progressEvery: 5_000,
    onProgress: async (rows) => {
      const now = Date.now();
      if (now - lastProgressAt < PROGRESS_INTERVAL_MS) return;
      lastProgressAt = now;
      await showProgress(`Exporting… ${rows.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} customers`);
    },
  });
  await recordActivity(db, clock, {
    actor,
    action: 'export.run',
    targetType: 'customers',
    details: { format: options.format, rows: file.rows, bytes: file.bytes, ...options.query },
  });
  const note = file.compressed ? ' (zipped to fit Discord’s upload limit)' : '';
  return {
    content: `Exported ${file.rows.toLocaleString('en-US')} customers as ${options.format.toUpperCase()}${note}.`,
    embeds: [],
    components: [],
    files: [{ attachment: file.path, name: file.fileName }],
    attachments: [],
    cleanup: () => rm(file.path, { force: true }),
  };
}
