import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseIp } from '../../domain/bans/targets.js';
import { checkIdentifiers, refusalFor } from '../../domain/bans/bans.js';
import { registerCustomer, rectifyCustomer } from '../../domain/customers/accounts.js';
import { DEFAULT_PER_PAGE, listCustomers, MAX_PER_PAGE, SEARCH_MAX_LENGTH } from '../../domain/customers/list.js';
import { computeStatistics } from '../../domain/customers/profile.js';
import { GENERIC_REFUSAL, UserError, type UserErrorCode } from '../../shared/errors.js';
import { formatMoney } from '../../shared/money.js';
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../domain/customers/passwords.js';
import type { Customer, CustomerFilter, CustomerSort } from '../../domain/customers/types.js';
import { EMAIL_MAX_LENGTH, EMAIL_SHAPE, GAME_USER_ID_MAX_LENGTH, NAME_MAX_LENGTH } from '../../shared/input-fields.js';
import { ORDER_STATUSES } from '../../shared/vocabulary.js';
import { findCustomerById, METADATA_MAX_BYTES, METADATA_MAX_KEYS } from '../../store/customer.repository.js';
import { listRecentOrdersOfCustomer, type OrderSummary } from '../../store/order.repository.js';
import { fieldError, notFound } from '../api-validation.js';
import { ApiError } from '../http-errors.js';
import { apiActor, tokenOf, type ApiAuth } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { defineApiRoute, idParam, pageEnvelope, plainText, successEnvelope, timestampSchema, wholeNumberParam, type ApiRouteHandler, type ApiRouteRegistry } from '../openapi.js';

/** How many orders the detail shows, newest first (every status; the figures count completed ones). */
export const RECENT_ORDERS_LIMIT = 50;

export const CUSTOMER_SORT_FIELDS = ['created_at', 'name', 'email', 'orders_count', 'total_spent', 'last_order_at'] as const;
type SortField = (typeof CUSTOMER_SORT_FIELDS)[number];
const SORT_OF_FIELD: Record<SortField, CustomerSort> = {
  created_at: 'newest',
  name: 'name',
  email: 'email',
  orders_count: 'most_orders',
  total_spent: 'highest_spending',
  last_order_at: 'last_order',
};
const FILTERS = ['all', 'has_orders', 'repeat', 'loyal', 'at_risk'] as const satisfies readonly CustomerFilter[];

// A page past the end is empty; past this one it is refused, before any arithmetic on it.
const MAX_PAGE = 999_999_999;
const DISCORD_ID = /^\d{17,20}$/;
const STEAM_ID64 = /^7656119\d{10}$/;
const REFERRAL_CODE = /^[A-Za-z0-9_-]{4,32}$/;
const LINKED_ACCOUNTS_REFUSAL =
  'linked Discord and Steam accounts are changed only by the customer, through the account-link page (POST /customers/{id}/link-url)';

// ---------------------------------------------------------------------------------------------
// Input schemas

const DATE_OR_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** A registration bound: the instant it starts at, and for a bare date the start of the next day. */
interface DateBound {
  at: string;
  nextDay: string | null;
}

const dateParam = z
  .string()
  .regex(DATE_OR_DATE_TIME, 'must be a date (YYYY-MM-DD) or an ISO-8601 date-time such as 2025-01-10T08:00:00Z')
  .meta({ examples: ['2025-01-10', '2025-01-10T08:00:00Z'] })
  .transform((text, ctx): DateBound => {
    const match = DATE_OR_DATE_TIME.exec(text);
    const [, y, m, d, hh, mm, ss, zone] = match ?? [];
    const day = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
    // Date.parse('2025-02-30') quietly means 2 March: check the calendar by hand.
    const realDay = day.getUTCFullYear() === Number(y) && day.getUTCMonth() === Number(m) - 1 && day.getUTCDate() === Number(d);
    if (!realDay || Number(hh ?? 0) > 23 || Number(mm ?? 0) > 59 || Number(ss ?? 0) > 59) {
      ctx.addIssue({ code: 'custom', message: 'is not a real date and time' });
      return z.NEVER;
    }
    if (hh === undefined) {
      const next = new Date(day);
      next.setUTCDate(next.getUTCDate() + 1);
      return { at: day.toISOString(), nextDay: next.toISOString() };
    }
    // A date-time without a zone is read as UTC, never as the server's local time.
    const time = Date.parse(zone === undefined ? `${text}Z` : text);
    if (Number.isNaN(time)) {
      ctx.addIssue({ code: 'custom', message: 'is not a real date and time' });
      return z.NEVER;
    }
    return { at: new Date(time).toISOString(), nextDay: null };
  });


