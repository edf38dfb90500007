import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_GUILD_ID, startLocalDiscord, type LocalDiscord } from '../../src/sandbox/local-discord/index.js';
import { freePort } from '../support/bot-process.js';

// No base image can be pulled here, so this runs deploy/Dockerfile's own steps in a clean folder:
// each stage is a folder, COPY copies from the project or an earlier stage, RUN runs in WORKDIR
// with the stage's ENV, and the image's CMD is started against the local Discord until its
// HEALTHCHECK passes. apt-get lines install the toolchain this machine already has. One change
// keeps the test short: `npm ci` skips install scripts, and better-sqlite3's compiled module is
// taken from this checkout (the same version) instead of being compiled again for a minute or more.

const ROOT = resolve(import.meta.dirname, '../..');
const DOCKERFILE = join(ROOT, 'deploy/Dockerfile');
/** What the lockfile installs for development only (its `node_modules/…` entries marked dev). */
const DEV_ONLY = Object.entries((JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }).packages)
  .filter(([path, entry]) => path !== '' && entry.dev === true)
  .map(([path]) => path);

interface Stage {
  name: string | undefined;
  root: string;
  workdir: string;
  env: Record<string, string>;
  cmd?: string[];
  healthcheck?: string[];
}

/** The Dockerfile's instructions, one a line, continuation lines joined and comments left out. */
function instructions(text: string): Array<{ keyword: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const keyword = line.split(/\s+/, 1)[0] ?? '';
      return { keyword: keyword.toUpperCase(), args: line.slice(keyword.length).trim() };
    });
}

function inStage(stage: Stage, path: string): string {
  return isAbsolute(path) ? join(stage.root, path) : join(stage.workdir, path);
}

function run(command: string, args: string[], cwd: string, env: Record<string, string>, timeoutMs: number): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, ...env }, encoding: 'utf8', timeout: timeoutMs });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

class Unavailable extends Error {}

/** Runs every stage of the Dockerfile under `work`; returns the last one (the image). */
function buildStages(work: string): Stage {
  const stages: Stage[] = [];
  for (const { keyword, args } of instructions(readFileSync(DOCKERFILE, 'utf8'))) {
    const stage = stages.at(-1);
    if (keyword === 'FROM') {
      const root = join(work, `stage-${stages.length}`);
      mkdirSync(root);
      stages.push({ name: /\bAS\s+(\S+)/i.exec(args)?.[1], root, workdir: root, env: {} });
      continue;
    }
    if (!stage) throw new Error(`${keyword} before FROM`);
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = inStage(stage, args);
        mkdirSync(stage.workdir, { recursive: true });
        break;
      case 'ENV': {
        const [name = '', value = ''] = args.split('=');
        stage.env[name] = value;
        break;
      }
      case 'COPY': {
        const words = args.split(/\s+/);
        const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((word) => !word.startsWith('--'));
        const target = paths.pop() ?? '';
        const source = from === undefined ? undefined : stages.find((s) => s.name === from);
        if (from !== undefined && !source) throw new Error(`COPY --from=${from}: no such stage`);
        for (const path of paths) {
          const origin = source ? inStage(source, path) : join(ROOT, path);
          const into = target.endsWith('/') ? join(inStage(stage, target), basename(path)) : inStage(stage, target);
          cpSync(origin, into, { recursive: true });
        }
        break;
      }
      case 'RUN': {
        if (args.startsWith('apt-get')) {
          const missing = ['python3', 'make', 'g++'].filter((tool) => run('sh', ['-c', `command -v ${tool}`], stage.workdir, {}, 5_000).status !== 0);
          if (missing.length > 0) throw new Unavailable(`the toolchain the Dockerfile installs is missing here (${missing.join(', ')})`);
          break;
        }
        const command = args.startsWith('npm ci') ? args.replace(/^npm ci/, 'npm ci --ignore-scripts') : args;
        const result = run('sh', ['-c', command], stage.workdir, stage.env, 110_000);
        if (result.status !== 0 && command.startsWith('npm ci') && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network/i.test(result.output)) {
          throw new Unavailable(`npm ci cannot reach the registry: ${result.output.trim().split('\n').slice(-2).join(' ')}`);
        }
        if (result.status !== 0) throw new Error(`RUN ${args} failed with ${result.status}:\n${result.output.slice(-3000)}`);
        if (command.startsWith('npm ci')) takeCompiledModules(stage.workdir);
        break;
      }
      case 'CMD':
        stage.cmd = JSON.parse(args) as string[];
        break;
      case 'HEALTHCHECK':
        stage.healthcheck = JSON.parse(args.slice(args.indexOf('CMD ') + 'CMD '.length)) as string[];
        break;
      default:
        // USER, EXPOSE, VOLUME, STOPSIGNAL: what the container runtime does, not the image's files.
        break;
    }
  }
  const image = stages.at(-1);
  if (!image?.cmd) throw new Error('the Dockerfile has no CMD');
  return image;
}

