import { Routes, type RESTGetCurrentApplicationResult } from 'discord.js';
import { REST } from '../discord/rest.js';
import { commandDefinitions } from './definitions.js';

/** Registers (overwrites) the guild's commands; run on deploy, never on every boot. */
export async function deployCommands(options: { token: string; apiUrl: string; guildId: string; applicationId?: string | undefined }): Promise<{ applicationId: string; count: number }> {
  const rest = new REST({ api: options.apiUrl }).setToken(options.token);
  const applicationId = options.applicationId ?? ((await rest.get(Routes.currentApplication())) as RESTGetCurrentApplicationResult).id;
  const registered = (await rest.put(Routes.applicationGuildCommands(applicationId, options.guildId), { body: commandDefinitions })) as unknown[];
  return { applicationId, count: registered.length };
}
