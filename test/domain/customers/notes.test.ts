import { describe, expect, it } from 'vitest';
import { listActivity } from '../../../src/domain/customers/activity-log.js';
import type { ManualClock } from '../../../src/shared/clock.js';
import { eraseCustomer } from '../../../src/domain/privacy/erasure.js';
import { addNote, listNotes } from '../../../src/domain/customers/notes.js';
import type { Actor, Customer } from '../../../src/domain/customers/types.js';
import { insertCustomer } from '../../../src/domain/customers/registration.js';
import type { Db } from '../../../src/store/database.js';
import { useTestContext } from '../../support/context.js';

const STAFF: Actor = { id: '200000000000000001', name: 'Mod Mia' };
let db: Db;
let clock: ManualClock;
let customer: Customer;

useTestContext(async (context) => {
  ({ db, clock } = context);
  customer = await insertCustomer(db, clock, { name: 'Alice', email: 'alice@example.com' });
});

describe('staff notes', () => {
  it('stores a trimmed note with its author and time', async () => {
    const note = await addNote(db, clock, { customerId: customer.id, author: STAFF, body: '  Asked for a refund.\n' });
    expect(note).toEqual({
      id: note.id,
      customerId: customer.id,
      authorId: STAFF.id,
      authorName: 'Mod Mia',
      body: 'Asked for a refund.',
      createdAt: '2026-11-22T12:00:00.000Z',
    });
  });

  it('accepts 1 to 1000 characters and refuses an empty or longer note', async () => {
    await expect(addNote(db, clock, { customerId: customer.id, author: STAFF, body: 'x' })).resolves.toBeDefined();
    await expect(addNote(db, clock, { customerId: customer.id, author: STAFF, body: 'x'.repeat(1000) })).resolves.toBeDefined();
    // Emoji count as one character each, as staff see them.
    await expect(addNote(db, clock, { customerId: customer.id, author: STAFF, body: '😀'.repeat(1000) })).resolves.toBeDefined();
    await expect(addNote(db, clock, { customerId: customer.id, author: STAFF, body: 'x'.repeat(1001) })).rejects.toMatchObject({
      code: 'note_length',
    });
    await expect(addNote(db, clock, { customerId: customer.id, author: STAFF, body: ' \n\t ' })).rejects.toMatchObject({ code: 'note_length' });
    expect((await listNotes(db, customer.id, { offset: 0, limit: 10 })).total).toBe(3);
  });

  it('refuses a note on a customer who does not exist', async () => {
    await expect(addNote(db, clock, { customerId: 999, author: STAFF, body: 'hello' })).rejects.toMatchObject({
      code: 'customer_not_found',
      message: 'No customer with id 999.',
    });
    expect(await listActivity(db, { action: 'note.add' })).toEqual([]);
  });

  it('refuses a note on an erased customer and stores nothing', async () => {
    await eraseCustomer(db, clock, { customerId: customer.id, actor: STAFF });
    await expect(addNote(db, clock, { customerId: customer.id, author: STAFF, body: 'Called back about the refund' })).rejects.toMatchObject({
      name: 'UserError',
      code: 'customer_erased',
      message: `Customer #${customer.id} was erased; notes cannot be added to an erased customer.`,
    });
    expect(await db.selectFrom('notes').selectAll().execute()).toEqual([]);
    expect(await listActivity(db, { action: 'note.add' })).toEqual([]);
  });

  it('refuses a note that arrives while an erasure of the same customer is in progress', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let erased!: () => void;
    const erasedInTransaction = new Promise<void>((resolve) => (erased = resolve));
    const erasure = db.transaction().execute(async (trx) => {
      await eraseCustomer(trx, clock, { customerId: customer.id, actor: STAFF });
      erased();
      await gate;
    });
    await erasedInTransaction;
    const note = addNote(db, clock, { customerId: customer.id, author: STAFF, body: 'Called back about the refund' }).then(
      () => 'stored',
      (error: unknown) => (error as { code?: string }).code,
    );
    // Long enough for the note's transaction to reach the customer row while the erasure holds it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    await erasure;
    expect(await note).toBe('customer_erased');
    expect(await db.selectFrom('notes').selectAll().execute()).toEqual([]);
  });

  it('logs who added a note, with its id and length but never its text', async () => {
    const note = await addNote(db, clock, { customerId: customer.id, author: STAFF, body: 'Secret: prefers PayPal' });
    const [entry, ...rest] = await listActivity(db, { targetType: 'customer', targetId: customer.id });
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({
      actor: STAFF,
      action: 'note.add',
      targetType: 'customer',
      targetId: String(customer.id),
      details: { noteId: note.id, length: 22 },
      createdAt: '2026-11-22T12:00:00.000Z',
    });
    expect(JSON.stringify(entry)).not.toContain('PayPal');
  });

  it('lists a customer’s notes newest first, a page at a time', async () => {
    const other = await insertCustomer(db, clock, { name: 'Bob', email: 'bob@example.com' });
    for (let i = 1; i <= 5; i++) {
      await addNote(db, clock, { customerId: customer.id, author: STAFF, body: `note ${i}` });
      clock.advance(60_000);
    }
    await addNote(db, clock, { customerId: other.id, author: STAFF, body: 'about Bob' });
    // Two notes in the same millisecond still come out newest first.
    await addNote(db, clock, { customerId: customer.id, author: STAFF, body: 'note 6' });

    const first = await listNotes(db, customer.id, { offset: 0, limit: 4 });
    expect(first).toMatchObject({ total: 6, offset: 0, limit: 4 });
    expect(first.items.map((n) => n.body)).toEqual(['note 6', 'note 5', 'note 4', 'note 3']);
    const second = await listNotes(db, customer.id, { offset: 4, limit: 4 });
    expect(second.items.map((n) => n.body)).toEqual(['note 2', 'note 1']);
  });
});
