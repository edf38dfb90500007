// What the digest needs from Discord, declared here so that the digest job depends on these
// shapes and never on discord.js; src/discord/digest-sender.ts implements them.

/** One attachment: a file on disk (the CSV) or bytes (the chart). */
export interface DigestFile {
  attachment: string | Buffer;
  name: string;
  description?: string;
}

/** An embed in Discord's wire shape, as far as the digest uses it. */
export interface DigestEmbed {
  title?: string;
  description?: string;
  color?: number;
  fields?: { name: string; value: string; inline?: boolean }[];
  image?: { url: string };
  footer?: { text: string };
  timestamp?: string;
}

/** The digest as one Discord message: what the sender posts and the preview shows. */
export interface DigestMessage {
  embeds: DigestEmbed[];
  files: DigestFile[];
}

/** Posts one digest; the message's embed footer already carries the period key. */
export type SendDigest = (message: DigestMessage, context: { periodKey: string }) => Promise<{ messageId: string }>;
/** Whether the digest of a period is already in the channel (a post whose confirmation was lost). */
export type FindPostedDigest = (periodKey: string) => Promise<{ messageId: string } | null>;

export interface DigestSender {
  send: SendDigest;
  findPosted?: FindPostedDigest;
}
