import { GuildMember, MessageFlags, type Interaction, type RepliableInteraction } from 'discord.js';
import { assertAdmin, assertStaff, type Invoker } from '../commands/access.js';
import type { BotDeps } from '../commands/context.js';
import { suggest } from '../commands/customer/autocomplete.js';
import { planInteraction, type Plan } from '../commands/router.js';
import { clip, fitMessage, MESSAGE_LIMITS, type View } from '../discord/render/view.js';
import { UserError } from '../shared/errors.js';
import type { Actor } from '../domain/customers/types.js';
import { newReference } from '../logger.js';

function invokerOf(interaction: Interaction): Invoker {
  const member = interaction.member;
  const roleIds = member instanceof GuildMember ? [...member.roles.cache.keys()] : (member?.roles ?? []);
  return { roleIds, permissions: interaction.memberPermissions?.bitfield ?? 0n };
}

function actorOf(interaction: Interaction): Actor {
  const member = interaction.member;
  const name = member instanceof GuildMember ? member.displayName : (member?.nick ?? interaction.user.globalName ?? interaction.user.username);
  return { id: interaction.user.id, name };
}

async function show(interaction: RepliableInteraction, view: View): Promise<void> {
  const { cleanup, ...message } = view;
  try {
    await interaction.editReply(fitMessage({ ...message, content: message.content ?? '' }));
  } finally {
    await cleanup?.().catch(() => undefined);
  }
}

/**
 * The one boundary every interaction passes: staff check, acknowledgement before any work (so
 * the 3-second deadline never depends on the database), and the two kinds of failure — a
 * UserError shown as written, anything else logged with a reference staff can quote.
 */
export async function handleInteraction(interaction: Interaction, deps: BotDeps): Promise<void> {
  if (interaction.isAutocomplete()) {
    try {
      assertStaff(invokerOf(interaction), deps.config);
      await interaction.respond((await suggest(deps, interaction)).slice(0, 25));
    } catch (error) {
      if (!(error instanceof UserError)) deps.logger.error({ err: error, command: interaction.commandName }, 'autocomplete failed');
      if (!interaction.responded) await interaction.respond([]).catch(() => undefined);
    }
    return;
  }
  if (!interaction.isRepliable()) return;

  let plan: Plan | undefined;
  try {
    const invoker = invokerOf(interaction);
    assertStaff(invoker, deps.config);
    plan = planInteraction(interaction, deps, actorOf(interaction));
    if (!plan) {
      await interaction.reply({ content: 'This control is no longer active. Run the command again.', flags: MessageFlags.Ephemeral });
      return;
    }
    if (plan.admin) assertAdmin(invoker, deps.config);
    if (plan.ack === 'modal') {
      if (!interaction.isMessageComponent() && !interaction.isChatInputCommand()) throw new Error('a modal can only answer a command or a component');
      await interaction.showModal(plan.modal);
      return;
    }
    if (plan.ack === 'update' && (interaction.isMessageComponent() || interaction.isModalSubmit())) await interaction.deferUpdate();
    else await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const view = await plan.run((text) => interaction.editReply({ content: clip(text, MESSAGE_LIMITS.content) }).then(() => undefined));
    await show(interaction, view);
  } catch (error) {
    await reportFailure(interaction, deps, plan, error);
  }
}

async function reportFailure(interaction: RepliableInteraction, deps: BotDeps, plan: Plan | undefined, error: unknown): Promise<void> {
  let text: string;
  if (error instanceof UserError) {
    text = error.message;
  } else {
    const ref = newReference();
    deps.logger.error({ err: error, ref, interaction: interaction.id, user: interaction.user.id }, 'interaction failed');
    text = `Something went wrong (ref ${ref}). Staff can quote this reference to the bot's operator.`;
  }
  // A refusal may quote what staff typed; it must still be a message Discord accepts.
  text = clip(`❌ ${text}`, MESSAGE_LIMITS.content);
  try {
    if (!interaction.deferred && !interaction.replied) {
      await interaction.reply({ content: text, flags: MessageFlags.Ephemeral });
    } else if (plan?.ack === 'update') {
      // The message being edited is the staff member's profile view: keep it, and say what
      // went wrong beside it.
      await interaction.followUp({ content: text, flags: MessageFlags.Ephemeral });
    } else {
      await interaction.editReply({ content: text, embeds: [], components: [], files: [], attachments: [] });
    }
  } catch (replyError) {
    deps.logger.warn({ err: replyError, interaction: interaction.id }, 'could not tell the user about a failure');
  }
}
