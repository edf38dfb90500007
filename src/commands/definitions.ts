import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  InteractionContextType,
  PermissionFlagsBits,
  type RESTPostAPIApplicationCommandsJSONBody,
} from 'discord.js';
import { LOOKUP_QUERY_MAX_LENGTH } from '../domain/customers/lookup.js';
import { BAN_REASON_MAX_LENGTH, NOTE_MAX_LENGTH } from '../shared/input-fields.js';
import type { BanType } from '../shared/vocabulary.js';

// Definitions are data, registered by `npm run deploy:commands`; the bot never re-registers
// them on boot (that would burn the daily command-create limit and briefly hide commands).

/** Who sees the commands by default; server admins can widen or narrow it in Integrations. */
export const STAFF_DEFAULT_PERMISSIONS = PermissionFlagsBits.ModerateMembers;

export const BAN_TYPE_CHOICES = [
  { name: 'Customer account (also covers its email and linked IDs)', value: 'customer' },
  { name: 'Email', value: 'email' },
  { name: 'IP address or CIDR range', value: 'ip' },
  { name: 'Discord user', value: 'discord' },
  { name: 'Game ID / Steam ID', value: 'game_id' },
] as const satisfies ReadonlyArray<{ name: string; value: BanType }>;

export const FILTER_CHOICES = [
  { name: 'All customers', value: 'all' },
  { name: 'Has orders (1+)', value: 'has_orders' },
  { name: 'Repeat customers (2+)', value: 'repeat' },
  { name: 'Loyal customers (5+)', value: 'loyal' },
  { name: 'At risk', value: 'at_risk' },
] as const;

export const SORT_CHOICES = [
  { name: 'Newest first', value: 'newest' },
  { name: 'Oldest first', value: 'oldest' },
  { name: 'Name', value: 'name' },
  { name: 'Email', value: 'email' },
  { name: 'Most orders', value: 'most_orders' },
  { name: 'Highest spending', value: 'highest_spending' },
  { name: 'Last order', value: 'last_order' },
] as const;

export const BAN_STATUS_CHOICES = [
  { name: 'Active', value: 'active' },
  { name: 'Expired', value: 'expired' },
  { name: 'Lifted', value: 'lifted' },
  { name: 'All', value: 'all' },
] as const;

export const CUSTOMER_PROFILE_MENU = 'Customer profile';

const guildOnly = [InteractionContextType.Guild];
const staffOnly = String(STAFF_DEFAULT_PERMISSIONS);

const customerOption = (description: string, required: boolean) =>
  ({
    type: ApplicationCommandOptionType.String,
    name: 'customer',
    description,
    required,
    autocomplete: true,
    max_length: LOOKUP_QUERY_MAX_LENGTH,
  }) as const;

