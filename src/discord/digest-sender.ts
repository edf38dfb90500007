import { AttachmentBuilder, type Client, type SendableChannels } from 'discord.js';
import type { DigestSender } from '../domain/digest/ports.js';
import { isDigestFooterFor } from './render/digest-message.js';

/** How far back the "was it already posted?" check looks: the digest is at most a few posts old. */
export const DIGEST_LOOKBACK_MESSAGES = 50;

/**
 * Posts digests to DIGEST_CHANNEL_ID through the bot's client (embed, CSV and chart in one
 * message, mentioning nobody), and answers whether a period's digest is already there by reading
 * the channel's latest messages for the bot's own post with that period in its footer.
 */
export function createDigestSender(client: Client, channelId: string): Required<DigestSender> {
  const channel = async (): Promise<SendableChannels> => {
    const found = await client.channels.fetch(channelId);
    if (!found?.isSendable()) throw new Error(`DIGEST_CHANNEL_ID ${channelId} is not a channel the bot can post in`);
    return found;
  };
  return {
    async send(message) {
      const target = await channel();
      const sent = await target.send({
        embeds: message.embeds,
        files: message.files.map((file) => new AttachmentBuilder(file.attachment, { name: file.name, ...(file.description ? { description: file.description } : {}) })),
        allowedMentions: { parse: [] },
      });
      return { messageId: sent.id };
    },
    async findPosted(periodKey) {
      const target = await channel();
      if (!('messages' in target)) return null;
      const recent = await target.messages.fetch({ limit: DIGEST_LOOKBACK_MESSAGES, cache: false });
      const botId = client.user?.id;
      const posted = recent.find((m) => m.author.id === botId && m.embeds.some((embed) => isDigestFooterFor(embed.footer?.text, periodKey)));
      return posted ? { messageId: posted.id } : null;
    },
  };
}
