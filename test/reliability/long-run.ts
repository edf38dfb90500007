// `npm run test:long`: the long variants of the reliability suite (test/reliability/), with figures
// written to test/reliability/results.md. The CI runs the same code at small sizes.
//
//   npm run test:long
//   npm run test:long -- --crash-trials 20 --only crash,model
//
// Options (defaults are the sizes the reliability issue asks for):
//   --crash-trials 50 --crash-events 10000 --crash-kills 3
//   --model-runs 1000 --signatures 10000
//   --soak-hours 24 --soak-events 1000 --soak-commands 20
//   --api-requests 5000                   (combined requests besides the sweep of every parameter)
//   --discord-buyers 400 --discord-waves 8 --discord-timeouts 2 --discord-drops 2
//   --backup-events 60000
//   --only crash,model,signatures,soak,api,discord,limits,backup    (default: all)
//   --note "text"                         (added to results.md, e.g. why counts were scaled down)
import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { botLog, runCrashTrial, trialPassed, type CrashTrialResult } from './support/crash-harness.js';
import { erasureStep } from './support/erasure-step.js';
import { runScenario, scenarioArb } from './support/model.js';
import { runSignatureFuzz, type SignatureFuzzResult } from './support/signature-fuzz.js';
import { runApiFuzz, type ApiFuzzResult } from './support/api-fuzz.js';
import { runDiscordFaults, type DiscordFaultResult } from './support/discord-faults.js';
import { runOnlineBackup, type OnlineBackupResult } from './support/online-backup.js';
import { runResourceLimits, type LimitRow } from './support/resource-limits.js';
import type { SoakResult } from './support/soak.js';
import { buildBotForTests } from '../support/bot-build.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RESULTS = join(ROOT, 'test/reliability/results.md');

const { values } = parseArgs({
  options: {
    'crash-trials': { type: 'string', default: '50' },
    'crash-events': { type: 'string', default: '10000' },
    'crash-kills': { type: 'string', default: '3' },
    'model-runs': { type: 'string', default: '1000' },
    signatures: { type: 'string', default: '10000' },
    'soak-hours': { type: 'string', default: '24' },
    'soak-events': { type: 'string', default: '1000' },
    'soak-commands': { type: 'string', default: '20' },
    'api-requests': { type: 'string', default: '5000' },
    'discord-buyers': { type: 'string', default: '400' },
    'discord-waves': { type: 'string', default: '8' },
    'discord-timeouts': { type: 'string', default: '2' },
    'discord-drops': { type: 'string', default: '2' },
    'backup-events': { type: 'string', default: '60000' },
    only: { type: 'string', default: 'crash,model,signatures,soak,api,discord,limits,backup' },
    note: { type: 'string' },
    'soak-child': { type: 'boolean', default: false },
  },
  strict: true,
});
const int = (name: keyof typeof values) => Number(values[name]);

// The soak runs in a child process of its own (with --expose-gc), so its memory is the bot's alone.
if (values['soak-child']) {
  const { runSoak } = await import('./support/soak.js');
  const result = await runSoak({
    hours: int('soak-hours'),
    eventsPerHour: int('soak-events'),
    commandsPerHour: int('soak-commands'),
    log: (line) => console.error(line),
  });
  console.log(JSON.stringify(result));
  process.exit(0);
}

const only = new Set((values.only ?? '').split(',').map((s) => s.trim()));
// The crash trials and the soak start the bot as `npm start` does, from its build.
if (!values['soak-child']) await buildBotForTests();
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

interface Report {
  startedAt: string;
  note?: string | undefined;
  crash?: { trials: CrashTrialResult[]; failed: number; seconds: number };
  model?: { runs: number; seed: number; failed: boolean; counterexample?: string; error?: string; seconds: number; steps: number; roleCalls: number; erasure: boolean };
  signatures?: SignatureFuzzResult & { seconds: number };
  soak?: SoakResult & { seconds: number };
  api?: ApiFuzzResult & { seconds: number };
  discord?: DiscordFaultResult & { seconds: number };
  limits?: { rows: LimitRow[]; seconds: number };
  backup?: OnlineBackupResult & { seconds: number };
}

