import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultTable } from './faults.js';
import { DiscordHttpError, matchPath, parseRequestBody, rateLimitHeaders, readRequestBody, sendJson } from './http-util.js';
import type { MessageStore } from './messages.js';
import type { RequestLog } from './request-log.js';
import type { Route } from './rest-routes/index.js';
import type { RecordedRequest } from './types.js';

const API_PREFIX = /^\/api(?:\/v(\d+))?(\/.*)?$/;

export interface RestHandlerDeps {
  routes: Route[];
  messages: MessageStore;
  faults: FaultTable;
  requests: RequestLog;
  log: (line: string) => void;
}

/** One REST request on its way through: what was asked, what it matched, and how to answer it. */
interface Exchange {
  req: IncomingMessage;
  url: URL;
  method: string;
  /** The path under /api/vN, decoded; the whole path when it is not under /api. */
  path: string;
  underApi: boolean;
  record: RecordedRequest;
  match: { route: Route; params: Record<string, string> } | undefined;
  limitHeaders: Record<string, string>;
  /** Writes the answer and records its status, so a request is never answered without being recorded. */
  reply: (status: number, body: unknown, headers?: Record<string, string>) => void;
}

/** The HTTP side of the local Discord: attachment downloads, and every REST request recorded, faulted or routed. */
export function restHandler(deps: RestHandlerDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = (req.method ?? 'GET').toUpperCase();
    if (method === 'GET' && serveAttachment(deps.messages, url.pathname, res)) return;
    const exchange = openExchange(deps, req, res, url, method);
    try {
      await respond(deps, exchange);
    } catch (error) {
      replyWithError(deps.log, exchange, error);
    }
  };
}

/** Uploaded files are served back from the fake itself; true when the path was an attachment's. */
function serveAttachment(messages: MessageStore, pathname: string, res: ServerResponse): boolean {
  const attachment = matchPath('/attachments/:channelId/:attachmentId/:filename', pathname);
  if (!attachment) return false;
  const found = messages.findAttachment(attachment.attachmentId ?? '');
  if (!found) {
    sendJson(res, 404, { message: '404: Not Found', code: 0 });
    return true;
  }
  res.writeHead(200, { 'Content-Type': found.contentType ?? 'application/octet-stream', 'Content-Length': String(found.size) });
  res.end(found.data);
  return true;
}

function openExchange(deps: RestHandlerDeps, req: IncomingMessage, res: ServerResponse, url: URL, method: string): Exchange {
  const prefixed = API_PREFIX.exec(url.pathname);
  // discord.js percent-encodes path segments (`%40original`), so match on decoded segments.
  const path = (prefixed?.[2] ?? url.pathname)
    .split('/')
    .map((segment) => safeDecode(segment))
    .join('/');
  const record = recordRequest(req, url, method, path);
  deps.requests.add(record);
  const match = findRoute(deps.routes, method, path);
  const limitHeaders = rateLimitHeaders(match ? `${match.route.method} ${match.route.pattern}` : `${method} ${path}`);
  const reply = (status: number, body: unknown, headers: Record<string, string> = limitHeaders): void => {
    sendJson(res, status, body, headers);
    deps.requests.finish(record, body === undefined && status === 200 ? 204 : status);
  };
  return { req, url, method, path, underApi: prefixed !== null, record, match, limitHeaders, reply };
}

function recordRequest(req: IncomingMessage, url: URL, method: string, path: string): RecordedRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const reason = headers['x-audit-log-reason'];
  return {
    method,
    path,
    route: null,
    query: Object.fromEntries(url.searchParams),
    headers,
    authorization: headers.authorization ?? null,
    auditLogReason: reason === undefined ? null : safeDecode(reason),
    body: undefined,
    files: [],
    status: 0,
    time: Date.now(),
  };
}

function findRoute(routes: Route[], method: string, path: string): Exchange['match'] {
  for (const route of routes) {
    if (route.method !== method) continue;
    const params = matchPath(route.pattern, path);
    if (params) return { route, params };
  }
  return undefined;
}

/** Reads the body, then answers in Discord's order: an injected fault, an unknown route, a missing token, the route. */
async function respond({ faults, log }: RestHandlerDeps, exchange: Exchange): Promise<void> {
  const { req, method, path, record, match, limitHeaders, reply } = exchange;
  const parsed = await parseRequestBody(await readRequestBody(req), record.headers['content-type']);
  record.body = parsed.json;
  record.files = parsed.files;

  const fault = faults.take(method, path);
  if (fault) {
    log(`rest: ${method} ${path} → injected ${fault.status}${fault.delayMs ? ` after ${fault.delayMs} ms` : ''}`);
    if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    reply(fault.status, fault.body ?? { message: `${fault.status}`, code: 0 }, { ...limitHeaders, ...fault.headers });
    return;
  }
  if (!exchange.underApi || !match) {
    log(`rest: unknown route ${method} ${exchange.url.pathname}`);
    reply(404, { message: '404: Not Found', code: 0 });
    return;
  }
  const { route, params } = match;
  record.route = `${route.method} ${route.pattern}`;
  if (route.auth && !/^Bot \S+/.test(record.authorization ?? '')) {
    reply(401, { message: '401: Unauthorized', code: 0 });
    return;
  }
  const answer = route.handle({ params, query: exchange.url.searchParams, body: parsed.json, files: parsed.files, request: record });
  reply(answer.status, answer.body);
}

function replyWithError(log: (line: string) => void, { method, path, reply }: Exchange, error: unknown): void {
  if (error instanceof DiscordHttpError) {
    log(`rest: ${method} ${path} → ${error.status} ${error.code} ${error.message}`);
    reply(error.status, error.body());
    return;
  }
  // A bug in the fake, not a Discord answer: say so loudly rather than pretend.
  log(`rest: ${method} ${path} crashed the local Discord: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  reply(500, { message: '500: local-discord internal error', code: 0 });
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
