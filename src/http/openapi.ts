import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { API_SCOPES, DEFAULT_RATE_LIMIT_PER_MINUTE, type ApiScope } from '../domain/api-access/tokens.js';
import { fieldErrorsOf, notFound, validationError } from './api-validation.js';
import type { FieldErrors } from './http-errors.js';
import { UNAUTHORIZED_MESSAGE, type ApiAuth } from './auth.js';

// The external API's routes as data. Each route declares its method, path, scope, the zod schemas
// of its path parameters, query and body, and the schema of its answer; `ApiRouteRegistry.mount`
// turns that into a Fastify route that validates with those schemas, and `document()` into the
// OpenAPI 3.1 description served at /openapi.json. One declaration, so the two cannot drift.

export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Refusals a route declares itself. The rest follow from the spec: 401, 403 and 429 with a scope,
 * 400, 413 and 415 with a method that carries a body, 422 with a body or query, 400, 404 and 414
 * with path parameters, 500 always.
 */
export type ApiErrorStatus = 404 | 409 | 422;

export interface ApiRouteSpec {
  /** Unique, camelCase: the OpenAPI operationId. */
  operationId: string;
  method: ApiMethod;
  /** Fastify syntax, relative to the API prefix: `/customers/:id`. */
  path: string;
  /** The token scope the route requires; null for the one public route (the document itself). */
  scope: ApiScope | null;
  tag: string;
  summary: string;
  description?: string;
  /** Path parameters (strings on the wire). One that does not parse means "no such thing": 404. */
  params?: z.ZodType;
  /** The 404 message for path parameters that cannot name anything (`/customers/abc`). */
  notFound?: (params: Record<string, string>) => string;
  /** Query parameters: a strict object of strings, so a typo is a 422 naming it. */
  query?: z.ZodType;
  body?: z.ZodType;
  /** A body the route accepts, shown in the document (the tests send it). */
  bodyExample?: unknown;
  response: {
    status: 200 | 201 | 202;
    description: string;
    /** The answer as JSON (`application/json`). */
    schema: z.ZodType;
    /**
     * Other media types the route may answer with instead, by media type (`text/csv` for a file):
     * the handler returns the body as a string and sets the Content-Type itself.
     */
    alternatives?: Record<string, z.ZodString>;
    /** Extra response headers: name → description. */
    headers?: Record<string, string>;
  };
  errors?: readonly ApiErrorStatus[];
}

type Parsed<S, K extends 'params' | 'query' | 'body'> = S extends { [P in K]: infer T extends z.ZodType } ? z.output<T> : undefined;

export interface ApiRouteInput<S extends ApiRouteSpec> {
  params: Parsed<S, 'params'>;
  query: Parsed<S, 'query'>;
  body: Parsed<S, 'body'>;
  request: FastifyRequest;
  reply: FastifyReply;
}

type AlternativeBody<S extends ApiRouteSpec> = S['response'] extends { alternatives: Record<string, z.ZodString> } ? string : never;

/** Returns the whole response body; the status is the spec's. */
export type ApiRouteHandler<S extends ApiRouteSpec> = (input: ApiRouteInput<S>) => Promise<z.output<S['response']['schema']> | AlternativeBody<S>>;

