import type {
  APIModalInteractionResponseCallbackData,
  ButtonInteraction,
  ChatInputCommandInteraction,
  Interaction,
  ModalSubmitInteraction,
  StringSelectMenuInteraction,
} from 'discord.js';
import type { Actor } from '../domain/customers/types.js';
import { UserError } from '../shared/errors.js';
import type { BotDeps } from './context.js';
import { parseComponentId, parseModalId } from '../discord/custom-ids.js';
import { CUSTOMER_PROFILE_MENU } from './definitions.js';
import { parseBanOptions, runBanCancel, runBanConfirm, runBanPreview } from './customer/ban.js';
import { parseBansOptions, runBans, runBansPage } from './customer/bans.js';
import { buildNotesView, buildOrderView, buildOrdersView, buildProfileView } from './customer/customer-views.js';
import { parseDeleteOptions, runDeleteCancel, runDeleteConfirm, runDeletePreview } from './customer/delete.js';
import { runDigestPreview } from './customer/digest.js';
import { parseExportOptions, runExport } from './customer/export.js';
import { parseGdprExportOptions, runGdprExport } from './customer/gdpr-export.js';
import { parseLookupOptions, runLookup } from './customer/lookup.js';
import { banModal, DURATION_FIELD, NOTE_FIELD, noteModal, REASON_FIELD } from './customer/modals.js';
import { addNoteAndShowProfile, parseNoteOptions, runNote } from './customer/note.js';
import { runProfileMenu } from './customer/profile-menu.js';
import { parseStatsOptions, runStats } from './customer/stats.js';
import { parseUnbanOptions, runUnban } from './customer/unban.js';
import { parseRoleRuleAddOptions, parseRoleRuleRemoveOptions, runRoleRuleAdd, runRoleRuleKeep, runRoleRuleList, runRoleRuleRemove, runRoleRuleTakeBack } from './customer/role-rule.js';
import { buildRolesView, parseRolesOptions, runRoleResync, runRoles } from './customer/roles.js';
import { createRoleInspector } from '../discord/role-inspector.js';
import type { View } from '../discord/render/view.js';

/**
 * How the interaction is acknowledged before any work: `reply` defers a new ephemeral message,
 * `update` defers an edit of the message the component sits on, `modal` answers with a form
 * (which must be the first response, so those plans do no database work).
 */
export type Plan =
  | { ack: 'reply' | 'update'; admin?: boolean; run: (progress: (text: string) => Promise<void>) => Promise<View> }
  | { ack: 'modal'; admin?: boolean; modal: APIModalInteractionResponseCallbackData };

function int(text: string | undefined, what: string): number {
  if (!text || !/^\d{1,15}$/.test(text)) throw new UserError('bad_selection', `That ${what} is not valid any more; run the command again.`);
  return Number(text);
}

/** The store guild: role rules and member roles live there, whichever channel the command came from. */
function storeGuildId(interaction: Interaction, deps: BotDeps): string {
  const guildId = deps.config.guildId ?? interaction.guildId;
  if (!guildId) throw new UserError('no_guild', 'Run this command in the store server.');
  return guildId;
}

function planRoleRule(interaction: ChatInputCommandInteraction, deps: BotDeps, actor: Actor): Plan {
  const sub = interaction.options.getSubcommand(true);
  const inspector = createRoleInspector(interaction.client);
  switch (sub) {
    case 'add': {
      const options = parseRoleRuleAddOptions(interaction);
      const guildId = storeGuildId(interaction, deps);
      return { ack: 'reply', admin: true, run: () => runRoleRuleAdd(deps, inspector, guildId, actor, options) };
    }
    case 'remove': {
      const options = parseRoleRuleRemoveOptions(interaction);
      return { ack: 'reply', admin: true, run: () => runRoleRuleRemove(deps, inspector, actor, options) };
    }
    case 'list':
      return { ack: 'reply', admin: true, run: () => runRoleRuleList(deps, inspector) };
  }
  throw new UserError('unknown_subcommand', `/customer role-rule ${sub} is not a command this bot knows; redeploy the commands.`);
}

type SubcommandPlan = (interaction: ChatInputCommandInteraction, deps: BotDeps, actor: Actor) => Plan;
type Progress = (text: string) => Promise<void>;

/** A plan that defers a reply and runs with options already parsed, so bad options are refused before the acknowledgement. */
function replyWith<O>(options: O, run: (options: O, progress: Progress) => Promise<View>, { admin = false } = {}): Plan {
  return { ack: 'reply', ...(admin ? { admin } : {}), run: (progress) => run(options, progress) };
}

/** `/customer <sub>`. */
const CUSTOMER_SUBCOMMANDS: Record<string, SubcommandPlan> = {
  lookup: (interaction, deps) => replyWith(parseLookupOptions(interaction), (options) => runLookup(deps, options)),
  ban: (interaction, deps, actor) => replyWith(parseBanOptions(interaction), (options) => runBanPreview(deps, actor, options)),
  unban: (interaction, deps, actor) => replyWith(parseUnbanOptions(interaction), (options) => runUnban(deps, actor, options)),
  bans: (interaction, deps, actor) => replyWith(parseBansOptions(interaction), (options) => runBans(deps, actor, options)),
  note: (interaction, deps, actor) => replyWith(parseNoteOptions(interaction), (options) => runNote(deps, actor, options)),
  stats: (interaction, deps) => replyWith(parseStatsOptions(interaction), (options) => runStats(deps, options)),
  export: (interaction, deps, actor) =>
    replyWith(parseExportOptions(interaction), (options, progress) => runExport(deps, actor, options, progress), { admin: true }),
  digest: (_interaction, deps) => ({ ack: 'reply', run: () => runDigestPreview(deps) }),
  'gdpr-export': (interaction, deps, actor) => replyWith(parseGdprExportOptions(interaction), (options) => runGdprExport(deps, actor, options), { admin: true }),
  delete: (interaction, deps, actor) => replyWith(parseDeleteOptions(interaction), (options) => runDeletePreview(deps, actor, options), { admin: true }),
  roles: (interaction, deps) => {
    const options = parseRolesOptions(interaction);
    const guildId = storeGuildId(interaction, deps);
    const inspector = createRoleInspector(interaction.client);
    return { ack: 'reply', run: () => runRoles(deps, inspector, guildId, options) };
  },
};

