import type { ChatInputCommandInteraction } from 'discord.js';
import { addNote } from '../../domain/customers/notes.js';
import type { Actor } from '../../domain/customers/types.js';
import type { BotDeps } from '../context.js';
import type { View } from '../../discord/render/view.js';
import { buildProfileView } from './customer-views.js';
import { resolveOneCustomer } from './resolve-customer.js';

export interface NoteOptions {
  customer: string;
  text: string;
}

export function parseNoteOptions(interaction: ChatInputCommandInteraction): NoteOptions {
  return { customer: interaction.options.getString('customer', true), text: interaction.options.getString('text', true) };
}

export async function runNote(deps: BotDeps, actor: Actor, options: NoteOptions): Promise<View> {
  const customer = await resolveOneCustomer(deps.db, options.customer);
  return addNoteAndShowProfile(deps, actor, customer.id, options.text);
}

export async function addNoteAndShowProfile(deps: BotDeps, actor: Actor, customerId: number, text: string): Promise<View> {
  await addNote(deps.db, deps.clock, { customerId, author: actor, body: text });
  return buildProfileView(deps, customerId, '✅ Note added.');
}
