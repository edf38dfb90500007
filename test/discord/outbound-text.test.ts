import { describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/shared/clock.js';
import { listStaffAlerts, raiseStaffAlert } from '../../src/domain/alerts/staff-alerts.js';
import { codePointLength, isWellFormed } from '../../src/shared/text.js';
import type { Db } from '../../src/store/database.js';
import { useTestContext } from '../support/context.js';

let db: Db;
let clock: ManualClock;

useTestContext((context) => ({ db, clock } = context));

describe('text the product stores for Discord', () => {
  it('clips a long staff alert to 2,000 code points without leaving half an emoji', async () => {
    await raiseStaffAlert(db, clock, { kind: 'role_problem', message: `Role problem: ${'😀'.repeat(2500)}` });
    const [alert] = (await listStaffAlerts(db)).filter((a) => a.kind === 'role_problem');
    expect(alert).toBeDefined();
    expect(isWellFormed(alert!.message)).toBe(true);
    expect(alert!.message).not.toContain('\ufffd');
    expect(codePointLength(alert!.message)).toBe(2000);
  });
});
