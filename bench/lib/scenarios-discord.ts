/**
 * The bot as a whole, against the local Discord: its idle memory with a large store and a
 * 100,000-member guild, and how fast every slash command is acknowledged while a full export and
 * a steady stream of purchase events run. The local Discord lives in this process, the bot in a
 * child process (its RSS is its own), the event load in a third.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deployCommands } from '../../src/commands/deploy.js';
import { exportsDirectoryFor } from '../../src/domain/exports/download-links.js';
import { DEFAULT_GUILD_SEED, DEFAULT_IDS, startLocalDiscord, type InvokeSlashArgs, type LocalMemberSeed } from '../../src/sandbox/local-discord/index.js';
import { isPostgresUrl } from '../../src/store/database.js';
import type { BotChildMessage, BotChildOptions, BotParentMessage } from './bot-child.js';
import { forkBench, nextMessage, runChild } from './children.js';
import type { LoadConfig, LoadResult } from './load-child.js';
import type { Row } from './report.js';
import type { BenchContext } from './scenarios-db.js';
import { WEBHOOK_SECRET } from './scenarios-http.js';
import { ratio, summarize } from './stats.js';

const GUILD = DEFAULT_IDS.guild;
const CHANNEL = DEFAULT_IDS.channels.staffDesk;
const STAFF = DEFAULT_IDS.users.staff;
const ADMIN = DEFAULT_IDS.users.owner;
const ACK_TARGET_MS = 2_500;

function isMessage<T extends BotChildMessage['type']>(type: T) {
  return (message: unknown): message is Extract<BotChildMessage, { type: T }> =>
    typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

async function botMemory(child: ChildProcess): Promise<{ rssMb: number; detail: string }> {
  const reply = nextMessage(child, isMessage('memory'));
  child.send({ type: 'memory' } satisfies BotParentMessage);
  return reply;
}

/** RSS of a bare Node process that opened the same database and read from it: what any Node + SQLite (or pg) program costs. */
function bareProcessRssMb(location: string): number {
  const script = isPostgresUrl(location)
    ? `const { Client } = require('pg'); const c = new Client({ connectionString: ${JSON.stringify(location)} });
    c.connect().then(() => c.query('SELECT count(*) FROM customers')).then(() => { global.gc(); console.log(process.memoryUsage().rss); return c.end(); });`
    : `const D = require('better-sqlite3'); const d = new D(${JSON.stringify(location)}, { readonly: true });
    d.prepare('SELECT count(*) FROM customers').get(); global.gc(); console.log(process.memoryUsage().rss);`;
  const result = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', cwd: process.cwd() });
  return Number(result.stdout.trim()) / 1024 / 1024;
}

