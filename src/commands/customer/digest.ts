import { rm } from 'node:fs/promises';
import { buildWeeklyDigest, nextOccurrence, previousDigestInputs, writeAtRiskList } from '../../domain/digest/digest.js';
import { UserError } from '../../shared/errors.js';
import { renderDigestMessage, renderDigestPreview } from '../../discord/render/digest-message.js';
import type { BotDeps } from '../context.js';
import type { View } from '../../discord/render/view.js';

/**
 * `/customer digest`: the weekly at-risk digest as it would be posted now, shown only to the
 * staff member who asked. Reads only: no run is claimed, no snapshot stored, nothing posted.
 */
export async function runDigestPreview(deps: BotDeps): Promise<View> {
  const { db, clock, config } = deps;
  const at = clock.now();
  let inputs;
  let next: Date;
  try {
    inputs = await previousDigestInputs(db, { cron: config.digestCron, timeZone: config.storeTimeZone, atRiskDays: config.atRiskDays, now: at });
    next = nextOccurrence(config.digestCron, config.storeTimeZone, at);
  } catch (error) {
    // A schedule that cannot be computed is a configuration problem staff can pass on as written.
    if (error instanceof RangeError) throw new UserError('digest_schedule_invalid', `${error.message}. Fix it in the bot's configuration.`);
    throw error;
  }
  const digest = await buildWeeklyDigest(db, { now: () => at }, { atRiskDays: config.atRiskDays, timeZone: config.storeTimeZone, ...inputs });
  const list = await writeAtRiskList(db, digest, { directory: deps.tempDir });
  const message = renderDigestMessage(digest, { currency: config.storeCurrency, list, preview: true });
  return { ...renderDigestPreview(message, { channelId: config.digestChannelId, at: next }), cleanup: () => rm(list.file.path, { force: true }) };
}
