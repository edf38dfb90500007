import { PermissionFlagsBits } from 'discord.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DANGEROUS_PERMISSIONS, dangerousPermissionNames, roleGrantProblem } from '../../../src/domain/roles/safety.js';

const BOT = { highestPosition: 5, highestRoleName: 'Store Bot', ownsServer: false };
const role = (permissions: bigint, position = 1) => ({ id: '1', name: 'VIP', permissions, position });

describe('which roles buyers may get', () => {
  it('uses the bits discord.js knows for each dangerous permission', () => {
    const flags: Record<string, bigint> = PermissionFlagsBits;
    const byName: Record<string, string> = {
      'Kick Members': 'KickMembers',
      'Ban Members': 'BanMembers',
      Administrator: 'Administrator',
      'Manage Channels': 'ManageChannels',
      'Manage Server': 'ManageGuild',
      'View Audit Log': 'ViewAuditLog',
      'Manage Messages': 'ManageMessages',
      'Mention Everyone': 'MentionEveryone',
      'Mute Members': 'MuteMembers',
      'Deafen Members': 'DeafenMembers',
      'Move Members': 'MoveMembers',
      'Manage Nicknames': 'ManageNicknames',
      'Manage Roles': 'ManageRoles',
      'Manage Webhooks': 'ManageWebhooks',
      'Manage Expressions': 'ManageGuildExpressions',
      'Manage Events': 'ManageEvents',
      'Manage Threads': 'ManageThreads',
      'Timeout Members': 'ModerateMembers',
      'View Creator Monetization Analytics': 'ViewCreatorMonetizationAnalytics',
    };
    for (const { name, bit } of DANGEROUS_PERMISSIONS) expect(flags[byName[name] ?? name], name).toBe(bit);
  });

  it('refuses exactly the roles with a dangerous bit or a position not below the bot’s', () => {
    const dangerous = DANGEROUS_PERMISSIONS.reduce((all, p) => all | p.bit, 0n);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 53n) - 1n }), fc.integer({ min: 0, max: 250 }), fc.integer({ min: 1, max: 250 }), fc.boolean(), (permissions, position, botPosition, ownsServer) => {
        const problem = roleGrantProblem(role(permissions, position), { ...BOT, highestPosition: botPosition, ownsServer });
        const expected = (permissions & dangerous) !== 0n || (!ownsServer && position >= botPosition);
        expect(problem !== null).toBe(expected);
      }),
    );
  });

  it('lets a role with everyday permissions through', () => {
    const everyday = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.AttachFiles | PermissionFlagsBits.Connect | PermissionFlagsBits.Speak;
    expect(dangerousPermissionNames(everyday)).toEqual([]);
    expect(roleGrantProblem(role(everyday), BOT)).toBeNull();
  });

  it('names every dangerous permission a role carries', () => {
    const problem = roleGrantProblem(role(PermissionFlagsBits.ManageRoles | PermissionFlagsBits.MentionEveryone | PermissionFlagsBits.ManageWebhooks), BOT);
    expect(problem).toContain('@VIP carries Mention Everyone, Manage Roles and Manage Webhooks');
  });

  it('refuses a role at the bot’s position or above, unless the bot owns the server', () => {
    expect(roleGrantProblem(role(0n, 5), BOT)).toContain('at or above the bot’s own highest role (@Store Bot)');
    expect(roleGrantProblem(role(0n, 9), BOT)).toContain('Drag @Store Bot above @VIP');
    expect(roleGrantProblem(role(0n, 4), BOT)).toBeNull();
    expect(roleGrantProblem(role(0n, 9), { ...BOT, ownsServer: true })).toBeNull();
    expect(roleGrantProblem(role(PermissionFlagsBits.Administrator, 1), { ...BOT, ownsServer: true })).toContain('carries Administrator');
  });
});
