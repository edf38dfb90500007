import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProject } from '../../scripts/build.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where the tests' copy of the built bot goes (apart from dist/, which `npm start` may be using). */
export const BOT_BUILD_DIR = '.tmp-build';

/** The bot as `npm start` runs it: built JavaScript, under Node alone. */
export const BUILT_BOT_ENTRY = join(REPO_ROOT, BOT_BUILD_DIR, 'src', 'index.js');

export async function buildBotForTests(): Promise<void> {
  await buildProject(BOT_BUILD_DIR);
}

/** Vitest's global set-up: one build before any test file runs, shared by all of them. */
export default buildBotForTests;
