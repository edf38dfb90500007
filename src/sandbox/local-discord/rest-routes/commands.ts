import type { APIApplicationCommand } from 'discord-api-types/v10';
import { DiscordHttpError, asObject, unknownApplicationCommand } from '../http-util.js';
import type { LocalDiscordState } from '../state.js';
import { normalizeCommands } from '../validation.js';
import { missingAccess } from './lookups.js';
import { noContent, ok, type Route, type RouteDeps } from './route.js';

/** Global commands, then each guild's: the same six routes under two bases. */
export function commandRoutes({ state }: RouteDeps): Route[] {
  return [
    ...commandRoutesUnder('/applications/:applicationId/commands', state),
    ...commandRoutesUnder('/applications/:applicationId/guilds/:guildId/commands', state),
  ];
}

function commandRoutesUnder(base: string, state: LocalDiscordState): Route[] {
  const scopeOf = (params: Record<string, string>): string | null => commandScope(state, params);
  const invalidBody = (): DiscordHttpError => new DiscordHttpError(400, 50035, 'Invalid Form Body');
  const normalize = (body: unknown, current: APIApplicationCommand[], scope: string | null): APIApplicationCommand[] =>
    normalizeCommands(body, current, state.applicationId, scope, state.ids);
  const store = (scope: string | null, commands: APIApplicationCommand[]): void => {
    state.commands.set(scope ?? '', commands);
  };
  return [
    { method: 'GET', pattern: base, auth: true, handle: ({ params }) => ok(state.commandsFor(scopeOf(params))) },
    {
      method: 'PUT',
      pattern: base,
      auth: true,
      handle: ({ params, body }) => {
        const scope = scopeOf(params);
        const stored = normalize(body, state.commandsFor(scope), scope);
        store(scope, stored);
        return ok(stored);
      },
    },
    {
      method: 'POST',
      pattern: base,
      auth: true,
      handle: ({ params, body }) => {
        const scope = scopeOf(params);
        const current = state.commandsFor(scope);
        const [created] = normalize([body], current, scope);
        if (!created) throw invalidBody();
        const existed = current.some((command) => command.id === created.id);
        store(scope, [...current.filter((command) => command.id !== created.id), created]);
        return { status: existed ? 200 : 201, body: created };
      },
    },
    {
      method: 'GET',
      pattern: `${base}/:commandId`,
      auth: true,
      handle: ({ params }) => ok(findCommand(state.commandsFor(scopeOf(params)), params.commandId)),
    },
    {
      method: 'PATCH',
      pattern: `${base}/:commandId`,
      auth: true,
      handle: ({ params, body }) => {
        const scope = scopeOf(params);
        const current = state.commandsFor(scope);
        const existing = findCommand(current, params.commandId);
        const [updated] = normalize([{ ...existing, ...asObject(body) }], [existing], scope);
        if (!updated) throw invalidBody();
        store(scope, current.map((command) => (command.id === existing.id ? updated : command)));
        return ok(updated);
      },
    },
    {
      method: 'DELETE',
      pattern: `${base}/:commandId`,
      auth: true,
      handle: ({ params }) => {
        const scope = scopeOf(params);
        const current = state.commandsFor(scope);
        const existing = findCommand(current, params.commandId);
        store(scope, current.filter((command) => command.id !== existing.id));
        return noContent();
      },
    },
  ];
}

/** The guild a command route addresses (null for global ones); another application's or an unknown guild's is no access. */
function commandScope(state: LocalDiscordState, params: Record<string, string>): string | null {
  if (params.applicationId !== state.applicationId) throw missingAccess();
  if (params.guildId === undefined) return null;
  if (!state.guilds.has(params.guildId)) throw missingAccess();
  return params.guildId;
}

function findCommand(commands: APIApplicationCommand[], commandId: string | undefined): APIApplicationCommand {
  const command = commands.find((candidate) => candidate.id === commandId);
  if (!command) throw unknownApplicationCommand();
  return command;
}
