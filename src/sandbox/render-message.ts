// Renders what Discord would show a staff member as plain terminal text, for the sandbox prompt.

interface EmbedLike {
  title?: string;
  description?: string;
  fields?: { name: string; value: string; inline?: boolean }[];
  footer?: { text: string };
  thumbnail?: { url: string };
  image?: { url: string };
}

interface ComponentLike {
  type: number;
  components?: ComponentLike[];
  label?: string;
  custom_id?: string;
  disabled?: boolean;
  placeholder?: string;
  options?: { label: string; value: string; description?: string }[];
}

export interface MessageLike {
  content?: string | null;
  embeds?: EmbedLike[];
  components?: ComponentLike[];
  attachments?: { filename: string; size: number }[];
  flags?: number;
}

/** One clickable control of a rendered message, numbered as the terminal shows it. */
export interface Control {
  number: number;
  kind: 'button' | 'select';
  customId: string;
  label: string;
  disabled: boolean;
  options: { label: string; value: string }[];
}

/** Turns Discord markup (timestamps, mentions, escapes, bold) into readable plain text. */
export function plainText(text: string): string {
  return text
    .replace(/<t:(\d+):([a-zA-Z])>/g, (_, seconds: string, style: string) => {
      const iso = new Date(Number(seconds) * 1000).toISOString();
      return style === 'd' || style === 'D' ? iso.slice(0, 10) : `${iso.slice(0, 16).replace('T', ' ')} UTC`;
    })
    .replace(/<\u200b?@!?(\d+)>/g, '@$1')
    .replace(/\[([^\]]+)\]\((https?:[^)]+)\)/g, '$1 <$2>')
    .replace(/\*\*(.+?)\*\*/g, '$1')
    .replace(/\\([\\*_~`|[\]])/g, '$1')
    .replace(/\u200b/g, '');
}

export function listControls(message: MessageLike): Control[] {
  const controls: Control[] = [];
  for (const row of message.components ?? []) {
    for (const c of row.components ?? []) {
      if (!c.custom_id) continue;
      controls.push({
        number: controls.length + 1,
        kind: c.type === 2 ? 'button' : 'select',
        customId: c.custom_id,
        label: c.label ?? c.placeholder ?? c.custom_id,
        disabled: c.disabled ?? false,
        options: (c.options ?? []).map((o) => ({ label: o.label, value: o.value })),
      });
    }
  }
  return controls;
}

/** What an embed picture shows: the attached file (and where it was saved), or a Discord-hosted image. */
function pictureLine(kind: string, url: string, savedAs: ReadonlyMap<string, string>): string {
  if (!url.startsWith('attachment://')) return `│ [${kind}: ${kind === 'picture' ? 'Discord avatar' : url}]`;
  const name = url.slice('attachment://'.length);
  const path = savedAs.get(name);
  return `│ [${kind}: ${name}${path ? ` → ${path}` : ''}]`;
}

/** `savedAs` maps an attachment's file name to where the sandbox wrote it, printed beside it. */
export function renderMessage(message: MessageLike, savedAs: ReadonlyMap<string, string> = new Map()): string {
  const out: string[] = [];
  if (message.flags !== undefined && (message.flags & 64) !== 0) out.push('(only you can see this)');
  if (message.content) out.push(plainText(message.content));
  for (const embed of message.embeds ?? []) {
    out.push('┌' + '─'.repeat(60));
    if (embed.title) out.push(`│ ${plainText(embed.title).toUpperCase()}`);
    if (embed.thumbnail) out.push(pictureLine('picture', embed.thumbnail.url, savedAs));
    if (embed.description) for (const line of plainText(embed.description).split('\n')) out.push(`│ ${line}`);
    for (const f of embed.fields ?? []) {
      out.push(`│ ▸ ${plainText(f.name)}`);
      for (const line of plainText(f.value).split('\n')) out.push(`│     ${line}`);
    }
    if (embed.image) out.push(pictureLine('image', embed.image.url, savedAs));
    if (embed.footer) out.push(`│ ${plainText(embed.footer.text)}`);
    out.push('└' + '─'.repeat(60));
  }
  for (const a of message.attachments ?? []) {
    const path = savedAs.get(a.filename);
    out.push(`📎 ${a.filename} (${a.size.toLocaleString('en-US')} bytes)${path ? ` saved to ${path}` : ''}`);
  }
  for (const c of listControls(message)) {
    const state = c.disabled ? ' (disabled)' : '';
    if (c.kind === 'button') out.push(`  [${c.number}] ${c.label}${state}`);
    else out.push(`  [${c.number}] ▾ ${c.label}${state}: ${c.options.map((o, i) => `${i + 1}) ${o.label}`).join('  ')}`);
  }
  return out.join('\n');
}
