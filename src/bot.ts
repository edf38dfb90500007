import { Client, Events, GatewayIntentBits, Options, type ClientOptions } from 'discord.js';
import type { BotDeps } from './commands/context.js';
import { handleGuildMemberAdd } from './events/guild-member-add.js';
import { handleInteraction } from './events/interaction-create.js';
import { handleReady } from './events/ready.js';

/**
 * Caches are bounded: a store guild can have 100,000 members, and the bot needs none of its
 * messages, presences or reactions. Members are fetched when needed, not held.
 */
export function clientOptions(apiUrl: string): ClientOptions {
  return {
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers],
    rest: { api: apiUrl },
    makeCache: Options.cacheWithLimits({
      ...Options.DefaultMakeCacheSettings,
      MessageManager: 0,
      PresenceManager: 0,
      ReactionManager: 0,
      ReactionUserManager: 0,
      GuildMessageManager: 0,
      DMMessageManager: 0,
      ThreadMemberManager: 0,
      StageInstanceManager: 0,
      GuildScheduledEventManager: 0,
      VoiceStateManager: 0,
      GuildStickerManager: 0,
      GuildEmojiManager: 0,
      GuildInviteManager: 0,
      AutoModerationRuleManager: 0,
      GuildMemberManager: { maxSize: 1_000, keepOverLimit: (member) => member.id === member.client.user.id },
      UserManager: { maxSize: 1_000, keepOverLimit: (user) => user.id === user.client.user.id },
    }),
    sweepers: {
      ...Options.DefaultSweeperSettings,
      users: { interval: 3_600, filter: () => (user) => user.id !== user.client.user.id },
    },
  };
}

/** Builds the Discord client with every handler attached; it does not log in. */
export function createBot(deps: BotDeps, apiUrl: string): Client {
  const client = new Client(clientOptions(apiUrl));
  client.once(Events.ClientReady, (ready) => handleReady(ready, deps));
  client.on(Events.InteractionCreate, (interaction) => {
    handleInteraction(interaction, deps).catch((error: unknown) => deps.logger.error({ err: error }, 'interaction handler crashed'));
  });
  client.on(Events.GuildMemberAdd, (member) => {
    handleGuildMemberAdd(member, deps).catch((error: unknown) => deps.logger.error({ err: error, userId: member.id }, 'guildMemberAdd handler failed'));
  });
  client.on(Events.Error, (error) => deps.logger.error({ err: error }, 'discord client error'));
  client.on(Events.Warn, (message) => deps.logger.warn(message));
  return client;
}
