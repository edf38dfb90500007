import { statSync } from 'node:fs';
import fc from 'fast-check';
import type { APIEmbed } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBanConfirm, runBanPreview } from '../../src/commands/customer/ban.js';
import { runBans } from '../../src/commands/customer/bans.js';
import { runDeletePreview } from '../../src/commands/customer/delete.js';
import { addNoteAndShowProfile } from '../../src/commands/customer/note.js';
import { runUnban } from '../../src/commands/customer/unban.js';
import { suggestChoices } from '../../src/commands/customer/autocomplete.js';
import { buildNotesView, buildOrderView, buildOrdersView, buildProfileView } from '../../src/commands/customer/customer-views.js';
import { renderMatchesView } from '../../src/discord/render/customer-views.js';
import { runDigestPreview } from '../../src/commands/customer/digest.js';
import { banModal, noteModal } from '../../src/commands/customer/modals.js';
import { runRoleRuleAdd, runRoleRuleList } from '../../src/commands/customer/role-rule.js';
import { buildRolesView } from '../../src/commands/customer/roles.js';
import { runStats } from '../../src/commands/customer/stats.js';
import { customId } from '../../src/discord/custom-ids.js';
import type { View } from '../../src/discord/render/view.js';
import { createRoleInspector } from '../../src/discord/role-inspector.js';
import { createBan } from '../../src/domain/bans/bans.js';
import { addNote } from '../../src/domain/customers/notes.js';
import { addRoleRule } from '../../src/domain/roles/rules.js';
import { listStaffAlerts, raiseStaffAlert } from '../../src/domain/alerts/staff-alerts.js';
import { clipText, codePointLength, isWellFormed } from '../../src/shared/text.js';
import type { Customer } from '../../src/domain/customers/types.js';
import type { LocalMessage, UploadedFile } from '../../src/sandbox/local-discord/index.js';
import { validateAutocompleteChoices, validateMessageBody, validateModal } from '../../src/sandbox/local-discord/validation.js';
import { insertCustomer } from '../../src/domain/customers/registration.js';
import { upsertOrder } from '../../src/store/order.repository.js';
import { GUILD_ID, STAFF_ID, type Harness } from '../support/bot-harness.js';
import { openTestContext } from '../support/context.js';

/**
 * Every view the bot renders, for customers whose text is as hostile as people make it, must be
 * a body Discord accepts: the local Discord's validator holds each one to Discord's limits.
 */

const HOSTILE_PIECES = [
  '👨‍👩‍👧‍👦',
  '🇫🇷',
  '🏳️‍🌈',
  '👍🏽',
  '😀',
  'e\u0301',
  'Z̷̢͉̤̈́͐a̸͎̓l̵̰̈g̶̱̅o̴̞͒',
  'שלום',
  'مرحبا',
  '\u202Eevil\u202C',
  '**bold**',
  '__under__',
  '||spoiler||',
  '`code`',
  '```',
  '@everyone',
  '<@123456789012345678>',
  '[link](https://example.com)',
  '> quote',
  '# heading',
  '\\',
  ' ',
  '\n',
  'a',
  'Ω',
  '\u200d',
  '\ufe0f',
];

/** Text of 1..max code points built from emoji sequences, RTL, combining marks and markdown. */
function hostileText(max: number): fc.Arbitrary<string> {
  const built = fc.array(fc.constantFrom(...HOSTILE_PIECES), { minLength: 1, maxLength: Math.max(1, Math.ceil(max / 2)) }).map((parts) => parts.join(''));
  const repeated = fc.constantFrom('👨‍👩‍👧‍👦', '🇫🇷', '😀', 'e\u0301', 'ش').map((piece) => piece.repeat(max));
  return fc
    .oneof({ arbitrary: built, weight: 3 }, { arbitrary: repeated, weight: 1 }, { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: max }), weight: 1 })
    .map((text) => clipText(text, max, ''))
    .filter((text) => text.trim() !== '' && codePointLength(text.trim()) <= max);
}