const SECTIONS = ['crash', 'model', 'signatures', 'soak', 'api', 'discord', 'limits', 'backup'] as const;

// Sections not run this time keep their figures from the previous run (results.json beside results.md).
const RESULTS_JSON = RESULTS.replace(/\.md$/, '.json');
const previous: Partial<Report> = existsSync(RESULTS_JSON) ? (JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) as Partial<Report>) : {};
const report: Report = { startedAt: new Date().toISOString(), note: values.note ?? previous.note };
for (const section of SECTIONS) {
  if (!only.has(section) && previous[section]) Object.assign(report, { [section]: previous[section] });
}

function seconds(since: number): number {
  return Math.round((Date.now() - since) / 100) / 10;
}

function sum(list: number[]): number {
  return list.reduce((a, b) => a + b, 0);
}

const options = process.argv
  .slice(2)
  .filter((arg, i, all) => arg !== '--note' && all[i - 1] !== '--note')
  .join(' ');

function render(): string {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const lines: string[] = [
    '# Reliability: figures from the long run',
    '',
    `Written by \`npm run test:long\` (test/reliability/long-run.ts). Run started ${report.startedAt} on ${cpus().length} cores, ` +
      `${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}, commit ${commit} (plus the working tree).`,
    `Options of the last invocation: \`${options || '(defaults)'}\`${SECTIONS.some((section) => !only.has(section)) ? ' (the sections it did not run keep the figures of the previous run)' : ''}.`,
    '',
  ];
  if (report.note) lines.push(`> ${report.note}`, '');

  const crash = report.crash;
  if (crash) {
    const t = crash.trials;
    const v = (key: keyof CrashTrialResult['violations']) => sum(t.map((r) => Number(r.violations[key]) || 0));
    lines.push(
      '## Crash consistency (SIGKILL at random moments)',
      '',
      `${t.length} trials × ${t[0]?.events ?? 0} signed purchase events (orders and refunds), ${sum(t.map((r) => r.kills))} SIGKILLs in all ` +
        `(${sum(t.map((r) => r.killsWhileDraining))} after the last acknowledgement, while the queues drained); the bot restarted after each, the sender retried ` +
        `what was not acknowledged and sent ${sum(t.map((r) => r.duplicatesSent))} acknowledged events again. ${crash.seconds} s.`,
      '',
      '| check | result |',
      '| --- | --- |',
      `| trials passed | ${t.length - crash.failed} / ${t.length} |`,
      `| acknowledged events lost | ${v('acknowledgedLost')} (of ${sum(t.map((r) => r.acknowledged))} acknowledged) |`,
      `| events not processed | ${v('eventsNotProcessed')} |`,
      `| wrong order status / wrong customer aggregates | ${v('wrongOrderStatus')} / ${v('wrongAggregates')} |`,
      `| duplicate role grants | ${v('duplicateGrants')} (of ${sum(t.map((r) => r.roleGrants))} grants) |`,
      `| missing role changes (Discord differs from the oracle) | ${v('missingRoleChanges')} (${sum(t.map((r) => r.roleRemovals))} removals made) |`,
      `| role jobs left open | ${v('openRoleJobs')} |`,
      `| outbox not drained / customers never announced | ${v('outboxNotDrained')} / ${v('customersNeverAnnounced')} (${sum(t.map((r) => r.webhookDeliveriesReceived))} customer.created received, ${sum(t.map((r) => r.webhookRedeliveries))} of them again after a crash) |`,
      `| bad webhook signatures at the receiver | ${v('badWebhookSignatures')} |`,
      `| \`PRAGMA integrity_check\` | ${t.every((r) => r.violations.integrity === 'ok') ? 'ok in every trial' : t.map((r) => r.violations.integrity).join('; ')} |`,
      `| removals of a role the member did not hold (harmless 204s) | ${sum(t.map((r) => r.redundantRemovals))} |`,
      `| trial duration (min / median / max) | ${durations(t.map((r) => r.durationMs))} |`,
      '',
    );
    for (const failed of t.filter((r) => !trialPassed(r))) lines.push(`- trial seed ${failed.seed} failed: ${failed.problems.slice(0, 5).join('; ')}`);
  }

  const model = report.model;
  if (model) {
    lines.push(
      '## Model-based (fast-check)',
      '',
      `${model.runs} random histories (seed ${model.seed}; ${model.steps} steps in all; erasure ${model.erasure ? 'included' : 'not available'}), ` +
        `events delivered shuffled and duplicated: ${model.failed ? '**a difference was found**' : 'every step matched the model'} ` +
        `(roles after every step; customers, links, orders and aggregates at the end). ${model.roleCalls} role calls through the recording gateway, one in ten failing transiently. ${model.seconds} s.`,
      '',
    );
    if (model.failed) lines.push('```', model.error ?? '', model.counterexample ?? '', '```', '');
  }

  const sig = report.signatures;
  if (sig) {
    lines.push(
      '## Signature fuzzing (POST /webhooks/store)',
      '',
      '| figure | value |',
      '| --- | --- |',
      `| requests | ${sig.sent} (${Object.keys(sig.byKind).length} kinds of mutation) |`,
      `| legitimate by the reference verifier / accepted | ${sig.legitimate} / ${sig.accepted} |`,
      `| false accepts | ${sig.falseAccepts} |`,
      `| false refusals | ${sig.falseRefusals} |`,
      `| 5xx or crashes | ${sig.crashes} |`,
      `| events stored from refused requests | ${sig.storedFromRefused} |`,
      `| refusals other than 401 | ${sig.wrongRefusalStatus} |`,
      `| time | ${sig.seconds} s |`,
      '',
    );
  }

  const soak = report.soak;
  if (soak) {
    lines.push(
      '## Compressed 24-hour soak (events, commands, exports)',
      '',
      `The real bot process (\`src/index.ts\`, a SQLite file, the local Discord) for ${soak.samples.length} compressed hours; each: ${soak.samples[0]?.events ?? 0} signed purchase events and refunds over HTTP, ` +
        `staff lookups and statistics, one CSV export of every customer; ${soak.failedCommands} commands failed. RSS is the bot process's VmRSS after each hour. ` +
        `RSS is a saw-tooth (V8 grows the heap, then collects it): after ${soak.warmupHours} hours of warm-up the lowest RSS of each six-hour block was ` +
        `${(soak.floorsMiB ?? []).join(', ')} MiB (${soak.floorGrowthMiB} MiB from the first block to the last); first to last hour ${soak.rssGrowthMiB} MiB ` +
        `(${(soak.rssGrowthRatio * 100).toFixed(1)} %), least-squares slope ${soak.rssSlopeMiBPerHour} MiB per hour, ` +
        `while the database grew to ${soak.samples.at(-1)?.orders ?? 0} orders (${soak.databaseMiB} MiB on disk). ${soak.seconds} s.`,
      '',
      '| hour | bot RSS MiB | customers | orders | events | commands | exports |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...soak.samples.map((s) => `| ${s.hour} | ${s.rssMiB} | ${s.customers} | ${s.orders} | ${s.events} | ${s.commands} | ${s.exports} |`),
      '',
    );
  }
  lines.push(...renderApi(), ...renderDiscord(), ...renderLimits(), ...renderBackup());
  return lines.join('\n');
}

