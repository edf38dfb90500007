import type { ChatInputCommandInteraction } from 'discord.js';
import { rm } from 'node:fs/promises';
import { recordActivity } from '../../domain/customers/activity-log.js';
import { iterateCustomersForExport, listCustomers } from '../../domain/customers/list.js';
import { UserError } from '../../shared/errors.js';
import { DEFAULT_MAX_EXPORT_BYTES, exportFileName, writeCustomerExport, type ExportFile } from '../../domain/exports/customer-export.js';
import { createDownloadLink, exportsDirectoryFor, type DownloadLink } from '../../domain/exports/download-links.js';
import type { Actor, CustomerFilter, CustomerListQuery, CustomerSort } from '../../domain/customers/types.js';
import type { BotDeps } from '../context.js';
import { FILTER_CHOICES, SORT_CHOICES } from '../definitions.js';
import { renderExportDownloadLink, renderExportUpload } from '../../discord/render/export.js';
import type { View } from '../../discord/render/view.js';

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
 * how far it got on long exports, then uploads it. A file over Discord's upload cap (a CSV even
 * zipped, or a workbook) is answered with a signed download link when APP_SECRET is set, and
 * refused with a request to narrow the export when it is not.
 */
export async function runExport(deps: BotDeps, actor: Actor, options: ExportOptions, showProgress: (text: string) => Promise<void>): Promise<View> {
  const { db, clock, config } = deps;
  const { total } = await listCustomers(db, clock, { ...options.query, page: 1, perPage: 1 }, { atRiskDays: config.atRiskDays });
  if (total === 0) throw new UserError('export_empty', 'No customers match these filters; nothing to export.');
  const appSecret = config.appSecret;
  const progressIntervalMs = deps.exportProgressIntervalMs ?? PROGRESS_INTERVAL_MS;
  let lastProgressAt = Date.now();
  let file: ExportFile;
  try {
    file = await writeCustomerExport(iterateCustomersForExport(db, clock, options.query, { atRiskDays: config.atRiskDays }), {
      format: options.format,
      directory: deps.tempDir,
      baseName: exportFileName(options.format, clock.now()).replace(/\.[a-z]+$/, ''),
      maxBytes: deps.exportUploadLimitBytes ?? DEFAULT_MAX_EXPORT_BYTES,
      whenTooLarge: appSecret ? 'keep' : 'refuse',
      // Cheap to ask often: the interval below decides when Discord actually hears of it.
      progressEvery: 1_000,
      onProgress: async (rows) => {
        const now = Date.now();
        if (now - lastProgressAt < progressIntervalMs) return;
        lastProgressAt = now;
        await showProgress(`Exporting… ${rows.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} customers`);
      },
    });
  } catch (error) {
    if (error instanceof UserError && error.code === 'export_too_large') {
      throw new UserError(error.code, `${error.message} (Setting APP_SECRET lets the bot answer large exports with a download link instead.)`);
    }
    throw error;
  }

  const formatName = options.format.toUpperCase();
  if (!file.overLimit || !appSecret) {
    await recordExportRun(deps, actor, options, file, { delivery: 'upload' });
    return { ...renderExportUpload(file, formatName), cleanup: () => rm(file.path, { force: true }) };
  }

  let link: DownloadLink;
  try {
    link = await createDownloadLink(db, clock, {
      file,
      actor,
      publicUrl: config.publicUrl,
      appSecret,
      directory: deps.exportsDir ?? exportsDirectoryFor(config.databasePath),
    });
  } finally {
    // Moved away on success; on failure nothing may stay behind in the temp directory.
    await rm(file.path, { force: true });
  }
  await recordExportRun(deps, actor, options, file, { delivery: 'link', downloadId: link.id });
  return renderExportDownloadLink(file, link, formatName);
}

async function recordExportRun(deps: BotDeps, actor: Actor, options: ExportOptions, file: ExportFile, delivery: Record<string, string>): Promise<void> {
  await recordActivity(deps.db, deps.clock, {
    actor,
    action: 'export.run',
    targetType: 'customers',
    details: { format: options.format, rows: file.rows, bytes: file.bytes, ...delivery, ...options.query },
  });
}
