import type { APIEmbed, APIEmbedField, InteractionEditReplyOptions } from 'discord.js';

/** What a handler returns: one message's worth of content, shown by the interaction boundary. */
export type View = Omit<InteractionEditReplyOptions, 'content'> & {
  content?: string;
  /** Runs after the view was sent (or failed to send): e.g. removing an uploaded export file. */
  cleanup?: () => Promise<unknown>;
};

// Discord's limits (PRODUCT.md §12): an embed holds 25 fields and 6,000 characters in all.
export const EMBED_LIMITS = {
  title: 256,
  description: 4096,
  fieldName: 256,
  fieldValue: 1024,
  fields: 25,
  footer: 2048,
  total: 6000,
} as const;

export const BRAND_COLOR = 0x5865f2;
export const DANGER_COLOR = 0xed4245;
export const SUCCESS_COLOR = 0x57f287;
export const WARNING_COLOR = 0xfee75c;

/** Cuts text to `max` characters, marking the cut, so a long note never breaks a reply. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return text.slice(0, Math.max(0, max - 1)) + '…';
}

export function field(name: string, value: string, inline = false): APIEmbedField {
  return { name: clip(name, EMBED_LIMITS.fieldName), value: clip(value.trim() === '' ? '—' : value, EMBED_LIMITS.fieldValue), inline };
}

function embedLength(embed: APIEmbed): number {
  let n = (embed.title?.length ?? 0) + (embed.description?.length ?? 0) + (embed.footer?.text.length ?? 0) + (embed.author?.name.length ?? 0);
  for (const f of embed.fields ?? []) n += f.name.length + f.value.length;
  return n;
}

/**
 * Enforces every embed limit on the way out: clips texts, keeps at most 25 fields, and drops
 * trailing fields until the whole embed fits 6,000 characters. The caller orders fields by
 * importance, so what is dropped is what matters least.
 */
export function fitEmbed(embed: APIEmbed): APIEmbed {
  const fitted: APIEmbed = { ...embed };
  if (fitted.title) fitted.title = clip(fitted.title, EMBED_LIMITS.title);
  if (fitted.description) fitted.description = clip(fitted.description, EMBED_LIMITS.description);
  if (fitted.footer) fitted.footer = { ...fitted.footer, text: clip(fitted.footer.text, EMBED_LIMITS.footer) };
  fitted.fields = (fitted.fields ?? []).slice(0, EMBED_LIMITS.fields).map((f) => field(f.name, f.value, f.inline));
  while (embedLength(fitted) > EMBED_LIMITS.total && fitted.fields.length > 0) fitted.fields.pop();
  if (embedLength(fitted) > EMBED_LIMITS.total && fitted.description) {
    fitted.description = clip(fitted.description, Math.max(1, EMBED_LIMITS.total - (embedLength(fitted) - fitted.description.length)));
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