interface HostileCustomer {
  name: string;
  notes: string[];
  authorName: string;
  productName: string;
  banReason: string;
  alert: string;
  typed: string;
  extraItems: number;
}

const hostileCustomer: fc.Arbitrary<HostileCustomer> = fc.record({
  name: hostileText(100),
  notes: fc.array(hostileText(1000), { minLength: 1, maxLength: 6 }),
  authorName: hostileText(80),
  // The store's own limits on these are counted elsewhere; stay inside them in either unit.
  productName: hostileText(100).filter((text) => text.length <= 190),
  banReason: hostileText(500).filter((text) => text.trim().length <= 500),
  alert: hostileText(2500),
  typed: hostileText(120),
  extraItems: fc.integer({ min: 0, max: 40 }),
});

type MessageBody = { content?: string; embeds?: APIEmbed[]; components?: unknown[]; flags?: number };

function asJson<T>(value: T | { toJSON(): T }): T {
  return typeof value === 'object' && value !== null && 'toJSON' in value && typeof value.toJSON === 'function' ? value.toJSON() : (value as T);
}

function uploaded(view: View): UploadedFile[] {
  return (view.files ?? []).map((file, index) => {
    const attachment: unknown = typeof file === 'object' && file !== null && 'attachment' in file ? (file as { attachment: unknown }).attachment : file;
    const size = Buffer.isBuffer(attachment) ? attachment.length : typeof attachment === 'string' ? statSync(attachment).size : 0;
    return { field: `files[${index}]`, filename: `f${index}`, size, data: Buffer.alloc(0) };
  });
}

/** What discord.js would put on the wire for this view. */
function bodyOf(view: View): MessageBody {
  const body: MessageBody = {};
  if (view.content !== undefined) body.content = view.content;
  if (view.embeds) body.embeds = view.embeds.map((embed) => asJson<APIEmbed>(embed as APIEmbed));
  if (view.components) body.components = view.components.map((row) => asJson(row as object));
  return body;
}

/** The pending-action token behind a confirmation's Confirm button. */
function confirmToken(view: View): string {
  const rows = (view.components ?? []).map((row) => asJson(row as object)) as { components?: { custom_id?: string }[] }[];
  const confirm = rows.flatMap((row) => row.components ?? []).find((c) => c.custom_id?.startsWith('b:ok:'));
  if (!confirm?.custom_id) throw new Error('the ban preview has no Confirm button');
  return confirm.custom_id.slice('b:ok:'.length);
}

function expectAccepted(label: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    const detail = error instanceof Error && 'errors' in error ? JSON.stringify((error as { errors: unknown }).errors) : String(error);
    throw new Error(`${label}: Discord would refuse it: ${detail}`);
  }
}

function expectView(label: string, view: View): void {
  expectAccepted(label, () => validateMessageBody(bodyOf(view), uploaded(view), true));
}

let harness: Harness;
let roleNames: string[];
const ROLE_IDS = ['2200000000000000020', '2200000000000000021'];
let serial = 0;

beforeAll(async () => {
  roleNames = fc.sample(hostileText(100), { numRuns: ROLE_IDS.length, seed: 15 });
  harness = await openTestContext({
    now: '2026-11-22T12:00:00.000Z',
    discord: { roles: ROLE_IDS.map((id, index) => ({ id, name: roleNames[index] ?? 'Role', position: 1 })) },
  });
  for (const [index, roleId] of ROLE_IDS.entries()) {
    await addRoleRule(harness.db, harness.clock, { productId: 50 + index, roleId, guildId: GUILD_ID, actor: { id: STAFF_ID, name: 'Sam' } });
  }
});

afterAll(async () => {
  await harness.close();
});