/** Declares a route; `const` keeps the literal types the handler's input is derived from. */
export function defineApiRoute<const S extends ApiRouteSpec>(spec: S): S {
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Envelopes and shared schemas

/** `{"success": true, "data": …}` */
export function successEnvelope<T extends z.ZodType>(data: T) {
  return z.object({ success: z.literal(true), data });
}

export const pageMetaSchema = z.object({
  current_page: z.number().int().min(1),
  last_page: z.number().int().min(1).meta({ description: '1 when nothing matches' }),
  per_page: z.number().int().min(1).max(100),
  total: z.number().int().min(0),
});

/** `{"success": true, "data": [ … ], "meta": {current_page, last_page, per_page, total}}` */
export function pageEnvelope<T extends z.ZodType>(item: T) {
  return z.object({ success: z.literal(true), data: z.array(item), meta: pageMetaSchema });
}

export const errorEnvelopeSchema = z
  .object({
    success: z.literal(false),
    error: z.string().meta({ description: 'The HTTP reason phrase', examples: ['Unprocessable Entity'] }),
    message: z.string().meta({ description: 'What went wrong, for a person; on 422 it starts with the first bad field' }),
    errors: z
      .record(z.string(), z.array(z.string()))
      .optional()
      .meta({ description: 'On 422: every problem, by field (dotted path for nested fields)', examples: [{ per_page: ['must be at most 100'] }] }),
  })
  .meta({ description: 'Every refusal has this shape.' });

/** An instant in an answer: ISO-8601 in UTC, as `Date.prototype.toISOString` writes it. */
export const timestampSchema = z.string().meta({ format: 'date-time', description: 'ISO-8601, UTC', examples: ['2025-01-10T08:00:00.000Z'] });

// Path and query parameters are text on the wire, but the document describes what they mean: a
// parameter parsed from digits is shown as the integer it is, with its bounds, instead of as the
// string schema zod derives from the parser's input side.
const parameterSchemas = z.registry<JsonSchema, z.core.$ZodType>();

/** A positive database id in a path: digits only, no sign, no leading zero, within 2^53. */
export const idParam = z
  .string()
  .regex(/^[1-9]\d{0,15}$/)
  .transform(Number)
  .refine((n) => Number.isSafeInteger(n))
  .meta({ description: 'A positive whole number; anything else is answered 404' });
parameterSchemas.add(idParam, { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, examples: [45] });

/**
 * A whole number from `min` to `max` in a query string: digits only (no sign, point, exponent or
 * space), documented as an integer with those bounds.
 */
export function wholeNumberParam(bounds: { min: number; max: number; example: number }) {
  const schema = z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform((digits, ctx) => {
      // More digits than any bound has is out of range, and must not round on the way to a number.
      const value = digits.length > 15 ? Infinity : Number(digits);
      if (value < bounds.min || value > bounds.max) {
        ctx.addIssue({ code: 'custom', message: value < bounds.min ? `must be at least ${bounds.min}` : `must be at most ${bounds.max}` });
        return z.NEVER;
      }
      return value;
    });
  parameterSchemas.add(schema, { type: 'integer', minimum: bounds.min, maximum: bounds.max, examples: [bounds.example] });
  return schema;
}

// No C0 control characters or DEL: they have no place in a name, an email or a search, and a NUL
// byte means something different to every layer between here and the disk.
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
export const NO_CONTROL_CHARACTERS = /^[^\x00-\x1f\x7f]*$/;

/** Free text without control characters. */
export function plainText() {
  return z.string().regex(NO_CONTROL_CHARACTERS, 'must not contain control characters');
}

// ---------------------------------------------------------------------------------------------
// Input parsing

function shapeKeys(schema: z.ZodType): string[] {
  if (!(schema instanceof z.ZodObject)) return [];
  const shape = schema.shape as Record<string, z.ZodType>;
  // A key the schema forbids outright (z.never) is never a helpful suggestion.
  return Object.keys(shape).filter((key) => {
    const field = shape[key];
    const inner = field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field;
    return !(inner instanceof z.ZodNever);
  });
}

function squash(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The known key an unknown one is most likely a typo of (`sortby`, `perPage`, `sort-by`), if any. */
export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  if (unknown.length > 64) return undefined;
  const squashed = squash(unknown);
  const exact = known.find((k) => squash(k) === squashed);
  if (exact) return exact;
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(squashed, squash(key));
    if (distance <= 2 && distance < squash(key).length / 2 && (!best || distance < best.distance)) best = { key, distance };
  }
  return best?.key;
}

function withSuggestions(errors: FieldErrors, known: readonly string[]): FieldErrors {
  if (known.length === 0) return errors;
  const out = Object.create(null) as FieldErrors;
  for (const [field, problems] of Object.entries(errors)) {
    const hint = problems.includes('is not allowed') ? suggestKey(field, known) : undefined;
    out[field] = hint ? problems.map((p) => (p === 'is not allowed' ? `is not allowed (did you mean ${hint}?)` : p)) : problems;
  }
  return out;
}

/**
 * Parses a route's query or body against its allow-list schema, or throws a 422 naming each bad
 * field; an unknown key close to a known one says which was probably meant.
 */
export function parseRouteInput<S extends z.ZodType>(schema: S, input: unknown, where: 'query' | 'body'): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw validationError(withSuggestions(fieldErrorsOf(result.error, where), shapeKeys(schema)));
}

// ---------------------------------------------------------------------------------------------
// The registry

/** Fastify's path syntax to OpenAPI's: `/customers/:id` → `/customers/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

export type OpenApiDocument = {
  openapi: '3.1.0';
  info: Record<string, unknown>;
  servers: Array<{ url: string; description?: string }>;
  security: Array<Record<string, string[]>>;
  tags: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: Record<string, Record<string, unknown>>;
};

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Array<Record<string, string[]>>;
  'x-required-scope'?: ApiScope;
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; content: { 'application/json': { schema: JsonSchema; example?: unknown } } };
  responses: Record<string, unknown>;
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

export type JsonSchema = Record<string, unknown>;

export interface ApiDocumentOptions {
  /** The base path the API is served under, e.g. `/api/external/v1`. */
  basePath: string;
  title?: string;
  version?: string;
}

