import type { APIEmbed, APIEmbedField, InteractionEditReplyOptions } from 'discord.js';
import { clipText, codePointLength, isBlank } from '../../shared/text.js';

/** What a handler returns: one message's worth of content, shown by the interaction boundary. */
export type View = Omit<InteractionEditReplyOptions, 'content'> & {
  content?: string;
  /** Runs after the view was sent (or failed to send): e.g. removing an uploaded export file. */
  cleanup?: () => Promise<unknown>;
};

// Discord's limits (docs/discord-limits.md), counted in code points: an embed holds 25 fields and all
// embeds of a message 6,000 characters together.
export const EMBED_LIMITS = {
  title: 256,
  description: 4096,
  fieldName: 256,
  fieldValue: 1024,
  fields: 25,
  footer: 2048,
  authorName: 256,
  total: 6000,
} as const;

export const MESSAGE_LIMITS = { content: 2000, embeds: 10 } as const;

export const BRAND_COLOR = 0x5865f2;
export const DANGER_COLOR = 0xed4245;
export const SUCCESS_COLOR = 0x57f287;
export const WARNING_COLOR = 0xfee75c;

/**
 * Cuts text to `max` code points on a grapheme boundary, marking the cut, so a long note never
 * breaks a reply and an emoji is never cut in half (Discord refuses half a surrogate pair).
 */
export function clip(text: string, max: number): string {
  return clipText(text, max);
}

/** Discord refuses an embed field whose name or value is empty once trimmed. */
const PLACEHOLDER = '—';

export function field(name: string, value: string, inline = false): APIEmbedField {
  return {
    name: clip(isBlank(name) ? PLACEHOLDER : name, EMBED_LIMITS.fieldName),
    value: clip(isBlank(value) ? PLACEHOLDER : value, EMBED_LIMITS.fieldValue),
    inline,
  };
}

/** An embed's size as Discord counts it: code points of the trimmed texts. */
function embedLength(embed: APIEmbed): number {
  const size = (text: string | undefined): number => (text === undefined ? 0 : codePointLength(text.trim()));
  let n = size(embed.title) + size(embed.description) + size(embed.footer?.text) + size(embed.author?.name);
  for (const f of embed.fields ?? []) n += size(f.name) + size(f.value);
  return n;
}

/** `text` clipped to `max`, or nothing when it is blank (Discord would show an empty line). */
function optionalText(text: string | undefined, max: number): string | undefined {
  return text === undefined || isBlank(text) ? undefined : clip(text, max);
}

/**
 * Enforces every embed limit on the way out: clips texts, keeps at most 25 fields, and drops
 * trailing fields until the whole embed fits `budget` (6,000 for one embed alone). The caller
 * orders fields by importance, so what is dropped is what matters least. Blank texts are left
 * out rather than sent.
 */
export function fitEmbed(embed: APIEmbed, budget: number = EMBED_LIMITS.total): APIEmbed {
  const fitted: APIEmbed = { ...embed };
  const title = optionalText(embed.title, EMBED_LIMITS.title);
  const description = optionalText(embed.description, EMBED_LIMITS.description);
  const footer = optionalText(embed.footer?.text, EMBED_LIMITS.footer);
  const author = optionalText(embed.author?.name, EMBED_LIMITS.authorName);
  delete fitted.title;
  delete fitted.description;
  delete fitted.footer;
  delete fitted.author;
  if (title !== undefined) fitted.title = title;
  if (description !== undefined) fitted.description = description;
  if (footer !== undefined && embed.footer) fitted.footer = { ...embed.footer, text: footer };
  if (author !== undefined && embed.author) fitted.author = { ...embed.author, name: author };
  fitted.fields = (embed.fields ?? []).slice(0, EMBED_LIMITS.fields).map((f) => field(f.name, f.value, f.inline));
  while (embedLength(fitted) > budget && fitted.fields.length > 0) fitted.fields.pop();
  // Still too large: shorten the description first, then the footer, the author and the title.
  for (const key of ['description', 'footer', 'author', 'title'] as const) {
    const over = embedLength(fitted) - budget;
    if (over <= 0) break;
    const current = key === 'footer' ? fitted.footer?.text : key === 'author' ? fitted.author?.name : fitted[key];
    if (current === undefined) continue;
    const kept = codePointLength(current.trim()) - over;
    const shortened = kept > 1 ? clip(current.trim(), kept) : undefined;
    if (key === 'footer') {
      if (shortened === undefined || !fitted.footer) delete fitted.footer;
      else fitted.footer = { ...fitted.footer, text: shortened };
    } else if (key === 'author') {
      if (shortened === undefined || !fitted.author) delete fitted.author;
      else fitted.author = { ...fitted.author, name: shortened };
    } else if (shortened === undefined) {
      delete fitted[key];
    } else {
      fitted[key] = shortened;
    }
  }
  return fitted;
}

/** Nothing left to show: the embed's texts had no room under the message's total. */
function isEmptyEmbed(embed: APIEmbed): boolean {
  return !embed.title && !embed.description && !embed.footer && !embed.author && !embed.image && !embed.thumbnail && (embed.fields ?? []).length === 0;
}

type MessageEmbed = NonNullable<View['embeds']>[number];

function embedJson(embed: MessageEmbed): APIEmbed {
  return 'toJSON' in embed && typeof embed.toJSON === 'function' ? embed.toJSON() : (embed as APIEmbed);
}

/**
 * The last guard before a view reaches Discord: content clipped to 2,000 code points with lone
 * surrogates repaired, and every embed fitted so that all of them together stay within 6,000.
 */
export function fitMessage<T extends Pick<View, 'content' | 'embeds'>>(view: T): T {
  const fitted: T = { ...view };
  if (view.content !== undefined) fitted.content = clip(view.content, MESSAGE_LIMITS.content);
  if (view.embeds) {
    let budget: number = EMBED_LIMITS.total;
    fitted.embeds = view.embeds
      .slice(0, MESSAGE_LIMITS.embeds)
      .map((embed) => {
        const one = fitEmbed(embedJson(embed), Math.max(0, budget));
        budget -= embedLength(one);
        return one;
      })
      .filter((embed) => !isEmptyEmbed(embed));
  }
  return fitted;
}

/** `<t:…:d>` renders in each viewer's own time zone and locale. */
export function discordDate(iso: string | null | undefined, style: 'd' | 'f' | 'R' | 'D' = 'd'): string {
  if (!iso) return '—';
  const seconds = Math.floor(new Date(iso).getTime() / 1000);
  return Number.isFinite(seconds) ? `<t:${seconds}:${style}>` : '—';
}

/** Neutralises Discord markdown and mentions in text that came from customers or staff. */
export function escapeText(text: string): string {
  return text.replace(/([\\*_~`|[\]])/g, '\\$1').replace(/@(everyone|here)/g, '@\u200b$1').replace(/<@/g, '<\u200b@');
}
