import { channelJson } from '../wire.js';
import type { Lookups } from './lookups.js';
import { ok, type Route, type RouteDeps } from './route.js';

export function channelRoutes({ state }: RouteDeps, { channelOf }: Lookups): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/channels/:channelId',
      auth: true,
      handle: ({ params }) => {
        const channel = channelOf(params);
        const recipient = channel.recipientId === null ? undefined : state.users.get(channel.recipientId);
        return ok(channelJson(channel, recipient));
      },
    },
  ];
}