function renderApi(): string[] {
  const api = report.api;
  if (!api) return [];
  const statuses = Object.entries(api.byStatus)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([status, n]) => `${status}: ${n}`)
    .join(', ');
  const kinds = Object.entries(api.matrix.byKind).map(
    ([kind, byStatus]) => `| ${kind} | ${Object.entries(byStatus).map(([status, n]) => `${status} × ${n}`).join(', ')} |`,
  );
  return [
    '## API fuzzing and the authorization matrix (/api/external/v1)',
    '',
    `Requests generated from the API's own OpenAPI document (${api.operations} operations): every path, query and body parameter given, one at a time, ` +
      `boundary values from its schema, wrong types, huge values, odd Unicode and injection strings; then combined requests that give several parameters such values at once. ` +
      `Every answer is checked against the statuses and JSON schemas the document gives for its operation, and searched for the customers' password hashes, IP addresses and every token issued. ${api.seconds} s.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| generated requests | ${api.sent} (answers ${statuses}) |`,
    `| 5xx answers | ${api.serverErrors} |`,
    `| undocumented statuses | ${api.undocumentedStatuses} |`,
    `| schema violations | ${api.schemaViolations} |`,
    `| answers containing a password hash, an IP address or a token | ${api.leaks} |`,
    `| route × token checks | ${api.matrix.checked} (${api.matrix.routes} routes × ${Object.keys(api.matrix.byKind).length} token kinds) |`,
    `| answers other than documented (401 none / revoked / expired, 403 wrong scope, let through with the scope) | ${api.matrix.wrongAnswers} |`,
    '',
    '| token | answers over every route |',
    '| --- | --- |',
    ...kinds,
    '',
    ...api.problems.slice(0, 10).map((p) => `- ${p}`),
    ...(api.problems.length ? [''] : []),
  ];
}

