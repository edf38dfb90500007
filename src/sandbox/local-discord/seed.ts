import { PermissionFlagsBits } from 'discord.js';
import { DEFAULT_EVERYONE_PERMISSIONS } from './state.js';
import type { LocalGuildSeed } from './types.js';

export const DEFAULT_APPLICATION_ID = '1100000000000000001';
export const DEFAULT_GUILD_ID = '1200000000000000001';

/** Ids of the default guild's cast, so tests and the sandbox prompt can name them. */
export const DEFAULT_IDS = {
  guild: DEFAULT_GUILD_ID,
  roles: { admin: '1210000000000000001', staff: '1210000000000000002', vip: '1210000000000000003', supporter: '1210000000000000004' },
  channels: { general: '1220000000000000001', staffDesk: '1220000000000000002', digest: '1220000000000000003' },
  users: { owner: '1230000000000000001', staff: '1230000000000000002', customer: '1230000000000000003', vipCustomer: '1230000000000000004' },
} as const;

const STAFF_PERMISSIONS =
  DEFAULT_EVERYONE_PERMISSIONS | PermissionFlagsBits.ManageGuild | PermissionFlagsBits.ManageMessages | PermissionFlagsBits.ModerateMembers;

/** A small store server: an owner, an admin-free staff member, two customers, and purchasable roles below the bot's. */
export const DEFAULT_GUILD_SEED: LocalGuildSeed = {
  id: DEFAULT_IDS.guild,
  name: 'Pixel Peak Store',
  ownerId: DEFAULT_IDS.users.owner,
  roles: [
    { id: DEFAULT_IDS.guild, name: '@everyone', position: 0, permissions: DEFAULT_EVERYONE_PERMISSIONS.toString() },
    { id: DEFAULT_IDS.roles.supporter, name: 'Supporter', position: 1 },
    { id: DEFAULT_IDS.roles.vip, name: 'VIP', position: 2 },
    { id: DEFAULT_IDS.roles.staff, name: 'Staff', position: 3, permissions: STAFF_PERMISSIONS.toString() },
    { id: DEFAULT_IDS.roles.admin, name: 'Admin', position: 4, permissions: PermissionFlagsBits.Administrator.toString() },
  ],
  channels: [
    { id: DEFAULT_IDS.channels.general, name: 'general' },
    { id: DEFAULT_IDS.channels.staffDesk, name: 'staff-desk' },
    { id: DEFAULT_IDS.channels.digest, name: 'customer-digest' },
  ],
  members: [
    { user: { id: DEFAULT_IDS.users.owner, username: 'store-owner', global_name: 'Store Owner' }, roles: [DEFAULT_IDS.roles.admin] },
    { user: { id: DEFAULT_IDS.users.staff, username: 'desk-staff', global_name: 'Desk Staff' }, roles: [DEFAULT_IDS.roles.staff] },
    { user: { id: DEFAULT_IDS.users.customer, username: 'alex', global_name: 'Alex' }, roles: [] },
    { user: { id: DEFAULT_IDS.users.vipCustomer, username: 'sam', global_name: 'Sam' }, roles: [DEFAULT_IDS.roles.vip] },
  ],
};
