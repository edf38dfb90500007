import { UserError } from '../../shared/errors.js';
import { findCustomerByDiscordId } from '../../store/customer.repository.js';
import type { BotDeps } from '../context.js';
import type { View } from '../../discord/render/view.js';
import { buildProfileView } from './customer-views.js';

/** "Customer profile" on a member: the same profile as a lookup, found by the linked Discord ID. */
export async function runProfileMenu(deps: BotDeps, targetUserId: string): Promise<View> {
  const customer = await findCustomerByDiscordId(deps.db, targetUserId);
  if (!customer) throw new UserError('not_linked', `<@${targetUserId}> has no store account linked to this Discord user.`);
  return buildProfileView(deps, customer.id);
}
