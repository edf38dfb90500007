import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/shared/clock.js';
import { rectifyCustomer } from '../../../src/domain/customers/accounts.js';
import { eraseCustomer } from '../../../src/domain/privacy/erasure.js';
import { createLinkUrl } from '../../../src/domain/linking/link-sessions.js';
import { findCustomerById } from '../../../src/store/customer.repository.js';
import { insertCustomer } from '../../../src/domain/customers/registration.js';
import { openTestDatabase } from '../../support/database.js';

describe('an erased customer', () => {
  it('cannot have personal data written back through a correction or a new link', async () => {
    const { db } = await openTestDatabase();
    const clock = new ManualClock('2026-11-22T12:00:00.000Z');
    const actor = { id: 'admin', name: 'Admin' };
    const customer = await insertCustomer(db, clock, { name: 'Erin Example', email: 'erin@example.com' });
    await eraseCustomer(db, clock, { customerId: customer.id, actor });
    const before = await findCustomerById(db, customer.id);

    await expect(rectifyCustomer(db, clock, customer.id, { name: 'Erin Example', email: 'erin@example.com' }, actor)).rejects.toMatchObject({ code: 'customer_erased' });
    await expect(createLinkUrl(db, clock, { customerId: customer.id, publicUrl: 'http://localhost', appSecret: 'x'.repeat(40) })).rejects.toMatchObject({ code: 'customer_erased' });
    expect(await findCustomerById(db, customer.id)).toEqual(before);
    expect(await db.selectFrom('link_sessions').selectAll().execute()).toEqual([]);
    await db.destroy();
  });
});
