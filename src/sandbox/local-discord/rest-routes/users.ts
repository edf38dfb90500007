import { asObject, asString, unknownUser } from '../http-util.js';
import type { LocalDiscordState, UserRecord } from '../state.js';
import { channelJson, userJson } from '../wire.js';
import { ok, type Route, type RouteDeps } from './route.js';

/** `/users/@me` comes before `/users/:userId`, which would otherwise take it. */
export function userRoutes({ state }: RouteDeps): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/users/@me',
      auth: true,
      handle: () => ok({ ...userJson(state.botUser), verified: true, mfa_enabled: false, flags: 0, email: null, locale: 'en-US' }),
    },
    {
      method: 'POST',
      pattern: '/users/@me/channels',
      auth: true,
      handle: ({ body }) => {
        const recipientId = asString(asObject(body).recipient_id) ?? '';
        const recipient = userOf(state, recipientId);
        return ok(channelJson(state.dmChannelFor(recipientId), recipient));
      },
    },
    {
      method: 'GET',
      pattern: '/users/:userId',
      auth: true,
      handle: ({ params }) => ok(userJson(userOf(state, params.userId ?? ''))),
    },
  ];
}

function userOf(state: LocalDiscordState, userId: string): UserRecord {
  const user = state.users.get(userId);
  if (!user) throw unknownUser();
  return user;
}
