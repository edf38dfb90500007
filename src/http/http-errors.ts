import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { httpStatusOf, UserError, type UserErrorCode } from '../shared/errors.js';

// Every HTTP surface reports a failure the same way: `refusalOf` reads what went wrong once (the
// status a UserError's code maps to in src/shared/errors.ts, a route's own refusal, Fastify's 4xx),
// anything else is a bug logged with the request's reference, and the surface only chooses the
// shape of the answer (the JSON envelope, or a link page).

export type FieldErrors = Record<string, string[]>;

/** A refusal a route throws with its HTTP status (validation failures carry every problem by field). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly errors?: FieldErrors,
  ) {
    super(message);
  }
}

/** An expected refusal, read from whatever was thrown. */
export interface Refusal {
  status: number;
  message: string;
  errors?: FieldErrors | undefined;
  /** Set when the refusal is a UserError. */
  code?: UserErrorCode;
}

/** What was thrown, as a refusal; null for a bug. */
export function refusalOf(error: Error): Refusal | null {
  if (error instanceof ApiError) return { status: error.statusCode, message: error.message, errors: error.errors };
  if (error instanceof UserError) return { status: httpStatusOf(error.code), message: error.message, code: error.code };
  const status = 'statusCode' in error ? error.statusCode : undefined;
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, message: error.message };
  return null;
}

/** The reason phrase every error envelope carries in `error`. */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

// The JSON envelopes, as docs/product.md#rest-api gives them:
//   {"success": true, "data": …, "meta"?: …}
//   {"success": false, "error": "<HTTP reason>", "message": "…", "errors"?: {"<field>": ["…"]}}

/** The error envelope: the API's, and every JSON answer outside it (downloads, purchase events, unknown routes). */
export function sendJsonError(reply: FastifyReply, status: number, message: string, errors?: FieldErrors): FastifyReply {
  return reply.status(status).send({ success: false, error: reasonPhrase(status), message, ...(errors ? { errors } : {}) });
}

export interface ErrorSurface {
  /** The answer to a refusal; undefined when this surface has none for it, which makes it a bug. */
  refused(reply: FastifyReply, refusal: Refusal, request: FastifyRequest): FastifyReply | undefined;
  /** The answer to a bug: never its internals, only the reference the log line carries. */
  failed(reply: FastifyReply, reference: string, request: FastifyRequest): FastifyReply;
  /** The log line of a bug. */
  logMessage: string;
}

/** A Fastify error handler answering in the shape of `surface`. */
export function errorHandlerFor(surface: ErrorSurface) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const refusal = refusalOf(error);
    const answered = refusal ? surface.refused(reply, refusal, request) : undefined;
    if (answered) return answered;
    request.log.error({ err: error, ref: request.id }, surface.logMessage);
    return surface.failed(reply, request.id, request);
  };
}

/** The error handler of the app and of the API: every refusal and every bug in the JSON envelope. */
export const handleJsonError = errorHandlerFor({
  refused: (reply, { status, message, errors }) => sendJsonError(reply, status, message, errors),
  failed: (reply, reference) => sendJsonError(reply, 500, `Something went wrong (ref ${reference}).`),
  logMessage: 'request failed',
});