/** The routes of the API and its OpenAPI document. Create one per app (api.ts does). */
export class ApiRouteRegistry {
  private readonly specs: ApiRouteSpec[] = [];
  private readonly served = new Set<string>();
  private cached: OpenApiDocument | null = null;

  constructor(private readonly options: ApiDocumentOptions) {}

  /**
   * Adds the route to `app` (the API scope whose hooks authenticate the token) and to the
   * document. The handler receives its parameters, query and body already validated.
   */
  mount<S extends ApiRouteSpec>(app: FastifyInstance, auth: ApiAuth | null, spec: S, handler: NoInfer<ApiRouteHandler<S>>): void {
    if (spec.scope !== null && auth === null) throw new Error(`API route ${spec.method} ${spec.path} needs the token check to require ${spec.scope}`);
    this.add(spec);
    app.route({
      method: spec.method,
      url: spec.path,
      ...(spec.scope !== null && auth !== null ? { preHandler: auth.requireScope(spec.scope) } : {}),
      handler: async (request, reply) => {
        const input = {
          params: spec.params ? parseParams(spec, spec.params, request.params) : undefined,
          query: spec.query ? parseRouteInput(spec.query, request.query ?? {}, 'query') : undefined,
          body: spec.body ? parseRouteInput(spec.body, request.body, 'body') : undefined,
          request,
          reply,
        } as ApiRouteInput<S>;
        const body = await handler(input);
        return reply.status(spec.response.status).send(body);
      },
    });
  }

  /** Documents a route another module registers by itself (its validation is its own). */
  describe(spec: ApiRouteSpec): void {
    this.add(spec);
  }

  /** For the API scope's onRoute hook: remembers every route actually served. */
  noteServedRoute(route: { method: string | string[]; url: string }): void {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') this.served.add(`${method} ${route.url}`);
    }
  }

  /** Served routes the document does not describe (a test keeps this empty). */
  undocumentedRoutes(): string[] {
    const documented = new Set(this.specs.map((s) => `${s.method} ${this.options.basePath}${s.path}`));
    return [...this.served].filter((r) => !documented.has(r)).sort();
  }

  routes(): readonly ApiRouteSpec[] {
    return this.specs;
  }

  /** The OpenAPI 3.1 document, built once from the declared routes. */
  document(): OpenApiDocument {
    this.cached ??= buildOpenApiDocument(this.specs, this.options);
    return this.cached;
  }

  private add(spec: ApiRouteSpec): void {
    if (this.specs.some((s) => s.operationId === spec.operationId || (s.method === spec.method && s.path === spec.path))) {
      throw new Error(`API route ${spec.method} ${spec.path} (${spec.operationId}) is declared twice`);
    }
    this.specs.push(spec);
    this.cached = null;
  }
}

function parseParams(spec: ApiRouteSpec, schema: z.ZodType, raw: unknown): unknown {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw notFound(spec.notFound?.(raw as Record<string, string>) ?? 'Not Found');
}

// ---------------------------------------------------------------------------------------------
// The document

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const converted = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const parameter = parameterSchemas.get(zodSchema);
      if (!parameter) return;
      for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
      Object.assign(jsonSchema, parameter);
    },
  }) as JsonSchema;
  delete converted.$schema;
  return converted;
}