export const listCustomersQuery = z
  .strictObject({
    search: plainText()
      .max(SEARCH_MAX_LENGTH)
      .optional()
      .meta({ description: 'Part of the name or email, from one character up, in any letter case of any script; accents count ("u" does not find "ü")', examples: ['player'] }),
    email: plainText()
      .trim()
      .min(1, 'must not be empty')
      .max(EMAIL_MAX_LENGTH)
      .optional()
      .meta({ description: 'Exactly this email, any case', examples: ['player@example.com'] }),
    registered_after: dateParam.optional().meta({ description: 'Registered at or after this instant. A bare date (UTC) includes that whole day.' }),
    registered_before: dateParam.optional().meta({
      description: 'Registered before this instant. A bare date (UTC) includes that whole day, as in the dashboard export.',
    }),
    sort_by: z
      .enum(CUSTOMER_SORT_FIELDS)
      .optional()
      .meta({ description: 'Default created_at. Customers with no order sort last by last_order_at desc (first asc).' }),
    sort_order: z
      .enum(['asc', 'desc'])
      .optional()
      .meta({ description: 'Default: desc for created_at, orders_count, total_spent and last_order_at; asc for name and email' }),
    filter: z
      .enum(FILTERS)
      .optional()
      .meta({ description: 'has_orders = 1+ completed orders, repeat = 2+, loyal = 5+, at_risk = orders but none in AT_RISK_DAYS (90)' }),
    page: wholeNumberParam({ min: 1, max: MAX_PAGE, example: 1 })
      .optional()
      .meta({ description: 'Page number, from 1 (a page past the end is empty)' }),
    per_page: wholeNumberParam({ min: 1, max: MAX_PER_PAGE, example: DEFAULT_PER_PAGE })
      .optional()
      .meta({ description: `Items per page, 1–${MAX_PER_PAGE} (default ${DEFAULT_PER_PAGE}); more than ${MAX_PER_PAGE} is refused with 422` }),
  })
  .superRefine((query, ctx) => {
    const after = query.registered_after;
    const before = query.registered_before;
    if (after && before && after.at >= (before.nextDay ?? before.at)) {
      ctx.addIssue({ code: 'custom', path: ['registered_before'], message: 'must be later than registered_after' });
    }
  });

const customerParams = z.object({ id: idParam });
const noCustomer = (params: Record<string, string>) => `No customer has id ${(params.id ?? '').slice(0, 40)}.`;

const ipAddress = z
  .string()
  .trim()
  .max(64)
  .refine((text) => {
    try {
      parseIp(text);
      return true;
    } catch {
      return false;
    }
  }, 'is not an IPv4 or IPv6 address');

const name = plainText().trim().min(1, 'must not be empty').max(NAME_MAX_LENGTH);
const email = plainText()
  .trim()
  .min(1, 'must not be empty')
  .max(EMAIL_MAX_LENGTH)
  .regex(EMAIL_SHAPE, 'is not an email address')
  // No `format: email`: that format is ASCII only (RFC 5321), and international addresses are welcome.
  .meta({ description: 'An email address (international ones too)', examples: ['player@example.com'] });
const country = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "US"')
  .nullable()
  .meta({ description: 'ISO 3166-1 alpha-2, e.g. "US"', examples: ['US'] });
const gameUserId = plainText().trim().max(GAME_USER_ID_MAX_LENGTH);
const metadata = z
  .record(z.string().max(100), z.unknown())
  .refine((m) => Object.keys(m).length <= METADATA_MAX_KEYS, `must have at most ${METADATA_MAX_KEYS} keys`)
  .meta({ maxProperties: METADATA_MAX_KEYS });