function renderDiscord(): string[] {
  const d = report.discord;
  if (!d) return [];
  const i = d.injected;
  return [
    '## Discord faults (the whole bot against the local Discord)',
    '',
    `A burst of ${d.roleChanges} purchases (each one a role grant, one of them for a member who joins only after the last gateway drop) and ${d.interactions} staff commands, ` +
      `while the local Discord served ${i.routeRateLimits} route 429s, ${i.globalRateLimits} global 429s, ${i.serverErrors} 502s, ${i.timeouts} requests held past the 15 s timeout ` +
      `and ${i.callbackErrors} 503s on interaction callbacks, in waves over the burst, and dropped the gateway ${i.gatewayDrops} times mid-burst. ${d.seconds} s.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| role changes applied | ${d.granted} / ${d.roleChanges} (members granted other than once: ${d.wrongGrantCounts}; role jobs left undone: ${d.roleJobsNotDone}) |`,
    `| queue drained in | ${Math.round(d.drainMs / 100) / 10} s |`,
    `| unhandled 429s (reaching the queue or the error log) | ${d.unhandled429s} (429s served and waited out: ${d.rateLimitsServed}) |`,
    `| invalid requests (401/403/429) in the worst 10 minutes | ${d.maxInvalidPer10Minutes} (bar: under 100) |`,
    `| peak requests in any second (interaction responses aside) | ${d.peakRequestsPerSecond} (bar: 50; ${d.restRequests} REST requests in all) |`,
    `| gateway resumed | ${d.gatewayResumes >= i.gatewayDrops ? 'yes' : 'no'}: ${d.gatewayResumes} resumes for ${i.gatewayDrops} drops, ${d.gatewayIdentifies} identify; late joiner granted: ${d.lateJoinerGranted ? 'yes' : 'no'} |`,
    `| interactions left unanswered / answered with an error | ${d.interactionsUnanswered} / ${d.interactionsFailed} (of ${d.interactions}) |`,
    `| errors logged by the bot | ${d.errorLogs} |`,
    '',
    ...d.problems.slice(0, 10).map((p) => `- ${p}`),
    ...(d.problems.length ? [''] : []),
  ];
}

function renderLimits(): string[] {
  const limits = report.limits;
  if (!limits) return [];
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    '## Resource limits',
    '',
    `Each bound sent far past its limit; \`nothing stored\` compares the database (customers, notes, bans, events, activity log, and the customer as the API shows it) before and after, or the files and uploads for the export. ${limits.seconds} s.`,
    '',
    '| bound | sent | answer | nothing stored | holds |',
    '| --- | --- | --- | --- | --- |',
    ...limits.rows.map(
      (r) => `| ${cell(r.bound)} | ${cell(r.sent)} | ${cell(r.answer)} | ${r.nothingStored === null ? 'n/a (never stored)' : r.nothingStored ? 'yes' : '**no**'} | ${r.problems.length ? `**no**: ${cell(r.problems.join('; '))}` : 'yes'} |`,
    ),
    '',
  ];
}