async function seedCustomer(input: HostileCustomer): Promise<{ customer: Customer; orderId: number }> {
  const { db, clock } = harness;
  const n = ++serial;
  const customer = await insertCustomer(db, clock, { name: input.name, email: `hostile_${n}*x@example.com`, createdAt: '2025-01-01T00:00:00.000Z' });
  // Old enough to be at risk, so the digest lists the customer by name.
  const placed = '2026-01-10T12:00:00.000Z';
  const order = await upsertOrder(db, clock, {
    id: 10_000 + n,
    orderNumber: `ORD-${n}`,
    customerId: customer.id,
    status: 'completed',
    totalCents: 1999,
    currency: 'USD',
    createdAt: placed,
    completedAt: placed,
    items: [
      { productId: 50, productName: input.productName, quantity: 1, priceCents: 999 },
      ...Array.from({ length: input.extraItems }, (_, index) => ({ productId: 51, productName: `${input.productName} ×${index + 2}`, quantity: index + 2, priceCents: 500 })),
    ],
  });
  for (const body of input.notes) await addNote(db, clock, { customerId: customer.id, author: { id: STAFF_ID, name: input.authorName }, body });
  return { customer, orderId: order.id };
}

async function banCustomer(customer: Customer, input: HostileCustomer): Promise<void> {
  await createBan(harness.db, harness.clock, { type: 'customer', target: String(customer.id), duration: 'permanent', reason: input.banReason, actor: { id: STAFF_ID, name: input.authorName } });
}

describe('every view is a body Discord accepts, whatever the customer is called', () => {
  it('renders profile, orders, notes, order detail, bans, stats, digest, roles, menus, autocomplete, modals and alerts within Discord limits', async () => {
    const { deps } = harness;
    const inspector = createRoleInspector(harness.client);
    const actor = { id: STAFF_ID, name: 'Sam' };
    await fc.assert(
      fc.asyncProperty(hostileCustomer, async (input) => {
        const { customer, orderId } = await seedCustomer(input);
        const id = customer.id;
        const preview = await runBanPreview(deps, actor, { type: 'customer', target: `id:${id}`, duration: 'permanent', reason: input.banReason });
        expectView('ban preview', preview);
        expectView('ban confirmed', await runBanConfirm(deps, actor, confirmToken(preview)));
        expectView('profile', await buildProfileView(deps, id, `Note added to ${input.name}`));
        expectView('orders', await buildOrdersView(deps, id, 0));
        expectView('notes', await buildNotesView(deps, id, 0));
        expectView('order detail', await buildOrderView(deps, id, orderId));
        expectView('matches menu', renderMatchesView(input.typed, [customer, { ...customer, id: id + 100_000 }], 40));
        expectView('bans list', await runBans(deps, actor, { status: 'all', type: undefined, search: undefined }));
        expectView('delete preview', await runDeletePreview(deps, actor, { customer: `id:${id}` }));
        expectView('note added', await addNoteAndShowProfile(deps, { id: STAFF_ID, name: input.authorName }, id, input.notes[0] ?? 'x'));
        expectView('customer stats', await runStats(deps, { customer: `id:${id}` }));
        expectView('store stats', await runStats(deps, { customer: undefined }));
        expectView('digest', await runDigestPreview(deps));
        expectView('roles', await buildRolesView(deps, inspector, GUILD_ID, id, `Re-synced ${input.name}`));
        const role = { id: ROLE_IDS[0] ?? '', name: roleNames[0] ?? 'Role', managed: false, permissions: 0n, position: 1 };
        const rule = { productId: 50, role, revokeOnRefund: true, revokeOnChargeback: undefined, revokeOnSubscriptionEnd: undefined, graceHours: undefined };
        expectView('role rule added', await runRoleRuleAdd(deps, inspector, GUILD_ID, actor, { ...rule, productId: 1000 + serial }));
        expectView('role rules', await runRoleRuleList(deps, inspector));
        for (const name of ['query', 'customer', 'target', 'duration', 'ban']) {
          const choices = await suggestChoices(deps, { name, value: input.typed, type: name === 'target' ? 'email' : null });
          expectAccepted(`autocomplete ${name}`, () => validateAutocompleteChoices({ choices }));
        }
        expectAccepted('note modal', () => validateModal(noteModal(id) as unknown as Record<string, unknown>));
        expectAccepted('ban modal', () => validateModal(banModal(id) as unknown as Record<string, unknown>));
        const ban = await deps.db.selectFrom('bans').select('id').where('customer_id', '=', id).executeTakeFirstOrThrow();
        expectView('unban', await runUnban(deps, actor, { ban: `#${ban.id}`, reason: input.banReason }));
        await raiseStaffAlert(deps.db, deps.clock, { kind: 'hostile', message: `Customer ${input.name}: ${input.alert}` });
        for (const alert of await listStaffAlerts(deps.db, { kind: 'hostile' })) {
          expectAccepted('staff alert', () => validateMessageBody({ content: alert.message, allowed_mentions: { parse: [] } }, [], true));
        }
      }),
      { numRuns: 20, seed: 15_2026 },
    );
  });
});

