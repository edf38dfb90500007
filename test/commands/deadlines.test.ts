import { type KyselyPlugin } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalMessage } from '../../src/sandbox/local-discord/index.js';
import type { Harness } from '../support/bot-harness.js';
import { openTestContext } from '../support/context.js';
import { seedSmallStore } from '../support/fixtures.js';

/** Delays or breaks every query result, to stand in for a database under heavy load. */
function plugin(onResult: () => Promise<void>): KyselyPlugin {
  return {
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      await onResult();
      return args.result;
    },
  };
}

let h: Harness | undefined;
afterEach(async () => h?.close());

describe('interaction deadlines and failures', () => {
  it('acknowledges within 3 seconds even when the database takes longer, then shows the result', async () => {
    let slow = false;
    h = await openTestContext({ discord: { wrapDb: (db) => db.withPlugin(plugin(() => (slow ? new Promise((r) => setTimeout(r, 1_600)) : Promise.resolve()))) } });
    await seedSmallStore(h.db, h.clock);
    slow = true;
    const handle = await h.discord.invokeSlash({ userId: '2200000000000000100', name: 'customer', subcommand: 'lookup', options: { query: 'bob@example.com' } });
    const first = await handle.firstResponse();
    expect(first.type).toBe(5);
    expect(first.ackMs).toBeLessThan(3_000);
    const message = (await handle.settled(30_000)) as LocalMessage;
    expect(message.embeds[0]?.title).toBe('Bob Builder');
  }, 40_000);

  it('shows a reference instead of a stack trace when something unexpected fails', async () => {
    let broken = false;
    h = await openTestContext({ discord: { allowErrors: true, wrapDb: (db) => db.withPlugin(plugin(() => (broken ? Promise.reject(new Error('disk I/O error at /var/db')) : Promise.resolve()))) } });
    await seedSmallStore(h.db, h.clock);
    broken = true;
    const { handle, message } = await h.customer('stats');
    expect(handle.ephemeral).toBe(true);
    expect(message.content).toMatch(/Something went wrong \(ref [0-9a-f]{6}\)/);
    expect(message.content).not.toContain('disk I/O');
    expect(message.content).not.toMatch(/\n\s+at /);
    const ref = /ref ([0-9a-f]{6})/.exec(message.content)![1];
    expect(h.logs).toContainEqual(expect.objectContaining({ ref, msg: 'interaction failed' }));
  });
});