export const registerCustomerBody = z.strictObject({
  name,
  email,
  password: z
    .string()
    .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
    .max(PASSWORD_MAX_LENGTH)
    .optional()
    .meta({ writeOnly: true, description: 'Stored only as a scrypt hash; never returned' }),
  country: country.optional().meta({ description: 'ISO 3166-1 alpha-2; when absent, looked up from `ip` in an offline GeoIP database' }),
  discord_id: z.string().regex(DISCORD_ID, 'must be a Discord user id (17 to 20 digits)').optional(),
  steam_id: z.string().regex(STEAM_ID64, 'must be a SteamID64 (17 digits starting 7656119)').optional(),
  game_user_id: gameUserId.min(1, 'must not be empty').optional().meta({ description: 'In-game name or id' }),
  referral_code_used: z
    .string()
    .trim()
    .regex(REFERRAL_CODE, 'must be 4 to 32 letters, digits, "-" or "_"')
    .optional()
    .meta({ description: "The referral code the customer entered: its owner becomes referred_by" }),
  referred_by: z.number().int().min(1).optional().meta({ description: 'The id of the customer who referred them' }),
  metadata: metadata.optional().meta({ description: `Free key/value pairs (at most ${METADATA_MAX_KEYS} keys, ${METADATA_MAX_BYTES / 1024} KiB as JSON)` }),
  ip: ipAddress.optional().meta({
    writeOnly: true,
    description: 'The address the customer registered from: checked against IP bans, kept for fraud checks, never returned',
    examples: ['203.0.113.7'],
  }),
});

const linkedAccountField = z.never({ error: LINKED_ACCOUNTS_REFUSAL }).optional().meta({ description: `Refused (422): ${LINKED_ACCOUNTS_REFUSAL}` });
const CORRECTABLE = ['name', 'email', 'country', 'game_user_id', 'metadata'] as const;

export const updateCustomerBody = z
  .strictObject({
    name: name.optional(),
    email: email.optional(),
    country: country.optional(),
    game_user_id: gameUserId.nullable().optional().meta({ description: 'In-game name or id; null or "" clears it' }),
    metadata: metadata.optional().meta({
      description:
        'Merged into the stored metadata key by key; a key set to null is removed (JSON Merge Patch at the top level). ' +
        `The result is bounded (${METADATA_MAX_KEYS} keys, ${METADATA_MAX_BYTES / 1024} KiB).`,
    }),
    discord_id: linkedAccountField,
    discord_username: linkedAccountField,
    discord_avatar: linkedAccountField,
    discord: linkedAccountField,
    steam_id: linkedAccountField,
    steam_username: linkedAccountField,
    steam_avatar: linkedAccountField,
    steam: linkedAccountField,
  })
  .refine((body) => CORRECTABLE.some((field) => body[field] !== undefined), { message: `must change at least one of ${CORRECTABLE.join(', ')}` })
  .meta({ minProperties: 1 });

export const checkoutCheckBody = z
  .strictObject({
    email: plainText().trim().min(1, 'must not be empty').max(EMAIL_MAX_LENGTH).optional(),
    ip: ipAddress.optional().meta({ examples: ['203.0.113.7'] }),
    discord_id: z.string().regex(DISCORD_ID, 'must be a Discord user id (17 to 20 digits)').optional(),
    game_id: plainText().trim().min(1, 'must not be empty').max(GAME_USER_ID_MAX_LENGTH).optional().meta({ description: 'In-game name or id, or a Steam ID' }),
    steam_id: z.string().regex(STEAM_ID64, 'must be a SteamID64 (17 digits starting 7656119)').optional(),
    customer_id: z.number().int().min(1).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'must include at least one of email, ip, discord_id, game_id, steam_id, customer_id' })
  .meta({ minProperties: 1 });

// ---------------------------------------------------------------------------------------------
// Response schemas and mapping

const money = z.string().regex(/^-?\d+\.\d{2}$/).meta({ description: 'Decimal amount in the store currency', examples: ['29.99'] });
const linkedAccount = z.object({ id: z.string(), username: z.string().nullable(), avatar: z.string().nullable() }).nullable();

export const customerSummarySchema = z.object({
  id: z.number().int(),
  name: z.string(),
  email: z.string(),
  orders_count: z.number().int().meta({ description: 'Completed (paid or completed) orders' }),
  support_tickets_count: z.number().int(),
  created_at: timestampSchema,
  updated_at: timestampSchema,
  country: z.string().nullable(),
  total_spent: money,
  last_order_at: timestampSchema.nullable(),
  discord_username: z.string().nullable(),
  steam_username: z.string().nullable(),
});

export const customerDetailSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  email: z.string(),
  orders_count: z.number().int(),
  support_tickets_count: z.number().int(),
  orders: z
    .array(
      z.object({
        id: z.number().int(),
        order_number: z.string(),
        total: money,
        status: z.enum(ORDER_STATUSES),
        created_at: timestampSchema,
      }),
    )
    .meta({ description: `The ${RECENT_ORDERS_LIMIT} most recent orders of any status, newest first` }),
  statistics: z.object({
    total_spent: money,
    total_orders: z.number().int().meta({ description: 'Completed (paid or completed) orders' }),
    average_order_value: money,
    last_order_date: timestampSchema.nullable(),
  }),
  created_at: timestampSchema,
  updated_at: timestampSchema,
  country: z.string().nullable(),
  game_user_id: z.string().nullable(),
  discord: linkedAccount,
  steam: linkedAccount,
  referral_code: z.string().nullable(),
  referred_by: z.number().int().nullable(),
  metadata: z.record(z.string(), z.unknown()),
});