describe('through the real discord.js client', () => {
  it('shows a hostile customer’s profile and notes page, and suggests them, without a refused request', async () => {
    const [input] = fc.sample(hostileCustomer, { numRuns: 1, seed: 7 });
    if (!input) throw new Error('no sample');
    // A 1,000-emoji note is 2,000 UTF-16 units: a cut by units lands inside a surrogate pair.
    const hostile = { ...input, name: '👨‍👩‍👧‍👦'.repeat(14) + '🇫🇷', notes: ['😀'.repeat(1000), ...input.notes] };
    const { customer } = await seedCustomer(hostile);
    await banCustomer(customer, hostile);
    const refusedBefore = harness.discord.requests.filter((request) => request.status >= 400).length;

    const { message } = await harness.customer('lookup', { query: `id:${customer.id}` });
    expect(message.embeds[0]?.title).toBe(customer.name);

    const notes = await harness.discord.clickButton({ message, customId: customId.notes(customer.id, 0), userId: STAFF_ID });
    const page = (await notes.settled()) as LocalMessage;
    expect(page.embeds[0]?.fields?.length).toBeGreaterThan(0);

    const choices = await harness.discord.autocomplete({ guildId: GUILD_ID, userId: STAFF_ID, name: 'customer', subcommand: 'lookup', options: { query: customer.name }, focused: 'query' });
    expect(choices.map((choice) => choice.value)).toContain(`id:${customer.id}`);

    // A note of 1,000 code points typed into the profile's form is kept whole and shown.
    const longNote = `${'👨‍👩‍👧‍👦'.repeat(142)}🇫🇷😀`;
    const form = await harness.discord.clickButton({ message, customId: customId.addNote(customer.id), userId: STAFF_ID });
    await form.settled();
    const saved = await harness.discord.submitModal({ customId: customId.noteModal(customer.id), fields: { note: longNote }, userId: STAFF_ID });
    const profile = (await saved.settled()) as LocalMessage;
    expect(profile.embeds[0]?.title).toBe(customer.name);
    const stored = await harness.db.selectFrom('notes').select('body').where('customer_id', '=', customer.id).orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(stored.body).toBe(longNote);

    expect(harness.discord.requests.filter((request) => request.status >= 400).slice(refusedBefore)).toEqual([]);
  });

  it('quotes what staff typed in a refusal without cutting an emoji in half', async () => {
    const typed = `a${'😀'.repeat(99)}`;
    const { message } = await harness.customer('unban', { ban: typed });
    expect(message.content).toMatch(/^❌ No active ban matches "a😀+…"\.$/u);
    expect(isWellFormed(message.content)).toBe(true);

    const ip = await harness.customer('ban', { type: 'ip', target: typed, duration: '24h', reason: 'test' });
    expect(ip.message.content).toMatch(/^❌ "a😀+…" is not an IP address/u);
  });
});
