import type { GuildMember } from 'discord.js';
import type { BotDeps } from '../commands/context.js';
import { reconcileDiscordMember } from '../domain/roles/sync.js';

/**
 * A member joined: role changes that waited for them become due, and a linked customer's roles
 * are reconciled against what the member holds now (someone who left and came back lost every
 * role on the way out).
 */
export async function handleGuildMemberAdd(member: GuildMember, deps: BotDeps): Promise<void> {
  if (deps.config.guildId && member.guild.id !== deps.config.guildId) return;
  if (member.user.bot) return;
  const roleIds = [...member.roles.cache.keys()].filter((id) => id !== member.guild.id);
  const { resumed, enqueued } = await reconcileDiscordMember(deps.db, deps.clock, member.guild.id, member.id, roleIds);
  if (resumed + enqueued > 0) {
    deps.logger.info({ userId: member.id, resumed, enqueued }, 'member joined: role changes queued');
    deps.wakeRoleWorker?.();
  }
}