const checkResultSchema = z.union([
  z.object({ allowed: z.literal(true) }),
  z.object({ allowed: z.literal(false), message: z.literal(GENERIC_REFUSAL).meta({ description: 'Show this to the customer as it is' }) }),
]);

/** The list row: the fields of docs/product.md#rest-api first, then ours. Never a password hash, an IP or a secret. */
export function customerSummaryJson(customer: Customer): z.output<typeof customerSummarySchema> {
  return {
    id: customer.id,
    name: customer.name,
    email: customer.email,
    orders_count: customer.ordersCount,
    support_tickets_count: customer.supportTicketsCount,
    created_at: customer.createdAt,
    updated_at: customer.updatedAt,
    country: customer.country,
    total_spent: formatMoney(customer.totalSpentCents),
    last_order_at: customer.lastOrderAt,
    discord_username: customer.discord?.username ?? null,
    steam_username: customer.steam?.username ?? null,
  };
}

/** The detail shape of docs/product.md#rest-api, key for key, then linked accounts, referral and metadata. */
// The detail writes its opening keys out again instead of spreading a shared object: a spread
// built this way doubles the peak memory of the GET /customers/:id benchmark (bench/results.md,
// "Measurements behind choices in the code").
export function customerDetailJson(customer: Customer, recentOrders: readonly OrderSummary[]): z.output<typeof customerDetailSchema> {
  const statistics = computeStatistics(customer);
  return {
    id: customer.id,
    name: customer.name,
    email: customer.email,
    orders_count: customer.ordersCount,
    support_tickets_count: customer.supportTicketsCount,
    orders: recentOrders.map((order) => ({
      id: order.id,
      order_number: order.orderNumber,
      total: formatMoney(order.totalCents),
      status: order.status,
      created_at: order.createdAt,
    })),
    statistics: {
      total_spent: formatMoney(statistics.totalSpentCents),
      total_orders: statistics.totalOrders,
      average_order_value: formatMoney(statistics.averageOrderValueCents),
      last_order_date: statistics.lastOrderAt,
    },
    created_at: customer.createdAt,
    updated_at: customer.updatedAt,
    country: customer.country,
    game_user_id: customer.gameUserId,
    discord: customer.discord && { id: customer.discord.id, username: customer.discord.username, avatar: customer.discord.avatar },
    steam: customer.steam && { id: customer.steam.id, username: customer.steam.username, avatar: customer.steam.avatar },
    referral_code: customer.referralCode,
    referred_by: customer.referredBy,
    metadata: customer.metadata,
  };
}

// ---------------------------------------------------------------------------------------------
// Routes

const DETAIL_DESCRIPTION = 'The customer, its recent `orders` and `statistics`, then linked accounts, referral and metadata.';

