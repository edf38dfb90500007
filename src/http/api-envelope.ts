import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { httpStatusOf, UserError } from '../shared/errors.js';

// The external API's response envelopes, as docs/product.md#rest-api describes them:
//   {"success": true, "data": …, "meta"?: …}
//   {"success": false, "error": "<HTTP reason>", "message": "…", "errors"?: {"<field>": ["…"]}}

export type FieldErrors = Record<string, string[]>;

/** A refusal with its HTTP status; the API plugin's error handler turns it into the envelope. */
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

export function notFound(message: string): ApiError {
  return new ApiError(404, message);
}

/** 422 naming the field: `message` is "<field>: <problem>" for the first problem. */
export function validationError(errors: FieldErrors): ApiError {
  const [field, problems] = Object.entries(errors)[0] ?? ['body', ['is invalid']];
  return new ApiError(422, `${field}: ${problems[0] ?? 'is invalid'}`, errors);
}

export function fieldError(field: string, problem: string): ApiError {
  return validationError({ [field]: [problem] });
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
};

/** The reason phrase every error envelope carries in `error`. */
export function httpReason(status: number): string {
  return REASONS[status] ?? 'Error';
}

export function sendApiError(reply: FastifyReply, statusCode: number, message: string, errors?: FieldErrors): FastifyReply {
  return reply.status(statusCode).send({ success: false, error: httpReason(statusCode), message, ...(errors ? { errors } : {}) });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  // A message the schema wrote itself is already in the API's words; zod's defaults are not.
  if (!/^(Invalid|Too (big|small)|Unrecognized)/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return issue.expected === 'object' ? 'must be a JSON object' : `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      if (issue.origin === 'array') return `must have at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return 'is not in the expected format';
    default:
      return issue.message;
  }
}

/** Collects zod issues per field (dotted path; `body` / `query` for the whole input). */
export function fieldErrorsOf(error: z.ZodError, whole: string): FieldErrors {
  // No prototype: a field named `__proto__` or `constructor` (from a hostile query) is a key like any other.
  const errors = Object.create(null) as FieldErrors;
  const add = (field: string, problem: string) => (errors[field] ??= []).push(problem);
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) add([...issue.path, key].map(String).join('.'), 'is not allowed');
      continue;
    }
    add(issue.path.length === 0 ? whole : issue.path.map(String).join('.'), describeIssue(issue));
  }
  return errors;
}

/**
 * The API's error handler: its own refusals as they are; a UserError with the status its code maps
 * to in src/shared/errors.ts; Fastify's 4xx (bad JSON, body too large) in the same envelope.
 * Anything else is a bug: logged with a reference.
 */
export function handleApiError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof ApiError) return sendApiError(reply, error.statusCode, error.message, error.errors);
  if (error instanceof UserError) return sendApiError(reply, httpStatusOf(error.code), error.message);
  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) return sendApiError(reply, status, error.message);
  request.log.error({ err: error, ref: request.id }, 'request failed');
  return reply.status(500).send({ success: false, error: 'Internal Server Error', message: `Something went wrong (ref ${request.id}).` });
}
