import { channelJson, guildJson, roleJson } from '../wire.js';
import type { Lookups } from './lookups.js';
import { ok, type Route } from './route.js';

export function guildRoutes({ guildOf }: Lookups): Route[] {
  return [
    { method: 'GET', pattern: '/guilds/:guildId', auth: true, handle: ({ params }) => ok(guildJson(guildOf(params))) },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/channels',
      auth: true,
      handle: ({ params }) => ok([...guildOf(params).channels.values()].map((channel) => channelJson(channel))),
    },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/roles',
      auth: true,
      handle: ({ params }) => ok([...guildOf(params).roles.values()].map(roleJson)),
    },
  ];
}