export const customerRouteSpecs = {
  list: defineApiRoute({
    operationId: 'listCustomers',
    method: 'GET',
    path: '/customers',
    scope: 'customers:read',
    tag: 'Customers',
    summary: 'List customers',
    description:
      'Filter, search, sort and page through customers. Unknown query parameters are refused with 422 (with a hint for likely typos such as `sortby`).',
    query: listCustomersQuery,
    response: { status: 200, description: 'One page of customers', schema: pageEnvelope(customerSummarySchema) },
    errors: [422],
  }),
  get: defineApiRoute({
    operationId: 'getCustomer',
    method: 'GET',
    path: '/customers/:id',
    scope: 'customers:read',
    tag: 'Customers',
    summary: 'Get one customer with statistics and recent orders',
    description: DETAIL_DESCRIPTION,
    params: customerParams,
    notFound: noCustomer,
    response: { status: 200, description: 'The customer', schema: successEnvelope(customerDetailSchema) },
    errors: [404],
  }),
  create: defineApiRoute({
    operationId: 'createCustomer',
    method: 'POST',
    path: '/customers',
    scope: 'customers:write',
    tag: 'Customers',
    summary: 'Register a customer',
    description:
      'Checks every identifier presented (email, ip, discord_id, steam_id, game_user_id) against active bans first; a banned one gets 422 with the generic ' +
      `message "${GENERIC_REFUSAL}", no field named, and nothing is created. Emits \`customer.created\` to webhook endpoints.`,
    body: registerCustomerBody,
    bodyExample: {
      name: 'PlayerOne',
      email: 'player@example.com',
      password: 'correct horse battery staple',
      country: 'US',
      game_user_id: 'PlayerOne',
      metadata: { source: 'website' },
      ip: '203.0.113.7',
    },
    response: {
      status: 201,
      description: 'The new customer, in the detail shape',
      schema: successEnvelope(customerDetailSchema),
      headers: { Location: 'The URL of the new customer' },
    },
    errors: [422],
  }),
  update: defineApiRoute({
    operationId: 'updateCustomer',
    method: 'PATCH',
    path: '/customers/:id',
    scope: 'customers:write',
    tag: 'Customers',
    summary: "Correct a customer's details",
    description: `Name, email, country, game user id and metadata. Linked Discord and Steam accounts are refused: ${LINKED_ACCOUNTS_REFUSAL}.`,
    params: customerParams,
    notFound: noCustomer,
    body: updateCustomerBody,
    bodyExample: { name: 'Player One', country: 'DE', metadata: { vip_tier: 'gold', old_key: null } },
    response: { status: 200, description: 'The customer as it is now', schema: successEnvelope(customerDetailSchema) },
    errors: [404, 422],
  }),
  checkoutCheck: defineApiRoute({
    operationId: 'checkCheckout',
    method: 'POST',
    path: '/checkout/check',
    scope: 'customers:read',
    tag: 'Checkout',
    summary: 'May this purchase go ahead?',
    description:
      'Answers whether any identifier presented is banned, or belongs to a customer account that is. A refusal carries only the generic message to show the customer: never which identifier or why.',
    body: checkoutCheckBody,
    bodyExample: { email: 'player@example.com', ip: '203.0.113.7', discord_id: '123456789012345678' },
    response: { status: 200, description: 'The verdict', schema: successEnvelope(checkResultSchema) },
  }),
};

/** POST /customers/:id/link-url lives in api-link.ts (its own validation); this only documents it. */
export const customerLinkUrlDoc = defineApiRoute({
  operationId: 'createCustomerLinkUrl',
  method: 'POST',
  path: '/customers/:id/link-url',
  scope: 'customers:write',
  tag: 'Account linking',
  summary: 'Issue a one-time account-link URL for a customer',
  description: 'Send the logged-in customer to `url` to link Discord and Steam. Single use; expires in 15 minutes; answered with `Cache-Control: no-store`.',
  params: customerParams,
  response: {
    status: 201,
    description: 'The link',
    schema: successEnvelope(z.object({ url: z.string(), expires_at: timestampSchema })),
    headers: { 'Cache-Control': 'no-store' },
  },
  errors: [404, 422],
});

/** Domain refusals about one field, as the field and the problem the API reports. */
const FIELD_PROBLEMS: Partial<Record<UserErrorCode, [field: string, problem: string]>> = {
  name_length: ['name', `must be 1 to ${NAME_MAX_LENGTH} characters`],
  email_invalid: ['email', 'is not an email address'],
  email_taken: ['email', 'is already registered to another customer'],
  country_invalid: ['country', 'must be an ISO 3166-1 alpha-2 code such as "US"'],
  discord_id_invalid: ['discord_id', 'must be a Discord user id (17 to 20 digits)'],
  discord_taken: ['discord_id', 'is already linked to another customer'],
  steam_id_invalid: ['steam_id', 'must be a SteamID64 (17 digits starting 7656119)'],
  steam_taken: ['steam_id', 'is already linked to another customer'],
  game_user_id_length: ['game_user_id', `must be at most ${GAME_USER_ID_MAX_LENGTH} characters`],
  referrer_not_found: ['referred_by', 'is not a customer'],
  referral_code_not_found: ['referral_code_used', 'is not the referral code of any customer'],
  referral_conflict: ['referred_by', 'names a different customer than referral_code_used'],
  metadata_invalid: ['metadata', 'must be a JSON object of key/value pairs'],
  metadata_too_large: ['metadata', `must have at most ${METADATA_MAX_KEYS} keys and ${METADATA_MAX_BYTES / 1024} KiB as JSON`],
  ip_invalid: ['ip', 'is not an IPv4 or IPv6 address'],
};

