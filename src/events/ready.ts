import type { Client } from 'discord.js';
import type { BotDeps } from '../commands/context.js';
import { reportRefusedRoleRules } from '../discord/role-rule-check.js';

export function handleReady(client: Client<true>, deps: BotDeps): void {
  const guildId = deps.config.guildId;
  if (guildId && !client.guilds.cache.has(guildId)) {
    deps.logger.warn({ guildId }, 'the bot is not in DISCORD_GUILD_ID: invite it with the URL shown in the README');
  }
  deps.logger.info({ user: client.user.tag, guilds: client.guilds.cache.size }, 'connected to Discord');
  void reportRefusedRoleRules(deps, client).catch((error: unknown) => deps.logger.warn({ err: error }, 'could not check the role rules against Discord'));
}
