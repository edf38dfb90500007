import 'dotenv/config';
import { ConfigError, loadConfig } from './config.js';
import { deployCommands } from './commands/deploy.js';

try {
  const config = loadConfig(process.env);
  if (!config.discordToken || !config.guildId) {
    throw new ConfigError('DISCORD_TOKEN and DISCORD_GUILD_ID must be set to deploy commands (the sandbox registers its own)');
  }
  const result = await deployCommands({ token: config.discordToken, apiUrl: config.discordApiUrl, guildId: config.guildId, applicationId: config.discordClientId });
  console.log(`Registered ${result.count} commands for guild ${config.guildId} (application ${result.applicationId}).`);
} catch (error) {
  console.error(error instanceof ConfigError ? `Configuration error: ${error.message}` : `Could not register commands: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