function planCustomerCommand(interaction: ChatInputCommandInteraction, deps: BotDeps, actor: Actor): Plan {
  if (interaction.options.getSubcommandGroup(false) === 'role-rule') return planRoleRule(interaction, deps, actor);
  const sub = interaction.options.getSubcommand(true);
  const plan = Object.hasOwn(CUSTOMER_SUBCOMMANDS, sub) ? CUSTOMER_SUBCOMMANDS[sub] : undefined;
  if (plan) return plan(interaction, deps, actor);
  throw new UserError('unknown_subcommand', `/customer ${sub} is not a command this bot knows; redeploy the commands.`);
}

/** A button or select menu on one of our messages. */
function planComponent(interaction: ButtonInteraction | StringSelectMenuInteraction, deps: BotDeps, actor: Actor): Plan | undefined {
  const action = parseComponentId(interaction.customId);
  if (!action) return undefined;
  const values = interaction.isStringSelectMenu() ? interaction.values : [];
  switch (action.kind) {
    case 'profile':
      return { ack: 'update', run: () => buildProfileView(deps, action.customerId) };
    case 'orders':
      return { ack: 'update', run: () => buildOrdersView(deps, action.customerId, Math.max(0, action.page)) };
    case 'notes':
      return { ack: 'update', run: () => buildNotesView(deps, action.customerId, Math.max(0, action.page)) };
    case 'order': {
      const orderId = int(values[0], 'order');
      return { ack: 'update', run: () => buildOrderView(deps, action.customerId, orderId) };
    }
    case 'pick-customer': {
      const customerId = int(values[0], 'customer');
      return { ack: 'update', run: () => buildProfileView(deps, customerId) };
    }
    case 'add-note':
      return { ack: 'modal', modal: noteModal(action.customerId) };
    case 'ban-customer':
      return { ack: 'modal', modal: banModal(action.customerId) };
    case 'ban-confirm':
      return { ack: 'update', run: () => runBanConfirm(deps, actor, action.token) };
    case 'ban-cancel':
      return { ack: 'update', run: () => Promise.resolve(runBanCancel(deps, actor, action.token)) };
    case 'bans-page':
      return { ack: 'update', run: () => runBansPage(deps, actor, action.token, Math.max(0, action.page)) };
    case 'erase-confirm':
      return { ack: 'update', admin: true, run: () => runDeleteConfirm(deps, actor, action.token) };
    case 'erase-cancel':
      return { ack: 'update', run: () => Promise.resolve(runDeleteCancel(deps, actor, action.token)) };
    case 'rule-take-back':
      return { ack: 'update', admin: true, run: () => runRoleRuleTakeBack(deps, createRoleInspector(interaction.client), actor, action.token) };
    case 'rule-keep':
      return { ack: 'update', admin: true, run: () => runRoleRuleKeep(deps, createRoleInspector(interaction.client), actor, action.token) };
    case 'roles-view': {
      const guildId = storeGuildId(interaction, deps);
      return { ack: 'update', run: () => buildRolesView(deps, createRoleInspector(interaction.client), guildId, action.customerId) };
    }
    case 'role-resync': {
      const guildId = storeGuildId(interaction, deps);
      return { ack: 'update', run: () => runRoleResync(deps, createRoleInspector(interaction.client), guildId, actor, action.customerId) };
    }
  }
}

/** The note and ban forms. */
function planModal(interaction: ModalSubmitInteraction, deps: BotDeps, actor: Actor): Plan | undefined {
  const action = parseModalId(interaction.customId);
  if (!action) return undefined;
  if (action.kind === 'note-modal') {
    const text = interaction.fields.getTextInputValue(NOTE_FIELD);
    // From a profile's button the profile itself is refreshed; otherwise a new reply.
    return { ack: interaction.isFromMessage() ? 'update' : 'reply', run: () => addNoteAndShowProfile(deps, actor, action.customerId, text) };
  }
  const duration = interaction.fields.getTextInputValue(DURATION_FIELD);
  const reason = interaction.fields.getTextInputValue(REASON_FIELD);
  return { ack: 'reply', run: () => runBanPreview(deps, actor, { type: 'customer', target: String(action.customerId), duration, reason }) };
}

/** Parses the interaction into a plan, or undefined when it is not one of ours. Throws UserError on bad options. */
export function planInteraction(interaction: Interaction, deps: BotDeps, actor: Actor): Plan | undefined {
  if (interaction.isChatInputCommand() && interaction.commandName === 'customer') return planCustomerCommand(interaction, deps, actor);
  if (interaction.isUserContextMenuCommand() && interaction.commandName === CUSTOMER_PROFILE_MENU) {
    const targetId = interaction.targetId;
    return { ack: 'reply', run: () => runProfileMenu(deps, targetId) };
  }
  if (interaction.isButton() || interaction.isStringSelectMenu()) return planComponent(interaction, deps, actor);
  if (interaction.isModalSubmit()) return planModal(interaction, deps, actor);
  return undefined;
}
