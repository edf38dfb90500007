import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILT_BOT_ENTRY } from './bot-build.js';
import { signedEventHeaders } from './store-door.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface BotProcessOptions {
  /** Written before each chunk of output in the log; without it, `start <n>`. */
  name?: string;
  /** Log stdout (the bot's pino lines) as well as stderr. */
  logStdout?: boolean;
}

/**
 * The real bot as a child process, run as `npm start` runs it (`node <build>/src/index.js`; the
 * tests' global set-up builds it), restartable, its output appended to `logFile`.
 */
export class BotProcess {
  child: ChildProcess | undefined;
  starts = 0;
  constructor(
    private readonly env: Record<string, string>,
    private readonly logFile: string,
    private readonly options: BotProcessOptions = {},
  ) {}

  /** Where the bot's HTTP server listens (HTTP_HOST and HTTP_PORT of its environment). */
  get url(): string {
    return `http://${this.env.HTTP_HOST ?? '127.0.0.1'}:${this.env.HTTP_PORT ?? ''}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (!existsSync(BUILT_BOT_ENTRY)) throw new Error(`${BUILT_BOT_ENTRY} is missing: build the bot first (buildBotForTests)`);
    this.starts++;
    const child = spawn(process.execPath, [BUILT_BOT_ENTRY], {
      cwd: REPO_ROOT,
      env: this.env,
      stdio: ['ignore', this.options.logStdout ? 'pipe' : 'ignore', 'pipe'],
    });
    this.child = child;
    const prefix = `[${this.options.name ?? `start ${this.starts}`}] `;
    const write = (chunk: Buffer) => {
      try {
        appendFileSync(this.logFile, `${prefix}${chunk.toString('utf8')}`);
      } catch {
        // the directory is gone once the test is over
      }
    };
    child.stdout?.on('data', write);
    child.stderr?.on('data', write);
  }

  /** Sends `signal` and waits for the exit; a process still running after 15 s is killed. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  /** The end of the log, for a failure message. */
  logTail(chars = 4000): string {
    try {
      return readFileSync(this.logFile, 'utf8').slice(-chars);
    } catch {
      return '';
    }
  }

  /** Resolves once /healthz answers; throws when the process exits first or never answers. */
  async waitForHealth(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const code = this.child?.exitCode;
      if (code !== null && code !== undefined) throw new Error(`${this.options.name ?? 'the bot'} exited with ${code} while starting:\n${this.logTail(2000)}`);
      try {
        if ((await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1_000) })).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error(`${this.options.name ?? 'the bot'} did not start listening:\n${this.logTail(2000)}`);
  }
}

export interface BotProcessSettings {
  discord: { token: string; apiUrl: string };
  guildId: string;
  databaseUrl: string;
  port: number;
  storeWebhookSecret: string;
  roleRulesFile: string;
}

/**
 * The environment of a bot process against a local Discord, listening on loopback at `port`: no
 * .env file is read, and nothing of the test runner's environment but PATH reaches the bot.
 */
export function botProcessEnv(settings: BotProcessSettings, more: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    DOTENV_CONFIG_PATH: '/nonexistent/.env',
    DISCORD_TOKEN: settings.discord.token,
    DISCORD_GUILD_ID: settings.guildId,
    DISCORD_API_URL: settings.discord.apiUrl,
    DATABASE_URL: settings.databaseUrl,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(settings.port),
    STORE_WEBHOOK_SECRET: settings.storeWebhookSecret,
    ROLE_RULES_FILE: settings.roleRulesFile,
    ...more,
  };
}

/** Posts a signed event body to the bot at `url`, as the store does; false when it is not acknowledged (or not answered within 10 s). */
export async function sendSignedEvent(url: string, secret: string, body: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/webhooks/store`, { method: 'POST', headers: signedEventHeaders(secret, body), body, signal: AbortSignal.timeout(10_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** A TCP port free on loopback at the moment of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
