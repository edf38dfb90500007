import { userJson } from '../wire.js';
import { ok, type Route, type RouteDeps } from './route.js';

export function gatewayRoutes({ gatewayUrl }: RouteDeps): Route[] {
  return [
    { method: 'GET', pattern: '/gateway', auth: false, handle: () => ok({ url: gatewayUrl() }) },
    {
      method: 'GET',
      pattern: '/gateway/bot',
      auth: true,
      handle: () =>
        ok({
          url: gatewayUrl(),
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
        }),
    },
  ];
}

/** The bot's own application under both paths discord.js asks; its guild count is taken when the routes are built. */
export function applicationRoutes({ state }: RouteDeps): Route[] {
  const applicationJson = {
    id: state.applicationId,
    name: state.botUser.username,
    icon: null,
    description: '',
    bot_public: true,
    bot_require_code_grant: false,
    verify_key: '0'.repeat(64),
    flags: 0,
    team: null,
    bot: userJson(state.botUser),
    owner: userJson(state.botUser),
    summary: '',
    approximate_guild_count: state.guilds.size,
  };
  return [
    { method: 'GET', pattern: '/applications/@me', auth: true, handle: () => ok(applicationJson) },
    { method: 'GET', pattern: '/oauth2/applications/@me', auth: true, handle: () => ok(applicationJson) },
  ];
}
