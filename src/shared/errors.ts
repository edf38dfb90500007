/**
 * Every expected refusal the product makes, each with the HTTP status the API answers it with
 * (404 when something does not exist, 409 when its state forbids the request, 422 otherwise)
 * and the text staff read when the code that refuses has nothing more specific to say. One map,
 * so the API, the slash commands and the command line agree on what a refusal means.
 */
const USER_ERRORS = {
  already_banned: { status: 422, text: 'That target is already banned.' },
  ambiguous_ban: { status: 422, text: 'More than one ban matches; name it by its id.' },
  ambiguous_customer: { status: 422, text: 'More than one customer matches; be more specific.' },
  at_risk_days_invalid: { status: 422, text: 'The at-risk period must be a whole number of days.' },
  bad_amount: { status: 422, text: 'That is not an amount of money.' },
  bad_ban_type: { status: 422, text: 'That is not a ban type.' },
  bad_customer_id: { status: 422, text: 'That is not a customer id.' },
  bad_date: { status: 422, text: 'That is not a date.' },
  bad_date_range: { status: 422, text: 'The start of that range is after its end.' },
  bad_discord_id: { status: 422, text: 'That is not a Discord user id.' },
  bad_duration: { status: 422, text: 'That is not a duration.' },
  bad_email: { status: 422, text: 'That is not an email address.' },
  bad_game_id: { status: 422, text: 'That is not a game user id.' },
  bad_ip: { status: 422, text: 'That is not an IP address or range.' },
  bad_option: { status: 422, text: 'One of the options is not valid.' },
  bad_selection: { status: 422, text: 'That selection is not valid any more; run the command again.' },
  bad_source: { status: 422, text: 'The source database cannot be read.' },
  bad_status: { status: 422, text: 'That is not a status.' },
  bad_timestamp: { status: 422, text: 'That is not a date and time.' },
  ban_not_active: { status: 422, text: 'That ban is not active.' },
  ban_not_found: { status: 404, text: 'No ban matches.' },
  confirmation_expired: { status: 422, text: 'This confirmation has expired; run the command again.' },
  country_invalid: { status: 422, text: 'That is not a country code.' },
  customer_erased: { status: 422, text: "That customer's data has been erased." },
  customer_not_found: { status: 404, text: 'No customer matches.' },
  delivery_not_found: { status: 404, text: 'No webhook delivery matches.' },
  digest_schedule_invalid: { status: 422, text: 'That is not a digest schedule.' },
  discord_id_invalid: { status: 422, text: 'That is not a Discord user id.' },
  discord_taken: { status: 422, text: 'That Discord account is already linked to another customer.' },
  email_invalid: { status: 422, text: 'That is not an email address.' },
  email_taken: { status: 422, text: 'That email is already registered to another customer.' },
  empty_query: { status: 422, text: 'Say what to look for.' },
  endpoint_disabled: { status: 409, text: 'That webhook endpoint is disabled.' },
  events_waiting: { status: 422, text: 'Purchase events are still waiting to be applied.' },
  export_empty: { status: 422, text: 'There is nothing to export.' },
  export_too_large: { status: 422, text: 'That export is too large to send here.' },
  filter_invalid: { status: 422, text: 'That is not a filter.' },
  game_user_id_length: { status: 422, text: 'That game user id is too long.' },
  invalid_description: { status: 422, text: 'That description is not valid.' },
  invalid_events: { status: 422, text: 'Those are not webhook events.' },
  invalid_expiry: { status: 422, text: 'That is not an expiry.' },
  invalid_name: { status: 422, text: 'That name is not valid.' },
  invalid_rate_limit: { status: 422, text: 'That is not a rate limit.' },
  invalid_scopes: { status: 422, text: 'Those are not API scopes.' },
  invalid_url: { status: 422, text: 'That address is not one webhooks may be sent to.' },
  ip_invalid: { status: 422, text: 'That is not an IP address.' },
  link_banned: { status: 422, text: 'That account cannot be linked.' },
  link_used: { status: 422, text: 'That link has already been used.' },
  linking_not_configured: { status: 422, text: 'Account linking is not set up on this store.' },
  list_expired: { status: 422, text: 'This list has expired; run the command again.' },
  metadata_invalid: { status: 422, text: 'That metadata is not a set of key/value pairs.' },
  metadata_too_large: { status: 422, text: 'That metadata is too large.' },
  name_length: { status: 422, text: 'That name is empty or too long.' },
  no_guild: { status: 422, text: 'This only works in the store server.' },
  no_source: { status: 422, text: 'There is no source database.' },
  not_a_store: { status: 422, text: 'That is not a store database.' },
  not_admin: { status: 422, text: 'Only admins can do this.' },
  not_linked: { status: 422, text: 'That account is not linked.' },
  not_staff: { status: 422, text: 'Only staff can do this.' },
  note_length: { status: 422, text: 'That note is empty or too long.' },
  order_invalid: { status: 422, text: 'That order is not valid.' },
  order_not_found: { status: 404, text: 'No order matches.' },
  order_number_taken: { status: 422, text: 'That order number is already taken.' },
  order_status_invalid: { status: 422, text: 'That is not an order status.' },
  query_invalid: { status: 422, text: 'That lookup is not valid.' },
  query_too_long: { status: 422, text: 'That lookup is too long.' },
  reason_length: { status: 422, text: 'That reason is empty or too long.' },
  referral_code_invalid: { status: 422, text: 'That is not a referral code.' },
  referral_code_not_found: { status: 404, text: 'No customer has that referral code.' },
  referral_code_taken: { status: 422, text: 'That referral code is already taken.' },
  referral_conflict: { status: 422, text: 'The referrer and the referral code name different customers.' },
  referrer_not_found: { status: 404, text: 'The referrer is not a customer.' },
  role_rule_active: { status: 422, text: 'That role rule is still in use.' },
  role_rule_exists: { status: 422, text: 'That role rule already exists.' },
  role_rule_invalid: { status: 422, text: 'That role rule is not valid.' },
  role_rule_not_found: { status: 404, text: 'No role rule matches.' },
  role_rule_refused: { status: 422, text: 'The bot cannot manage that role.' },
  schema_differs: { status: 422, text: 'The two databases do not have the same tables.' },
  search_invalid: { status: 422, text: 'That search is not valid.' },
  search_too_long: { status: 422, text: 'That search is too long.' },
  sort_invalid: { status: 422, text: 'That is not a sort.' },
  sort_order_invalid: { status: 422, text: 'That is not a sort order.' },
  source_ahead: { status: 422, text: 'The source database was migrated by a newer version of the bot.' },
  source_behind: { status: 422, text: 'The source database needs migrating first.' },
  steam_id_invalid: { status: 422, text: 'That is not a SteamID64.' },
  steam_taken: { status: 422, text: 'That Steam account is already linked to another customer.' },
  support_tickets_invalid: { status: 422, text: 'The support tickets count must be a whole number, 0 or more.' },
  target_not_empty: { status: 422, text: 'The target database is not empty.' },
  time_zone_invalid: { status: 422, text: 'That is not a time zone.' },
  token_not_found: { status: 404, text: 'No API token matches.' },
  too_many_endpoints: { status: 422, text: 'This store has as many webhook endpoints as it may.' },
  unknown_subcommand: { status: 422, text: 'This bot does not know that command; redeploy the commands.' },
  unresolvable_host: { status: 422, text: 'That host has no addresses.' },
  webhook_not_found: { status: 404, text: 'No webhook endpoint matches.' },
} as const satisfies Record<string, { status: 404 | 409 | 422; text: string }>;

export type UserErrorCode = keyof typeof USER_ERRORS;

export const USER_ERROR_CODES = Object.keys(USER_ERRORS) as UserErrorCode[];

/** The HTTP status the API answers a refusal with. */
export function httpStatusOf(code: UserErrorCode): number {
  return USER_ERRORS[code].status;
}

/** What staff read for a refusal whose thrower gave no words of its own. */
export function staffTextOf(code: UserErrorCode): string {
  return USER_ERRORS[code].text;
}

/**
 * An expected refusal ("no customer matches …"): shown to the person as written, never logged as
 * a failure. Anything that is not a UserError is a bug and gets a reference id instead.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    readonly code: UserErrorCode,
    message: string = staffTextOf(code),
  ) {
    super(message);
  }
}

/** What a banned customer is told, whatever the ban: never that they are banned. */
export const GENERIC_REFUSAL = "We couldn't process this request. Please contact support.";
