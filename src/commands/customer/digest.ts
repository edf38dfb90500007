import { rm } from 'node:fs/promises';
import { buildWeeklyDigest, nextOccurrence, previousDigestInputs, writeAtRiskList } from '../../domain/digest/digest.js';
import { UserError } from '../../shared/errors.js';
import { renderDigestMessage } from '../../discord/render/digest-message.js';
import type { BotDeps } from '../context.js';
import { discordDate, type View } from '../../discord/render/view.js';

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
  const where = config.digestChannelId
    ? `The next digest goes to <#${config.digestChannelId}> ${discordDate(next.toISOString(), 'f')}.`
    : 'DIGEST_CHANNEL_ID is not set, so no digest is posted.';
  return {
    content: `Preview of the weekly digest: only you can see it; nothing was posted or saved. ${where}`,
    embeds: message.embeds,
    components: [],
    files: message.files.map((file) => ({ attachment: file.attachment, name: file.name, ...(file.description ? { description: file.description } : {}) })),
    attachments: [],
    cleanup: () => rm(list.file.path, { force: true }),
  };
}
