import { lockCustomerErasedAt } from '../../store/customer.repository.js';
import { inTransaction, type Db } from '../../store/database.js';
import type { NoteRow } from '../../store/schema/index.js';
import { recordActivity } from './activity-log.js';
import type { Clock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import type { Actor, Note, Page } from './types.js';
import { clampPage, newestFirstPage } from '../../store/paging.js';
import { NOTE_MAX_LENGTH } from '../../shared/input-fields.js';
import { codePointLength } from '../../shared/text.js';

export { NOTE_MAX_LENGTH } from '../../shared/input-fields.js';
const MAX_PAGE_LIMIT = 100;

function toNote(row: NoteRow): Note {
  return {
    id: row.id,
    customerId: row.customer_id,
    authorId: row.author_id,
    authorName: row.author_name,
    body: row.body,
    createdAt: row.created_at,
  };
}

/**
 * Adds an internal staff note (trimmed, 1–1000 characters) and logs `note.add` in the same
 * transaction. An erased customer takes no notes (`customer_erased`). The log entry carries the
 * note id and length only: notes can hold personal data, and the log outlives erasure.
 */
export async function addNote(db: Db, clock: Clock, input: { customerId: number; author: Actor; body: string }): Promise<Note> {
  const body = input.body.trim();
  const length = codePointLength(body);
  if (length < 1 || length > NOTE_MAX_LENGTH) {
    throw new UserError('note_length', `A note must be 1 to ${NOTE_MAX_LENGTH} characters (this one is ${length}).`);
  }
  const work = async (trx: Db): Promise<Note> => {
    // On PostgreSQL the row lock orders this note after an erasure in progress (which marks the
    // row first), or the erasure after this note, which it then deletes; SQLite has one writer.
    const customer = await lockCustomerErasedAt(trx, input.customerId);
    if (!customer) throw new UserError('customer_not_found', `No customer with id ${input.customerId}.`);
    // Erasure deleted this customer's notes; a new one would put personal data back on the row.
    if (customer.erased_at !== null) {
      throw new UserError('customer_erased', `Customer #${customer.id} was erased; notes cannot be added to an erased customer.`);
    }
    const row = await trx
      .insertInto('notes')
      .values({
        customer_id: customer.id,
        author_id: input.author.id,
        author_name: input.author.name,
        body,
        created_at: clock.now().toISOString(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, clock, {
      actor: input.author,
      action: 'note.add',
      targetType: 'customer',
      targetId: customer.id,
      details: { noteId: row.id, length },
    });
    return toNote(row);
  };
  return inTransaction(db, work);
}

/** A customer's notes, newest first. */
export async function listNotes(db: Db, customerId: number, page: { offset: number; limit: number }): Promise<Page<Note>> {
  const { offset, limit } = clampPage(page, MAX_PAGE_LIMIT);
  const { rows, total } = await newestFirstPage(db.selectFrom('notes').where('customer_id', '=', customerId), { offset, limit });
  return { items: rows.map(toNote), total, offset, limit };
}