/** What the skipped install scripts would have made: better-sqlite3's module, esbuild's check. */
function takeCompiledModules(app: string): void {
  const ours = JSON.parse(readFileSync(join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string };
  const theirs = JSON.parse(readFileSync(join(app, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string };
  if (ours.version !== theirs.version) throw new Unavailable(`this checkout's better-sqlite3 (${ours.version}) is not the lockfile's (${theirs.version}): run npm ci`);
  cpSync(join(ROOT, 'node_modules/better-sqlite3/build'), join(app, 'node_modules/better-sqlite3/build'), { recursive: true });
  const check = run(process.execPath, ['install.js'], join(app, 'node_modules/esbuild'), {}, 30_000);
  if (check.status !== 0) throw new Error(`esbuild's install check failed:\n${check.output}`);
}

describe('deploy/Dockerfile, its steps run in a clean folder', () => {
  const work = mkdtempSync(join(tmpdir(), 'dockerfile-steps-'));
  let discord: LocalDiscord | undefined;
  afterAll(async () => {
    await discord?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('builds with production dependencies only, and the image starts, passes its health check and stops on SIGTERM', { timeout: 150_000 }, async ({ skip }) => {
    let image: Stage;
    try {
      image = buildStages(work);
    } catch (error) {
      if (error instanceof Unavailable) {
        console.warn(`dockerfile.test.ts: skipped, ${error.message}.`);
        return skip(error.message);
      }
      throw error;
    }
    const app = image.workdir;
    expect(DEV_ONLY.length).toBeGreaterThan(0);
    expect(DEV_ONLY.filter((path) => existsSync(join(app, path)))).toEqual([]);
    expect(existsSync(join(app, 'node_modules/discord.js'))).toBe(true);
    expect(existsSync(join(app, 'dist/src/index.js'))).toBe(true);
    expect(existsSync(join(app, 'src'))).toBe(false);

    discord = await startLocalDiscord();
    const env = {
      ...image.env,
      PATH: process.env.PATH ?? '',
      TMPDIR: work,
      DOTENV_CONFIG_PATH: '/nonexistent/.env',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(await freePort()),
      DISCORD_TOKEN: discord.token,
      DISCORD_GUILD_ID: DEFAULT_GUILD_ID,
      DISCORD_API_URL: discord.apiUrl,
      LOG_LEVEL: 'warn',
    };
    // The command-line tools run from the image too (`docker compose exec bot node dist/src/cli/…`).
    const migrate = run(process.execPath, ['dist/src/cli/migrate.js'], app, env, 30_000);
    expect(migrate.output).toMatch(/^Applied \d+ of \d+ migrations to data\/customers\.db/);
    expect(migrate.status).toBe(0);

    const [command = '', ...args] = image.cmd ?? [];
    const bot = spawn(command === 'node' ? process.execPath : command, args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    bot.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    bot.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((done) => bot.once('exit', (code) => done(code)));
    try {
      const [check = '', ...checkArgs] = image.healthcheck ?? [];
      let healthy = false;
      for (let attempt = 0; attempt < 120 && !healthy && bot.exitCode === null; attempt++) {
        healthy = run(check === 'node' ? process.execPath : check, checkArgs, app, env, 10_000).status === 0;
        if (!healthy) await new Promise((done) => setTimeout(done, 250));
      }
      expect(healthy, `the health check never passed:\n${output.slice(-3000)}`).toBe(true);
    } finally {
      bot.kill('SIGTERM');
    }
    expect(await exited, output.slice(-3000)).toBe(0);
  });
});