export async function benchDiscord(ctx: BenchContext): Promise<Row[]> {
  const memberCount = ctx.quick ? 1_000 : 100_000;
  // On PostgreSQL, read from the SQLite source: the same customers.
  const linked = ctx.sqlite
    .prepare('SELECT discord_id AS id, discord_username AS username FROM customers WHERE discord_id IS NOT NULL LIMIT ?')
    .all(memberCount) as Array<{ id: string; username: string | null }>;
  const members: LocalMemberSeed[] = [...DEFAULT_GUILD_SEED.members];
  for (const m of linked) members.push({ user: { id: m.id, username: m.username ?? `member${m.id.slice(-6)}` }, roles: [] });
  for (let i = members.length; i < memberCount; i++) members.push({ user: { id: String(1_300_000_000_000_000_000n + BigInt(i)), username: `lurker${i}` }, roles: [] });

  const discord = await startLocalDiscord({ guilds: [{ ...DEFAULT_GUILD_SEED, members }] });
  await deployCommands({ token: discord.token, apiUrl: discord.apiUrl, guildId: GUILD, applicationId: discord.applicationId });
  const logDir = mkdtempSync(join(tmpdir(), 'bench-bot-log-'));
  const options: BotChildOptions = {
    dbPath: ctx.location,
    apiUrl: discord.apiUrl,
    token: discord.token,
    guildId: GUILD,
    staffRoleId: DEFAULT_IDS.roles.staff,
    adminRoleId: DEFAULT_IDS.roles.admin,
    webhookSecret: WEBHOOK_SECRET,
    logPath: join(logDir, 'bot.log'),
  };
  // A full export is too large to upload, so the bot keeps it for a download link in its data
  // folder: beside the SQLite file (the run's own copy), or ./data for PostgreSQL. A folder the
  // run had to create for that goes again afterwards.
  let createdForDownloads: string | undefined;
  for (let dir = exportsDirectoryFor(ctx.location); !existsSync(dir); dir = dirname(dir)) createdForDownloads = dir;
  const bot = forkBench('./bot-child', ['--bot', JSON.stringify(options)], ['--expose-gc']);
  const rows: Row[] = [];
  try {
    const { httpUrl } = await nextMessage(bot, isMessage('ready'), 180_000);

    // Idle: connected, guild received, workers polling, nothing asked of it, and long enough for
    // V8's memory reducer to give back the young generation start-up grew (it acts after a few
    // seconds without allocation): sampled until two readings agree.
    const first = await botMemory(bot);
    let idle = first;
    const settleBy = performance.now() + (ctx.quick ? 10_000 : 90_000);
    for (let previous = Infinity; performance.now() < settleBy; ) {
      await new Promise((r) => setTimeout(r, ctx.quick ? 2_000 : 10_000));
      idle = await botMemory(bot);
      if (Math.abs(previous - idle.rssMb) < 2) break;
      previous = idle.rssMb;
    }
    const idleRss = idle.rssMb;
    const detail = `${idle.detail}; ${Math.round(first.rssMb)} MB right after start-up`;
    const bare = bareProcessRssMb(ctx.location);
    rows.push({
      scenario: `bot process idle: this store, a ${memberCount.toLocaleString('en-US')}-member guild in the local Discord`,
      note: detail,
      peakRssMb: idleRss,
      floor: ctx.postgres ? `bare Node + pg on the same database: ${Math.round(bare)} MB` : `bare Node + better-sqlite3 on the same file: ${Math.round(bare)} MB`,
      vsFloor: ratio(idleRss, bare),
      target: 'RSS ≤ 200 MB',
      met: idleRss <= 200,
    });

    rows.push(await interactionsUnderLoad(ctx, discord, httpUrl));
    const after = await botMemory(bot);
    const last = rows.at(-1);
    if (last) last.peakRssMb = after.rssMb;
  } finally {
    bot.send({ type: 'stop' } satisfies BotParentMessage);
    await nextMessage(bot, isMessage('stopped'), 60_000).catch(() => bot.kill());
    await discord.stop();
    rmSync(logDir, { recursive: true, force: true });
    if (createdForDownloads !== undefined) rmSync(createdForDownloads, { recursive: true, force: true });
  }
  return rows;
}

type Discord = Awaited<ReturnType<typeof startLocalDiscord>>;

