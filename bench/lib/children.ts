import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Forks one of the bench's own modules (named without its extension) in the form this one runs
 * in, with the same flags: built JavaScript under Node as `npm run bench` runs it (and `npm start`
 * runs the bot), TypeScript under tsx as the smoke test runs it.
 */
export function forkBench(module: string, args: string[], extraExecArgv: string[] = []): ChildProcess {
  return fork(fileURLToPath(new URL(`${module}${extname(import.meta.url)}`, import.meta.url)), args, {
    execArgv: [...process.execArgv, ...extraExecArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Forks a child that sends exactly one message (its result) and exits. */
export function runChild<T>(module: string, args: string[], extraExecArgv: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = forkBench(module, args, extraExecArgv);
    let result: T | undefined;
    child.on('message', (message) => {
      result = message as T;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result !== undefined) resolve(result);
      else reject(new Error(`${module} exited with ${String(code)} before reporting`));
    });
  });
}

/** The next message from `child` that `accept` takes. */
export function nextMessage<T>(child: ChildProcess, accept: (message: unknown) => message is T, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no message from the child within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: unknown) => {
      if (!accept(message)) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the child exited with ${String(code)}`));
    });
  });
}
