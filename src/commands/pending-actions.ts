import { randomBytes } from 'node:crypto';

interface Entry {
  userId: string;
  value: unknown;
  expiresAt: number;
}

/**
 * Short-lived state behind a button (a ban awaiting confirmation, a list's filters), because a
 * custom id holds only 100 characters and a ban reason holds 500. Kept in memory on purpose: a
 * confirmation that outlives a restart should be asked again, not executed blindly.
 */
export class PendingActions {
  private readonly entries = new Map<string, Entry>();
  constructor(
    private readonly now: () => number,
    private readonly ttlMs = 15 * 60_000,
    private readonly maxEntries = 5_000,
  ) {}

  put(userId: string, value: unknown): string {
    this.sweep();
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const token = randomBytes(9).toString('base64url');
    this.entries.set(token, { userId, value, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  /** The value if the token exists, has not expired and belongs to this user. */
  get<T>(token: string, userId: string): T | undefined {
    const entry = this.entries.get(token);
    if (!entry || entry.expiresAt <= this.now() || entry.userId !== userId) return undefined;
    return entry.value as T;
  }

  take<T>(token: string, userId: string): T | undefined {
    const value = this.get<T>(token, userId);
    if (value !== undefined) this.entries.delete(token);
    return value;
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(token);
  }
}