async function interactionsUnderLoad(ctx: BenchContext, discord: Discord, httpUrl: string): Promise<Row> {
  const loadSeconds = ctx.quick ? 5 : 90;
  const maxOrder = Number((ctx.sqlite.prepare('SELECT max(id) AS m FROM orders').get() as { m: number | null }).m ?? 0);
  const load: LoadConfig = {
    url: httpUrl,
    kind: 'store-event',
    connections: 16,
    durationMs: loadSeconds * 1000,
    rate: 200,
    secret: WEBHOOK_SECRET,
    emails: ctx.sample.emails.slice(0, 2_000),
    firstOrderId: maxOrder + 500_000_000,
    eventPrefix: `evt_bench_discord_${Date.now().toString(36)}`,
  };
  const events = runChild<LoadResult>('./load-child', ['--load', JSON.stringify(load)]);
  const exportStarted = performance.now();
  const fullExport = await discord.invokeSlash({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, name: 'customer', subcommand: 'export', options: { format: 'csv' } });
  let exportDone = false;
  const exportSettled = fullExport
    .settled(20 * 60_000)
    .then(() => (exportDone = true))
    .catch(() => (exportDone = true));

  const id = (i: number) => `id:${ctx.sample.ids[i % ctx.sample.ids.length] ?? 1}`;
  const email = (i: number) => ctx.sample.emails[i % ctx.sample.emails.length] ?? 'nobody@example.com';
  const commands: Array<(i: number) => { label: string; args: InvokeSlashArgs } | { label: string; user: string }> = [
    (i) => ({ label: 'lookup email', args: slash(STAFF, 'lookup', { query: email(i) }) }),
    () => ({ label: 'lookup search', args: slash(STAFF, 'lookup', { query: 'smith' }) }),
    () => ({ label: 'stats', args: slash(STAFF, 'stats', {}) }),
    (i) => ({ label: 'stats customer', args: slash(STAFF, 'stats', { customer: id(i) }) }),
    () => ({ label: 'bans', args: slash(STAFF, 'bans', {}) }),
    (i) => ({ label: 'note', args: slash(STAFF, 'note', { customer: id(i), text: 'Benchmark note: asked about a crate key.' }) }),
    (i) => ({ label: 'ban (preview)', args: slash(STAFF, 'ban', { type: 'email', target: `bench${i}@example.com`, duration: '7d', reason: 'benchmark' }) }),
    () => ({ label: 'unban', args: slash(STAFF, 'unban', { ban: '#999999999' }) }),
    (i) => ({ label: 'roles', args: slash(STAFF, 'roles', { customer: id(i) }) }),
    () => ({ label: 'role-rule list', args: { ...slash(ADMIN, 'list', {}), subcommandGroup: 'role-rule' } }),
    () => ({ label: 'digest preview', args: slash(ADMIN, 'digest', {}) }),
    (i) => ({ label: 'gdpr-export', args: slash(ADMIN, 'gdpr-export', { customer: id(i), format: 'json' }) }),
    (i) => ({ label: 'delete (confirmation)', args: slash(ADMIN, 'delete', { customer: id(i) }) }),
    () => ({ label: 'export (small)', args: slash(ADMIN, 'export', { format: 'csv', filter: 'loyal', search: 'zq' }) }),
    () => ({ label: 'profile (user menu)', user: DEFAULT_GUILD_SEED.members[2]?.user.id ?? STAFF }),
  ];

  const acks: number[] = [];
  const slowest = { label: '', ms: 0 };
  let late = 0;
  let round = 0;
  const deadline = exportStarted + (ctx.quick ? 30_000 : 15 * 60_000);
  const firstAck = await fullExport.firstResponse(10_000).catch(() => undefined);
  if (firstAck) acks.push(firstAck.ackMs);
  else late += 1;
  while ((round < 2 || !exportDone) && performance.now() < deadline) {
    for (const make of commands) {
      const spec = make(round);
      const handle =
        'args' in spec
          ? await discord.invokeSlash(spec.args)
          : await discord.invokeUserCommand({ guildId: GUILD, channelId: CHANNEL, userId: STAFF, name: 'Customer profile', targetUserId: spec.user });
      const ack = await handle.firstResponse(10_000).catch(() => undefined);
      if (!ack) {
        late += 1;
        continue;
      }
      acks.push(ack.ackMs);
      if (ack.ackMs > slowest.ms) Object.assign(slowest, { label: spec.label, ms: ack.ackMs });
      await handle.settled(60_000).catch(() => undefined);
    }
    round += 1;
  }
  await exportSettled;
  const exportSeconds = (performance.now() - exportStarted) / 1000;
  const eventResult = await events;
  const s = summarize(acks);
  return {
    scenario: `every slash command acknowledged during a full CSV export + 200 purchase events/s (${commands.length} commands × ${round} rounds)`,
    note: `slowest ${slowest.label} ${Math.round(slowest.ms)} ms; ${late} late; export answered in ${Math.round(exportSeconds)} s; events ${Math.round(eventResult.throughput)}/s, p99 ack ${Math.round(eventResult.p99)} ms`,
    p50: s.p50,
    p99: s.p99,
    throughput: `max ${Math.round(s.max)} ms`,
    floor: 'Discord: 3 s to acknowledge',
    vsFloor: ratio(s.max, 3000),
    target: `every ack ≤ ${ACK_TARGET_MS.toLocaleString('en-US')} ms`,
    met: late === 0 && s.max <= ACK_TARGET_MS,
  };
}

function slash(userId: string, subcommand: string, options: Record<string, string>): InvokeSlashArgs {
  return { guildId: GUILD, channelId: CHANNEL, userId, name: 'customer', subcommand, options };
}