async function translateRefusals<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const known = error instanceof UserError ? FIELD_PROBLEMS[error.code] : undefined;
    if (known) throw fieldError(known[0], known[1]);
    throw error;
  }
}

/** Customers and the checkout check: /customers… and /checkout/check under the API prefix. */
export const apiCustomerRoutes: FastifyPluginAsync<{ deps: HttpDeps; auth: ApiAuth; registry: ApiRouteRegistry }> = (app, { deps, auth, registry }) => {
  const routes = customerRouteSpecs;
  registry.mount(app, auth, routes.list, listCustomersHandler(deps));
  registry.mount(app, auth, routes.get, getCustomerHandler(deps));
  registry.mount(app, auth, routes.create, createCustomerHandler(deps));
  registry.mount(app, auth, routes.update, updateCustomerHandler(deps));
  registry.mount(app, auth, routes.checkoutCheck, checkoutCheckHandler(deps));
  return Promise.resolve();
};

type Routes = typeof customerRouteSpecs;

async function detailOf(db: HttpDeps['db'], customer: Customer) {
  return customerDetailJson(customer, await listRecentOrdersOfCustomer(db, customer.id, RECENT_ORDERS_LIMIT));
}

function listCustomersHandler({ db, clock, config }: HttpDeps): ApiRouteHandler<Routes['list']> {
  return async ({ query }) => {
    const before = query.registered_before;
    const page = await listCustomers(
      db,
      clock,
      {
        search: query.search,
        email: query.email,
        registeredAfter: query.registered_after?.at,
        registeredBefore: before ? (before.nextDay ?? before.at) : undefined,
        filter: query.filter,
        sort: SORT_OF_FIELD[query.sort_by ?? 'created_at'],
        sortOrder: query.sort_order,
        page: query.page,
        perPage: query.per_page,
      },
      { atRiskDays: config.atRiskDays },
    );
    return {
      success: true,
      data: page.rows.map(customerSummaryJson),
      meta: { current_page: page.page, last_page: page.lastPage, per_page: page.perPage, total: page.total },
    };
  };
}

function getCustomerHandler({ db }: HttpDeps): ApiRouteHandler<Routes['get']> {
  return async ({ params }) => {
    const customer = await findCustomerById(db, params.id);
    if (!customer) throw notFound(`No customer has id ${params.id}.`);
    return { success: true, data: await detailOf(db, customer) };
  };
}

function createCustomerHandler(deps: HttpDeps): ApiRouteHandler<Routes['create']> {
  const { db, clock } = deps;
  return async ({ body, request, reply }) => {
    // Hashed before the transaction: ~100 ms of scrypt must not hold the database's write lock.
    const passwordHash = body.password === undefined ? null : await hashPassword(body.password);
    const result = await translateRefusals(
      registerCustomer(db, clock, {
        name: body.name,
        email: body.email,
        passwordHash,
        country: body.country,
        discordId: body.discord_id,
        steamId: body.steam_id,
        gameUserId: body.game_user_id,
        referralCodeUsed: body.referral_code_used,
        referredBy: body.referred_by,
        metadata: body.metadata,
        ip: body.ip,
        actor: apiActor(tokenOf(request)),
      }),
    );
    if (!result.ok) throw new ApiError(422, result.message);
    if (result.webhooksQueued > 0) deps.wake.webhookDeliveries();
    void reply.header('location', `${request.url.split('?')[0] ?? ''}/${result.customer.id}`);
    return { success: true, data: await detailOf(db, result.customer) };
  };
}

function updateCustomerHandler({ db, clock }: HttpDeps): ApiRouteHandler<Routes['update']> {
  return async ({ params, body, request }) => {
    const customer = await translateRefusals(
      rectifyCustomer(
        db,
        clock,
        params.id,
        { name: body.name, email: body.email, country: body.country, gameUserId: body.game_user_id, metadata: body.metadata },
        apiActor(tokenOf(request)),
      ),
    );
    return { success: true, data: await detailOf(db, customer) };
  };
}

function checkoutCheckHandler({ db, clock }: HttpDeps): ApiRouteHandler<Routes['checkoutCheck']> {
  return async ({ body }) => {
    const result = await checkIdentifiers(db, clock, {
      email: body.email,
      ip: body.ip,
      discordId: body.discord_id,
      gameId: body.game_id,
      steamId: body.steam_id,
      customerId: body.customer_id,
    });
    const refusal = refusalFor(result);
    return { success: true, data: refusal === null ? { allowed: true as const } : { allowed: false as const, message: GENERIC_REFUSAL } };
  };
}