function renderBackup(): string[] {
  const b = report.backup;
  if (!b) return [];
  const f = b.copyFigures;
  return [
    '## Online backup and restore',
    '',
    `A database file of ${b.baseEvents} purchases (${b.databaseMiB} MiB) backed up with \`${b.via}\` in a process of its own while purchases and refunds kept being committed ` +
      `(one transaction each; the figures after every commit kept, and checked against the database once the writes stopped), then restored: the copy put in place of the database and opened, migrated and written to as the bot does. ${b.seconds} s.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| writes committed while the backup ran | ${b.writtenDuring} (backup ${Math.round(b.backupMs / 100) / 10} s: ${b.backupOutput.replace(/\|/g, '/')}) |`,
    `| copy | ${b.copyMiB} MiB, ${b.standalone ? 'no -wal beside it' : '**a -wal beside it**'} |`,
    `| \`PRAGMA integrity_check\` of the copy / of the restored database | ${b.copyIntegrity} / ${b.restoredIntegrity} |`,
    `| copy equals a recorded state of the live database | ${b.matchingSnapshot >= 0 ? `yes: the state after write ${b.matchingSnapshot} of ${b.snapshots - 1}` : '**no**'} |`,
    `| rows in the copy (customers / orders / order items) | ${f.customers} / ${f.orders} / ${f.orderItems} |`,
    `| paid orders and sum vs the customers' aggregates | ${f.completedOrders} orders, ${f.completedCents} cents vs ${f.aggregateOrders} orders, ${f.aggregateCents} cents (customers off: ${b.copyCustomersOff}) |`,
    `| restored database equals the copy / takes a new purchase | ${JSON.stringify(b.restoredFigures) === JSON.stringify(b.copyFigures) ? 'yes' : '**no**'} / ${b.restoredWritable ? 'yes' : '**no**'} |`,
    `| a copy taken once writes stopped equals the live database | ${b.atRestEqualsLive ? 'yes' : '**no**'} |`,
    '',
    ...b.problems.map((p) => `- ${p}`),
    ...(b.problems.length ? [''] : []),
  ];
}

function durations(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const s = (x: number | undefined) => `${Math.round((x ?? 0) / 1000)} s`;
  return `${s(sorted[0])} / ${s(sorted[Math.floor(sorted.length / 2)])} / ${s(sorted.at(-1))}`;
}

function save(): void {
  writeFileSync(RESULTS, render());
  writeFileSync(RESULTS_JSON, `${JSON.stringify(report, (key, value: unknown) => (key === 'dir' ? undefined : value), 1)}\n`);
}

let failures = 0;

if (only.has('signatures')) {
  const started = Date.now();
  log(`signature fuzzing: ${int('signatures')} requests`);
  const result = await runSignatureFuzz({ requests: int('signatures'), seed: 1122 });
  report.signatures = { ...result, seconds: seconds(started) };
  if (result.falseAccepts + result.falseRefusals + result.crashes + result.storedFromRefused > 0) failures++;
  log(`signature fuzzing: ${JSON.stringify({ ...result, byKind: undefined })}`);
  save();
}

if (only.has('model')) {
  const started = Date.now();
  const runs = int('model-runs');
  const seed = 20261122;
  const erase = await erasureStep();
  let steps = 0;
  let roleCalls = 0;
  log(`model-based: ${runs} sequences`);
  const result = await fc.check(
    fc.asyncProperty(scenarioArb({ erase: erase !== undefined }), async (scenario) => {
      const figures = await runScenario(scenario, { erase });
      steps += figures.steps;
      roleCalls += figures.roleCalls;
    }),
    { numRuns: runs, seed },
  );
  report.model = {
    runs: result.numRuns,
    seed,
    failed: result.failed,
    seconds: seconds(started),
    steps,
    roleCalls,
    erasure: erase !== undefined,
    ...(result.failed ? { counterexample: JSON.stringify(result.counterexample), error: String(result.errorInstance) } : {}),
  };
  if (result.failed) failures++;
  log(`model-based: ${result.failed ? `FAILED ${String(result.errorInstance)}` : 'ok'}`);
  save();
}

if (only.has('soak')) {
  const started = Date.now();
  log(`soak: ${int('soak-hours')} compressed hours`);
  const output = await new Promise<string>((done, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--soak-child', ...process.argv.slice(2)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('exit', (code) => (code === 0 ? done(out) : reject(new Error(`the soak exited with ${code}`))));
  });
  const result = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as SoakResult;
  report.soak = { ...result, seconds: seconds(started) };
  if (result.failedCommands > 0 || result.floorGrowthMiB > 0.1 * (result.floorsMiB[0] ?? 0)) failures++;
  save();
}

