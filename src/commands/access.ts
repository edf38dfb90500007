import { PermissionFlagsBits } from 'discord.js';
import type { Config } from '../config.js';
import { UserError } from '../shared/errors.js';
import { STAFF_DEFAULT_PERMISSIONS } from './definitions.js';

export interface Invoker {
  roleIds: readonly string[];
  permissions: bigint;
}

function hasAnyRole(invoker: Invoker, roles: readonly string[]): boolean {
  return roles.some((r) => invoker.roleIds.includes(r));
}

function isAdministrator(invoker: Invoker): boolean {
  return (invoker.permissions & PermissionFlagsBits.Administrator) !== 0n;
}

/**
 * Admins: a role in ADMIN_ROLE_IDS, or Discord's Administrator permission (a server owner must
 * never be locked out of their own store's data by a missing setting).
 */
export function isAdmin(invoker: Invoker, config: Pick<Config, 'adminRoleIds'>): boolean {
  return isAdministrator(invoker) || hasAnyRole(invoker, config.adminRoleIds);
}

/**
 * Staff: admins, a role in STAFF_ROLE_IDS, or — when no staff roles are configured — whoever holds
 * the commands' default member permission. Discord already hides the commands from others; this
 * is checked again because server admins can widen command visibility in Integrations settings.
 */
export function isStaff(invoker: Invoker, config: Pick<Config, 'adminRoleIds' | 'staffRoleIds'>): boolean {
  if (isAdmin(invoker, config)) return true;
  if (config.staffRoleIds.length > 0) return hasAnyRole(invoker, config.staffRoleIds);
  return (invoker.permissions & STAFF_DEFAULT_PERMISSIONS) !== 0n;
}

export function assertStaff(invoker: Invoker, config: Pick<Config, 'adminRoleIds' | 'staffRoleIds'>): void {
  if (!isStaff(invoker, config)) throw new UserError('not_staff', 'These commands are for store staff only.');
}

export function assertAdmin(invoker: Invoker, config: Pick<Config, 'adminRoleIds'>): void {
  if (!isAdmin(invoker, config)) throw new UserError('not_admin', 'Only store admins can do this.');
}
