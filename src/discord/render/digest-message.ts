import type { APIEmbed, APIEmbedField } from 'discord.js';
import { displayMoney } from './money.js';
import { discordDate, EMBED_LIMITS, escapeText, field, fitEmbed, clip, WARNING_COLOR, type View } from './view.js';
import { DAY_MS } from '../../domain/customers/profile.js';
import { CHART_FILE_NAME, renderSegmentChart } from './digest-chart.js';
import type { AtRiskCustomer, AtRiskListFile, SegmentCounts, WeeklyDigest } from '../../domain/digest/digest.js';
import { codePointLength } from '../../shared/text.js';
import type { DigestFile, DigestMessage } from '../../domain/digest/ports.js';

/** The footer text that marks a posted digest; the sender finds earlier posts by it. */
export function digestFooterText(periodKey: string, timeZone: string): string {
  return `Digest period ${periodKey} · ${timeZone}`;
}

/** Whether an embed footer is that of the digest posted for `periodKey`. */
export function isDigestFooterFor(footer: string | undefined, periodKey: string): boolean {
  return footer !== undefined && footer.startsWith(`Digest period ${periodKey} `);
}

export interface RenderDigestOptions {
  currency: string;
  /** The full at-risk list (see writeAtRiskList); without it the embed says none is attached. */
  list?: AtRiskListFile | null;
  /** A preview: marked as such, and no period in the footer (nothing may mistake it for the post). */
  preview?: boolean;
}

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * The digest as an embed with the chart as its image and the full at-risk list as a CSV. Lists are
 * cut line by line to Discord's 1,024 characters per field (saying how many more are in the
 * file), and fitEmbed enforces the rest, so any number of at-risk customers fits.
 */
export function renderDigestMessage(digest: WeeklyDigest, options: RenderDigestOptions): DigestMessage {
  const { currency } = options;
  const percent = digest.withOrdersCount > 0 ? ` (${((digest.atRiskCount / digest.withOrdersCount) * 100).toFixed(1)}% of the ${count(digest.withOrdersCount)} with orders)` : '';
  // Without a previous digest the window is one period; its start is the cut-off plus the days.
  const windowStart = new Date(Date.parse(digest.previousCutoff) + digest.atRiskDays * DAY_MS).toISOString();
  const since = digest.previousDigestAt ? `since the last digest (${discordDate(digest.previousDigestAt, 'D')})` : `since ${discordDate(windowStart, 'f')}`;
  const description = [
    `**${count(digest.atRiskCount)}** customers are at risk: at least one order, none in the last ${digest.atRiskDays} days${percent}.`,
    `**${count(digest.newlyAtRiskCount)}** became at risk ${since}.`,
  ].join('\n');

  const fields: APIEmbedField[] = [];
  const where = options.list ? ' in the attached list' : '';
  if (digest.newlyAtRiskCount > 0) {
    fields.push(listField('Newly at risk · highest lifetime value', digest.newlyAtRisk, digest.newlyAtRiskCount, currency, where));
  }
  if (digest.atRiskCount > 0) {
    fields.push(listField('Most valuable at risk', digest.mostValuableAtRisk, digest.atRiskCount, currency, where));
  }
  const segmentLabels: [keyof SegmentCounts, string][] = [
    ['newCount', 'New (0–1 orders)'],
    ['repeatCount', 'Repeat (2–4 orders)'],
    ['loyalCount', 'Loyal (5+ orders)'],
    ['atRiskCount', `At risk (no order in ${digest.atRiskDays} days)`],
  ];
  for (const [key, label] of segmentLabels) {
    const change = digest.segmentChanges ? ` (${signed(digest.segmentChanges[key])})` : '';
    fields.push(field(label, `${count(digest.segments[key])}${change}`, true));
  }
  if (digest.segmentChanges === null) fields.push(field('Week over week', 'Changes show from the next digest on, once there is one to compare with.'));

  const files: DigestFile[] = [];
  const list = options.list;
  if (list) {
    const what = list.truncated
      ? `The ${count(list.rows)} most valuable of ${count(digest.atRiskCount)} at-risk customers (the full list is over Discord's 10 MB upload limit).`
      : `All ${count(list.rows)} at-risk customers, highest lifetime value first${list.file.compressed ? ' (zipped to fit Discord’s upload limit)' : ''}.`;
    fields.push(field('Full list', `${what}\n\`${list.file.fileName}\``));
    files.push({ attachment: list.file.path, name: list.file.fileName, description: 'At-risk customers' });
  }
  files.push({ attachment: renderSegmentChart(digest.history, { timeZone: digest.timeZone }), name: CHART_FILE_NAME, description: 'Customer segments over the last digests' });

  const footer = options.preview || digest.periodKey === null ? `Preview · not posted · ${digest.timeZone}` : digestFooterText(digest.periodKey, digest.timeZone);
  const embed: APIEmbed = {
    title: options.preview ? 'Weekly at-risk digest (preview)' : 'Weekly at-risk digest',
    color: WARNING_COLOR,
    description,
    fields,
    image: { url: `attachment://${CHART_FILE_NAME}` },
    footer: { text: footer },
    timestamp: digest.generatedAt,
  };
  return { embeds: [fitEmbed(embed)], files };
}

/**
 * One line per customer, as many as fit one field, then how many more there are. A name is
 * escaped (customers choose them) and clipped so one long name cannot crowd out the others.
 */
function listField(title: string, customers: AtRiskCustomer[], total: number, currency: string, where: string): APIEmbedField {
  const lines: string[] = [];
  let length = 0;
  // Room kept for the closing "…and N more" line, sized for the largest N it could say.
  const closing = codePointLength(`\n…and ${count(total)} more${where}`);
  for (const [index, customer] of customers.entries()) {
    const line = `${index + 1}. **${escapeText(clip(customer.name, 48))}** · ${displayMoney(customer.ltvCents, currency)} · last order ${discordDate(customer.lastOrderAt)} · #${customer.id}`;
    if (length + codePointLength(line) + 1 + closing > EMBED_LIMITS.fieldValue) break;
    lines.push(line);
    length += codePointLength(line) + 1;
  }
  const more = total - lines.length;
  if (more > 0) lines.push(`…and ${count(more)} more${where}`);
  return field(title, lines.join('\n'));
}

function signed(n: number): string {
  if (n === 0) return '±0';
  return n > 0 ? `+${count(n)}` : `−${count(-n)}`;
}

/**
 * `/customer digest`: the digest message as it would be posted now, said to be a preview, with
 * where and when the next one goes (`channelId` unset when no digest channel is).
 */
export function renderDigestPreview(message: DigestMessage, next: { channelId: string | undefined; at: Date }): View {
  const where = next.channelId
    ? `The next digest goes to <#${next.channelId}> ${discordDate(next.at.toISOString(), 'f')}.`
    : 'DIGEST_CHANNEL_ID is not set, so no digest is posted.';
  return {
    content: `Preview of the weekly digest: only you can see it; nothing was posted or saved. ${where}`,
    embeds: message.embeds,
    components: [],
    files: message.files.map((file) => ({ attachment: file.attachment, name: file.name, ...(file.description ? { description: file.description } : {}) })),
    attachments: [],
  };
}