function parametersOf(schema: z.ZodType, where: 'path' | 'query'): OpenApiParameter[] {
  const object = jsonSchemaOf(schema, 'input');
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

const RATE_LIMIT_HEADERS = {
  'X-RateLimit-Limit': { $ref: '#/components/headers/X-RateLimit-Limit' },
  'X-RateLimit-Remaining': { $ref: '#/components/headers/X-RateLimit-Remaining' },
  'X-RateLimit-Reset': { $ref: '#/components/headers/X-RateLimit-Reset' },
};

interface ErrorResponse {
  name: string;
  description: string;
  example: Record<string, unknown>;
  headers?: Record<string, unknown>;
}

const ERROR_RESPONSES: Record<number, ErrorResponse> = {
  400: {
    name: 'BadRequest',
    description: 'The body is not valid JSON, or is empty while Content-Type says JSON; or the URL is not valid percent-encoded UTF-8.',
    example: { success: false, error: 'Bad Request', message: "Body is not valid JSON but content-type is set to 'application/json'" },
  },
  401: {
    name: 'Unauthorized',
    description: 'No token, a malformed Authorization header, or a token that is unknown, revoked or expired (all look the same).',
    example: { success: false, error: 'Unauthorized', message: UNAUTHORIZED_MESSAGE },
    headers: { 'WWW-Authenticate': { description: 'Always `Bearer`.', schema: { type: 'string', const: 'Bearer' } } },
  },
  403: {
    name: 'Forbidden',
    description: 'The token does not carry the scope this route requires.',
    example: { success: false, error: 'Forbidden', message: 'Token does not have the required scope: customers:read' },
    headers: RATE_LIMIT_HEADERS,
  },
  404: {
    name: 'NotFound',
    description: 'Nothing has this id (an id that cannot be one, such as `abc`, is answered the same way).',
    example: { success: false, error: 'Not Found', message: 'No customer has id 45.' },
    headers: RATE_LIMIT_HEADERS,
  },
  409: {
    name: 'Conflict',
    description: 'The resource is in a state that does not allow this (e.g. a disabled webhook endpoint).',
    example: { success: false, error: 'Conflict', message: 'Webhook endpoint 3 is disabled; enable it before sending a test.' },
    headers: RATE_LIMIT_HEADERS,
  },
  414: {
    name: 'UriTooLong',
    description: 'A path parameter is longer than any id can be.',
    example: { success: false, error: 'URI Too Long', message: "'/api/external/v1/customers/xxxxxxxx…' is not a valid url component" },
  },
  413: {
    name: 'PayloadTooLarge',
    description: 'The body is over 1 MiB (read even where the operation takes no body).',
    example: { success: false, error: 'Payload Too Large', message: 'Request body is too large' },
    headers: RATE_LIMIT_HEADERS,
  },
  415: {
    name: 'UnsupportedMediaType',
    description: 'The body is neither `application/json` nor `text/plain` (read even where the operation takes no body).',
    example: { success: false, error: 'Unsupported Media Type', message: 'Unsupported Media Type' },
    headers: RATE_LIMIT_HEADERS,
  },
  422: {
    name: 'UnprocessableEntity',
    description:
      'Validation failed: `message` names the first bad field, `errors` lists every problem by field. Unknown body fields are refused too, and so are ' +
      'unknown query parameters on an operation that takes query parameters (elsewhere the query is not read). ' +
      'A refused registration or checkout (a ban) is also a 422, with the generic message and no field.',
    example: { success: false, error: 'Unprocessable Entity', message: 'per_page: must be at most 100', errors: { per_page: ['must be at most 100'] } },
    headers: RATE_LIMIT_HEADERS,
  },
  429: {
    name: 'TooManyRequests',
    description: "Over the token's requests per minute; retry after `Retry-After` seconds.",
    example: { success: false, error: 'Too Many Requests', message: 'Rate limit of 60 requests per minute exceeded; retry in 40 s.' },
    headers: { ...RATE_LIMIT_HEADERS, 'Retry-After': { $ref: '#/components/headers/Retry-After' } },
  },
  500: {
    name: 'InternalServerError',
    description: 'A bug on our side; the message carries a reference to quote to the store.',
    example: { success: false, error: 'Internal Server Error', message: 'Something went wrong (ref k3f9a1).' },
  },
};

const METHODS_WITH_BODY = new Set<ApiMethod>(['POST', 'PUT', 'PATCH', 'DELETE']);

function errorRef(status: number): { $ref: string } {
  const response = ERROR_RESPONSES[status];
  if (!response) throw new Error(`no documented error response for ${status}`);
  return { $ref: `#/components/responses/${response.name}` };
}

function operationOf(spec: ApiRouteSpec): OpenApiOperation {
  const parameters = [...(spec.params ? parametersOf(spec.params, 'path') : []), ...(spec.query ? parametersOf(spec.query, 'query') : [])];
  const successHeaders: Record<string, unknown> = spec.scope === null ? {} : { ...RATE_LIMIT_HEADERS };
  for (const [name, description] of Object.entries(spec.response.headers ?? {})) successHeaders[name] = { description, schema: { type: 'string' } };

  const errorStatuses = new Set<number>(spec.errors ?? []);
  if (spec.scope !== null) for (const status of [401, 403, 429]) errorStatuses.add(status);
  // The body is read and parsed before any route runs, on every method that may carry one, so a
  // route that takes none still answers malformed JSON, an unknown media type or a huge body.
  if (spec.body || METHODS_WITH_BODY.has(spec.method)) for (const status of [400, 413, 415]) errorStatuses.add(status);
  if (spec.body) errorStatuses.add(422);
  if (spec.query) errorStatuses.add(422);
  // The router refuses a path parameter that is not valid UTF-8 or is too long before the route runs.
  if (spec.params) for (const status of [400, 404, 414]) errorStatuses.add(status);
  errorStatuses.add(500);

  const responses: Record<string, unknown> = {
    [String(spec.response.status)]: {
      description: spec.response.description,
      ...(Object.keys(successHeaders).length > 0 ? { headers: successHeaders } : {}),
      content: {
        'application/json': { schema: jsonSchemaOf(spec.response.schema, 'output') },
        ...Object.fromEntries(Object.entries(spec.response.alternatives ?? {}).map(([media, schema]) => [media, { schema: jsonSchemaOf(schema, 'output') }])),
      },
    },
  };
  for (const status of [...errorStatuses].sort((a, b) => a - b)) responses[String(status)] = errorRef(status);

  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    // OpenAPI 3.1 lets a non-OAuth scheme list the roles a call needs: here, the token scope.
    security: spec.scope === null ? [] : [{ bearerAuth: [spec.scope] }],
    ...(spec.scope === null ? {} : { 'x-required-scope': spec.scope }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: jsonSchemaOf(spec.body, 'input'),
                ...(spec.bodyExample === undefined ? {} : { example: spec.bodyExample }),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

const TAG_DESCRIPTIONS: Record<string, string> = {
  Customers: 'Customers, their figures and recent orders.',
  Checkout: 'Ask whether a purchase may go ahead.',
  'Account linking': 'One-time links that let a customer connect Discord and Steam.',
  Webhooks: 'Endpoints that receive signed `customer.created` events, and their delivery log.',
  Meta: 'This document.',
};

/** Builds the OpenAPI 3.1 document of the given routes. */
export function buildOpenApiDocument(specs: readonly ApiRouteSpec[], options: ApiDocumentOptions): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const spec of specs) {
    const item = (paths[openApiPath(spec.path)] ??= {});
    item[spec.method.toLowerCase()] = operationOf(spec);
  }
  const tags = [...new Set(specs.map((s) => s.tag))].map((name) => ({ name, ...(TAG_DESCRIPTIONS[name] ? { description: TAG_DESCRIPTIONS[name] } : {}) }));

  const responses: Record<string, unknown> = {};
  for (const response of Object.values(ERROR_RESPONSES)) {
    responses[response.name] = {
      description: response.description,
      ...(response.headers ? { headers: response.headers } : {}),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' }, example: response.example } },
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'Customer desk REST API',
      version: options.version ?? '1.0.0',
      description:
        'The store\'s customers over HTTP. Every call but this document needs `Authorization: Bearer <token>` with the scope the operation lists. ' +
        'Successful answers are `{"success": true, "data": …}` (lists add `meta`); refusals are `{"success": false, "error", "message"}`. ' +
        `Money is a decimal string ("29.99"); times are ISO-8601 in UTC. Each token has its own rate limit (default ${DEFAULT_RATE_LIMIT_PER_MINUTE} requests a minute).`,
    },
    servers: [{ url: options.basePath, description: 'This server' }],
    security: [{ bearerAuth: [] }],
    tags,
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: `An API token (\`cdk_…\`), issued with \`npm run token\`. Scopes: ${API_SCOPES.join(', ')}.`,
        },
      },
      schemas: { Error: jsonSchemaOf(errorEnvelopeSchema, 'output') },
      headers: {
        'X-RateLimit-Limit': { description: "The token's requests per minute.", schema: { type: 'integer' } },
        'X-RateLimit-Remaining': { description: 'Requests left in the current minute.', schema: { type: 'integer' } },
        'X-RateLimit-Reset': { description: 'When the current minute ends, in seconds since the Unix epoch.', schema: { type: 'integer' } },
        'Retry-After': { description: 'Seconds until the token may call again.', schema: { type: 'integer' } },
      },
      responses,
    },
  };
}

/** GET /openapi.json: public (no token, no rate limit), so tooling can fetch it as is. */
export const openApiDocumentRoute = defineApiRoute({
  operationId: 'getOpenApiDocument',
  method: 'GET',
  path: '/openapi.json',
  scope: null,
  tag: 'Meta',
  summary: 'This OpenAPI 3.1 document',
  description: 'Needs no token. Generated from the same schemas that validate every request.',
  response: { status: 200, description: 'The document', schema: z.record(z.string(), z.unknown()) },
});
