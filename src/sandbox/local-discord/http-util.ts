import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UploadedFile } from './types.js';

/** A Discord API error answer; route handlers throw it and the server writes it. */
export class DiscordHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: unknown,
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { message: this.message, code: this.code, ...(this.errors === undefined ? {} : { errors: this.errors }) };
  }
}

export const unknownGuild = (): DiscordHttpError => new DiscordHttpError(404, 10004, 'Unknown Guild');
export const unknownChannel = (): DiscordHttpError => new DiscordHttpError(404, 10003, 'Unknown Channel');
export const unknownMember = (): DiscordHttpError => new DiscordHttpError(404, 10007, 'Unknown Member');
export const unknownMessage = (): DiscordHttpError => new DiscordHttpError(404, 10008, 'Unknown Message');
export const unknownRole = (): DiscordHttpError => new DiscordHttpError(404, 10011, 'Unknown Role');
export const unknownUser = (): DiscordHttpError => new DiscordHttpError(404, 10013, 'Unknown User');
export const unknownApplicationCommand = (): DiscordHttpError =>
  new DiscordHttpError(404, 10063, 'Unknown application command');
export const missingPermissions = (): DiscordHttpError => new DiscordHttpError(403, 50013, 'Missing Permissions');

/** Discord's "Invalid Form Body": `errors` mirrors the body's shape down to the offending field. */
export function invalidFormBody(path: string, code: string, message: string): DiscordHttpError {
  const errors: Record<string, unknown> = {};
  let cursor = errors;
  const keys = path.split('.');
  keys.forEach((key, index) => {
    if (index === keys.length - 1) {
      cursor[key] = { _errors: [{ code, message }] };
    } else {
      const next: Record<string, unknown> = {};
      cursor[key] = next;
      cursor = next;
    }
  });
  return new DiscordHttpError(400, 50035, 'Invalid Form Body', errors);
}

/** Discord refuses bodies over its upload limit before looking at them. */
export const MAX_REQUEST_BYTES = 25 * 1024 * 1024;

export async function readRequestBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buffer.length;
    if (size > MAX_REQUEST_BYTES) throw new DiscordHttpError(413, 40005, 'Request entity too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export interface ParsedBody {
  json: unknown;
  files: UploadedFile[];
}

export async function parseRequestBody(raw: Buffer, contentType: string | undefined): Promise<ParsedBody> {
  if (raw.length === 0) return { json: undefined, files: [] };
  if (contentType?.startsWith('multipart/form-data')) return parseMultipart(raw, contentType);
  try {
    return { json: JSON.parse(raw.toString('utf8')) as unknown, files: [] };
  } catch {
    throw new DiscordHttpError(400, 50109, 'The request body contains invalid JSON.');
  }
}

async function parseMultipart(raw: Buffer, contentType: string): Promise<ParsedBody> {
  // undici's Response already implements multipart parsing, so no parser dependency is needed.
  const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  const files: UploadedFile[] = [];
  const fields: Record<string, string> = {};
  for (const [field, value] of form.entries()) {
    if (typeof value === 'string') {
      fields[field] = value;
    } else {
      const data = Buffer.from(await value.arrayBuffer());
      files.push({
        field,
        filename: value.name,
        ...(value.type ? { contentType: value.type } : {}),
        size: data.length,
        data,
      });
    }
  }
  let json: unknown = fields;
  if (fields.payload_json !== undefined) {
    try {
      json = JSON.parse(fields.payload_json) as unknown;
    } catch {
      throw new DiscordHttpError(400, 50109, 'The request body contains invalid JSON.');
    }
  }
  return { json, files };
}

/** `:name` matches one path segment; everything else must match exactly. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (const [index, part] of want.entries()) {
    const actual = got[index] ?? '';
    if (part.startsWith(':')) {
      if (actual === '') return null;
      params[part.slice(1)] = actual;
    } else if (part !== actual) {
      return null;
    }
  }
  return params;
}

export function bucketHash(route: string): string {
  return createHash('sha1').update(route).digest('hex').slice(0, 16);
}

/**
 * Headers that tell @discordjs/rest it has plenty of budget left, so it never sleeps on the
 * fake's account; faults supply the 429 headers when a test wants a rate limit.
 */
export function rateLimitHeaders(route: string): Record<string, string> {
  return {
    'X-RateLimit-Limit': '50',
    'X-RateLimit-Remaining': '49',
    'X-RateLimit-Reset': ((Date.now() + 1000) / 1000).toFixed(3),
    'X-RateLimit-Reset-After': '1.000',
    'X-RateLimit-Bucket': bucketHash(route),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status === 200 && body === undefined ? 204 : status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text).toString(),
  });
  res.end(text);
}

export function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
