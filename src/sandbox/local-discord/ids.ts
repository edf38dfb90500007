import { randomBytes } from 'node:crypto';

const DISCORD_EPOCH = 1_420_070_400_000n;

/**
 * Hands out snowflakes that sort by creation time, as Discord's do: discord.js derives
 * `createdTimestamp` from an id, so a random number would date messages in the wrong century.
 */
export class SnowflakeSource {
  #increment = 0n;

  next(): string {
    this.#increment = (this.#increment + 1n) & 0xfffn;
    const sinceEpoch = BigInt(Date.now()) - DISCORD_EPOCH;
    return ((sinceEpoch << 22n) | (1n << 17n) | this.#increment).toString();
  }
}

export function createInteractionToken(): string {
  return `aW50ZXJhY3Rpb24.${randomBytes(48).toString('base64url')}`;
}

/** Shaped like a real bot token (base64 user id, timestamp, hmac) so nothing that sniffs the format balks. */
export function createBotToken(userId: string): string {
  const idPart = Buffer.from(userId).toString('base64url');
  return `${idPart}.${randomBytes(4).toString('base64url')}.${randomBytes(27).toString('base64url')}`;
}