if (only.has('api')) {
  const started = Date.now();
  log(`API fuzzing: the sweep plus ${int('api-requests')} combined requests, then route × token`);
  const result = await runApiFuzz({ randomRequests: int('api-requests'), seed: 4242 });
  report.api = { ...result, seconds: seconds(started) };
  if (result.serverErrors + result.undocumentedStatuses + result.schemaViolations + result.leaks + result.matrix.wrongAnswers > 0) failures++;
  log(`API fuzzing: ${result.sent} sent, ${result.problems.length} problems`);
  save();
}

if (only.has('discord')) {
  const started = Date.now();
  log(`Discord faults: ${int('discord-buyers')} purchases, ${int('discord-waves')} waves of faults, ${int('discord-drops')} gateway drops`);
  const result = await runDiscordFaults({
    buyers: int('discord-buyers'),
    waves: int('discord-waves'),
    timeouts: int('discord-timeouts'),
    gatewayDrops: int('discord-drops'),
    commandEvery: 10,
    drainTimeoutMs: 600_000,
  });
  report.discord = { ...result, seconds: seconds(started) };
  const held =
    result.granted === result.roleChanges &&
    result.wrongGrantCounts + result.roleJobsNotDone + result.unhandled429s + result.errorLogs + result.interactionsUnanswered + result.interactionsFailed === 0 &&
    result.maxInvalidPer10Minutes < 100 &&
    result.peakRequestsPerSecond <= 50 &&
    result.gatewayResumes >= result.injected.gatewayDrops &&
    result.lateJoinerGranted;
  if (!held) failures++;
  log(`Discord faults: ${JSON.stringify({ ...result, problems: result.problems.length })}`);
  save();
}

if (only.has('limits')) {
  const started = Date.now();
  log('resource limits');
  const rows = await runResourceLimits({ large: true });
  report.limits = { rows, seconds: seconds(started) };
  if (rows.some((r) => r.problems.length > 0 || r.nothingStored === false)) failures++;
  for (const row of rows) log(`limit ${row.bound}: ${row.problems.length ? row.problems.join('; ') : 'holds'}`);
  save();
}

if (only.has('backup')) {
  const started = Date.now();
  log(`online backup: ${int('backup-events')} purchases, npm run backup while writing`);
  const result = await runOnlineBackup({ baseEvents: int('backup-events'), via: 'cli' });
  report.backup = { ...result, seconds: seconds(started) };
  if (result.problems.length > 0 || result.writtenDuring === 0 || !result.restoredWritable || !result.atRestEqualsLive || !result.standalone || result.restoredIntegrity !== 'ok') failures++;
  log(`online backup: ${JSON.stringify({ ...result, copyFigures: undefined, restoredFigures: undefined })}`);
  save();
}

if (only.has('crash')) {
  const started = Date.now();
  const trials: CrashTrialResult[] = [];
  report.crash = { trials, failed: 0, seconds: 0 };
  for (let i = 0; i < int('crash-trials'); i++) {
    const result = await runCrashTrial({ events: int('crash-events'), kills: int('crash-kills'), seed: 1000 + i, keepDir: true });
    trials.push(result);
    const passed = trialPassed(result);
    if (!passed) {
      report.crash.failed++;
      log(botLog(result));
    }
    log(
      `crash trial ${i + 1}: ${passed ? 'ok' : `FAILED (kept in ${result.dir})`} ${Math.round(result.durationMs / 1000)} s, ${result.kills} kills, ` +
        `${result.roleGrants} grants, ${result.roleRemovals} removals${passed ? '' : `: ${result.problems.slice(0, 3).join('; ')}`}`,
    );
    if (passed) (await import('node:fs')).rmSync(result.dir, { recursive: true, force: true });
    report.crash.seconds = seconds(started);
    save();
  }
  failures += report.crash.failed;
}

save();
log(`results written to ${RESULTS}`);
process.exitCode = failures > 0 ? 1 : 0;
