import type { InteractionDesk, WireAnswer } from '../interactions.js';
import type { MessageStore } from '../messages.js';
import type { GuildRecord, LocalDiscordState, MemberRecord, MessageRecord } from '../state.js';
import type { LocalAuditEntry, RecordedRequest, UploadedFile } from '../types.js';

export interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  files: UploadedFile[];
  request: RecordedRequest;
}

export interface Route {
  method: string;
  pattern: string;
  /** Interaction callbacks and webhooks authenticate with the token in the path, not a header. */
  auth: boolean;
  handle: (context: RouteContext) => WireAnswer;
}

export interface RouteDeps {
  state: LocalDiscordState;
  desk: InteractionDesk;
  messages: MessageStore;
  auditLog: LocalAuditEntry[];
  gatewayUrl: () => string;
  memberChanged: (guild: GuildRecord, member: MemberRecord) => void;
  memberRemoved: (guild: GuildRecord, userId: string) => void;
  announce: (message: MessageRecord, event: 'create' | 'update' | 'delete') => void;
}

export const ok = (body: unknown): WireAnswer => ({ status: 200, body });
export const noContent = (): WireAnswer => ({ status: 204 });

/** Discord's `limit` query parameter: a number clamped to [1, max], `fallback` when absent or not a number. */
export function limitParam(query: URLSearchParams, fallback: number, max: number): number {
  return Math.min(Math.max(Number(query.get('limit') ?? String(fallback)) || fallback, 1), max);
}
