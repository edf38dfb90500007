import { applicationRoutes, gatewayRoutes } from './application.js';
import { channelRoutes } from './channels.js';
import { commandRoutes } from './commands.js';
import { guildRoutes } from './guilds.js';
import { lookups } from './lookups.js';
import { memberRoutes } from './members.js';
import { messageRoutes } from './messages.js';
import { memberRoleRoutes } from './roles.js';
import type { Route, RouteDeps } from './route.js';
import { userRoutes } from './users.js';
import { interactionRoutes } from './webhooks.js';

export type { Route, RouteContext, RouteDeps } from './route.js';

/** Every REST route the local Discord answers. The server takes the first that matches, so order matters within a file. */
export function buildRoutes(deps: RouteDeps): Route[] {
  const look = lookups(deps);
  return [
    ...gatewayRoutes(deps),
    ...userRoutes(deps),
    ...applicationRoutes(deps),
    ...commandRoutes(deps),
    ...guildRoutes(look),
    ...memberRoutes(deps, look),
    ...memberRoleRoutes(deps, look),
    ...channelRoutes(deps, look),
    ...messageRoutes(deps, look),
    ...interactionRoutes(deps),
  ];
}
