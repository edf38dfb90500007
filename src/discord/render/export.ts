import { ButtonStyle, ComponentType, type APIEmbed } from 'discord.js';
import type { ExportFile } from '../../domain/exports/customer-export.js';
import type { DownloadLink } from '../../domain/exports/download-links.js';
import { BRAND_COLOR, discordDate, escapeText, field, fitEmbed, type View } from './view.js';

// `/customer export`'s answers, drawn from the finished file (src/commands/customer/export.ts).

// Discord refuses a link button whose URL is longer than this; the link stays in the embed.
const MAX_BUTTON_URL_LENGTH = 512;

/** The file itself, uploaded with the answer; removing it afterwards is the caller's part. */
export function renderExportUpload(file: ExportFile, formatName: string): View {
  const note = file.compressed ? ' (zipped to fit Discord’s upload limit)' : '';
  return {
    content: `Exported ${file.rows.toLocaleString('en-US')} ${file.rows === 1 ? 'customer' : 'customers'} as ${formatName}${note}.`,
    embeds: [],
    components: [],
    files: [{ attachment: file.path, name: file.fileName }],
    attachments: [],
  };
}

/** A file too large for Discord, behind its signed download link. */
export function renderExportDownloadLink(file: ExportFile, link: DownloadLink, formatName: string): View {
  const megabytes = `${(file.bytes / (1024 * 1024)).toFixed(1)} MB`;
  const embed: APIEmbed = {
    title: 'Export ready to download',
    description:
      `**[${escapeText(file.fileName)}](${link.url})**\n` +
      'Too large for a Discord upload, so the bot keeps it for you. Anyone with this link can download it until it expires: do not share it.',
    color: BRAND_COLOR,
    fields: [
      field('Customers', file.rows.toLocaleString('en-US'), true),
      field('Size', file.compressed ? `${megabytes} (zipped)` : megabytes, true),
      field('Link expires', `${discordDate(link.expiresAt, 'f')} (${discordDate(link.expiresAt, 'R')})`, true),
    ],
  };
  return {
    content: `Exported ${file.rows.toLocaleString('en-US')} ${file.rows === 1 ? 'customer' : 'customers'} as ${formatName}.`,
    embeds: [fitEmbed(embed)],
    components:
      link.url.length <= MAX_BUTTON_URL_LENGTH
        ? [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Link, url: link.url, label: 'Download' }] }]
        : [],
    files: [],
    attachments: [],
  };
}
