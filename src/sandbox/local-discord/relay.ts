import { GatewayDispatchEvents, GatewayIntentBits } from 'discord.js';
import type { LocalGateway } from './gateway.js';
import type { RouteDeps } from './rest-routes/index.js';
import type { LocalDiscordState } from './state.js';
import { memberJson, messageJson, userJson } from './wire.js';

/** The gateway events a change made over REST, by an interaction or by the driver sends the bot. */
export type GatewayRelay = Pick<RouteDeps, 'announce' | 'memberChanged' | 'memberRemoved'>;

export function gatewayRelay(state: LocalDiscordState, gateway: LocalGateway): GatewayRelay {
  return {
    announce: (message, event) => {
      // Ephemeral messages exist only for the user who saw them; the bot gets no gateway event.
      if ((message.flags & 64) !== 0) return;
      const intent = message.guildId === null ? GatewayIntentBits.DirectMessages : GatewayIntentBits.GuildMessages;
      if (event === 'delete') {
        gateway.dispatch(
          GatewayDispatchEvents.MessageDelete,
          { id: message.id, channel_id: message.channelId, ...(message.guildId === null ? {} : { guild_id: message.guildId }) },
          intent,
        );
        return;
      }
      const type = event === 'create' ? GatewayDispatchEvents.MessageCreate : GatewayDispatchEvents.MessageUpdate;
      gateway.dispatch(type, messageJson(state, message), intent);
    },
    memberChanged: (guild, member) => {
      gateway.dispatch(GatewayDispatchEvents.GuildMemberUpdate, { guild_id: guild.id, ...memberJson(state, member) });
    },
    memberRemoved: (guild, userId) => {
      const user = state.users.get(userId);
      if (user) gateway.dispatch(GatewayDispatchEvents.GuildMemberRemove, { guild_id: guild.id, user: userJson(user) });
    },
  };
}