export const customerCommand = {
  name: 'customer',
  description: 'Look up, ban, annotate and export store customers',
  type: ApplicationCommandType.ChatInput,
  default_member_permissions: staffOnly,
  contexts: guildOnly,
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'lookup',
      description: 'Find a customer by email, name, id, order number, Discord user or Steam ID',
      options: [
        {
          type: ApplicationCommandOptionType.String,
          name: 'query',
          description: 'Email, name, customer id, order number, @mention, Discord ID or Steam ID',
          required: true,
          autocomplete: true,
          max_length: LOOKUP_QUERY_MAX_LENGTH,
        },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'ban',
      description: 'Ban an email, IP range, Discord user, game ID or customer account',
      options: [
        { type: ApplicationCommandOptionType.String, name: 'type', description: 'What to ban', required: true, choices: [...BAN_TYPE_CHOICES] },
        {
          type: ApplicationCommandOptionType.String,
          name: 'target',
          description: 'The email, IP/CIDR, Discord ID, game ID, or the customer (search)',
          required: true,
          autocomplete: true,
          max_length: LOOKUP_QUERY_MAX_LENGTH,
        },
        {
          type: ApplicationCommandOptionType.String,
          name: 'duration',
          description: 'permanent, 24h, 7d, 30d, 90d or a length like 12h or 2w',
          required: true,
          autocomplete: true,
          max_length: 20,
        },
        { type: ApplicationCommandOptionType.String, name: 'reason', description: 'Internal reason (never shown to the customer)', required: true, max_length: BAN_REASON_MAX_LENGTH },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'unban',
      description: 'Lift a ban',
      options: [
        { type: ApplicationCommandOptionType.String, name: 'ban', description: 'The ban (#id) or the banned value', required: true, autocomplete: true, max_length: LOOKUP_QUERY_MAX_LENGTH },
        { type: ApplicationCommandOptionType.String, name: 'reason', description: 'Why it is lifted (internal)', required: false, max_length: BAN_REASON_MAX_LENGTH },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'bans',
      description: 'List and search bans',
      options: [
        { type: ApplicationCommandOptionType.String, name: 'status', description: 'Which bans (default: active)', required: false, choices: [...BAN_STATUS_CHOICES] },
        { type: ApplicationCommandOptionType.String, name: 'type', description: 'Only this type', required: false, choices: [...BAN_TYPE_CHOICES] },
        { type: ApplicationCommandOptionType.String, name: 'search', description: 'Part of the banned value or the reason', required: false, max_length: 100 },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'note',
      description: 'Add an internal note to a customer',
      options: [
        customerOption('The customer (search by name, email, id…)', true),
        { type: ApplicationCommandOptionType.String, name: 'text', description: 'The note (internal, never shown to the customer)', required: true, max_length: NOTE_MAX_LENGTH },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'stats',
      description: "Store statistics, or one customer's figures",
      options: [customerOption('Show this customer instead of the whole store', false)],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'export',
      description: 'Export customers as CSV or Excel (admins)',
      options: [
        {
          type: ApplicationCommandOptionType.String,
          name: 'format',
          description: 'File format (default CSV)',
          required: false,
          choices: [
            { name: 'CSV', value: 'csv' },
            { name: 'Excel (.xlsx)', value: 'xlsx' },
          ],
        },
        { type: ApplicationCommandOptionType.String, name: 'filter', description: 'Which customers (default all)', required: false, choices: [...FILTER_CHOICES] },
        { type: ApplicationCommandOptionType.String, name: 'sort', description: 'Order of rows (default newest first)', required: false, choices: [...SORT_CHOICES] },
        { type: ApplicationCommandOptionType.String, name: 'search', description: 'Only names or emails containing this', required: false, max_length: 100 },
        { type: ApplicationCommandOptionType.String, name: 'registered_after', description: 'YYYY-MM-DD', required: false, max_length: 10, min_length: 10 },
        { type: ApplicationCommandOptionType.String, name: 'registered_before', description: 'YYYY-MM-DD', required: false, max_length: 10, min_length: 10 },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'digest',
      description: 'Preview the weekly at-risk digest now (only you see it; nothing is posted)',
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'gdpr-export',
      description: "Everything stored about one customer, for their data request (admins)",
      options: [
        customerOption('The customer whose data to export', true),
        {
          type: ApplicationCommandOptionType.String,
          name: 'format',
          description: 'File format (default JSON)',
          required: false,
          choices: [
            { name: 'JSON', value: 'json' },
            { name: 'CSV', value: 'csv' },
          ],
        },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'delete',
      description: "Erase a customer's personal data for good; orders stay for accounting (admins)",
      options: [customerOption('The customer to erase', true)],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'roles',
      description: "A customer's expected roles, what Discord shows, and queued role changes",
      options: [customerOption('The customer (search by name, email, id…)', true)],
    },
    {
      type: ApplicationCommandOptionType.SubcommandGroup,
      name: 'role-rule',
      description: 'Which products give which Discord roles (admins)',
      options: [
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: 'add',
          description: 'Give a role to buyers of a product',
          options: [
            { type: ApplicationCommandOptionType.Integer, name: 'product_id', description: "The store platform's product id", required: true, min_value: 1 },
            { type: ApplicationCommandOptionType.Role, name: 'role', description: 'The role buyers get', required: true },
            { type: ApplicationCommandOptionType.Boolean, name: 'revoke_on_refund', description: 'Take the role back on refund (default yes)', required: false },
            { type: ApplicationCommandOptionType.Boolean, name: 'revoke_on_chargeback', description: 'Take the role back on a chargeback (default yes)', required: false },
            {
              type: ApplicationCommandOptionType.Boolean,
              name: 'revoke_on_subscription_end',
              description: 'Take the role back when a subscription ends (default yes)',
              required: false,
            },
            {
              type: ApplicationCommandOptionType.Integer,
              name: 'grace_hours',
              description: 'Hours a subscription keeps the role after a failed payment (default 72)',
              required: false,
              min_value: 0,
              max_value: 8760,
            },
          ],
        },
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: 'remove',
          description: 'Stop a product giving a role (members keep it)',
          options: [{ type: ApplicationCommandOptionType.Integer, name: 'id', description: 'The rule number (see list)', required: true, min_value: 1 }],
        },
        { type: ApplicationCommandOptionType.Subcommand, name: 'list', description: 'List the product → role rules' },
      ],
    },
  ],
} as const satisfies RESTPostAPIApplicationCommandsJSONBody;

export const customerProfileMenu = {
  name: CUSTOMER_PROFILE_MENU,
  type: ApplicationCommandType.User,
  default_member_permissions: staffOnly,
  contexts: guildOnly,
} as const satisfies RESTPostAPIApplicationCommandsJSONBody;

export const commandDefinitions: RESTPostAPIApplicationCommandsJSONBody[] = [customerCommand, customerProfileMenu];
