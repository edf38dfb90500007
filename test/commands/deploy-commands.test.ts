import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startLocalDiscord } from '../../src/sandbox/local-discord/index.js';

function run(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/deploy-commands.ts'], {
      env: { PATH: process.env.PATH ?? '', DOTENV_CONFIG_PATH: '/nonexistent/.env', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run deploy:commands', () => {
  it('registers /customer and the Customer profile menu in the configured guild', async () => {
    const guildId = '1300000000000000001';
    const discord = await startLocalDiscord({
      guilds: [{ id: guildId, name: 'Store', ownerId: '1300000000000000002', roles: [], channels: [{ id: '1300000000000000003', name: 'staff' }], members: [] }],
    });
    try {
      const result = await run({ DISCORD_TOKEN: discord.token, DISCORD_GUILD_ID: guildId, DISCORD_API_URL: discord.apiUrl });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Registered 2 commands for guild ${guildId}`);
      const commands = discord.registeredCommands(guildId);
      expect(commands.map((c) => c.name)).toEqual(['customer', 'Customer profile']);
      expect((commands[0]!.options ?? []).map((o) => o.name)).toEqual(['lookup', 'ban', 'unban', 'bans', 'note', 'stats', 'export', 'digest', 'gdpr-export', 'delete', 'roles', 'role-rule']);
    } finally {
      await discord.stop();
    }
  });

  it('refuses to run without a token, naming the settings it needs', async () => {
    const result = await run({});
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('Configuration error: DISCORD_TOKEN and DISCORD_GUILD_ID must be set to deploy commands (the sandbox registers its own)');
  });
});
