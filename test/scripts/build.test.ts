import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProject } from '../../scripts/build.js';
import { BOT_BUILD_DIR } from '../support/bot-build.js';

async function filesUnder(folder: string, extension: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(extension))
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)).slice(0, -extension.length))
    .sort();
}

describe('the build', () => {
  // A build of its own: the one the global set-up made is in use by the bot processes of other tests.
  const out = `.tmp-build-test-${process.pid}`;
  afterAll(() => rm(out, { recursive: true, force: true }));

  it('has one JavaScript file for every TypeScript source of the bot, at the same place', async () => {
    // The global set-up built it; the events thread finds its entry beside its host this way.
    const sources = await filesUnder('src', '.ts');
    const built = await filesUnder(join(BOT_BUILD_DIR, 'src'), '.js');
    expect(built).toEqual(sources);
    expect(built).toContain('jobs/purchase-event-thread.entry');
  });

  it('leaves a build of the same sources as it is, and replaces one of other sources whole', async () => {
    await buildProject(out);
    const marker = join(out, 'marker');
    await writeFile(marker, 'left by the test');

    await buildProject(out);
    expect(existsSync(marker)).toBe(true);

    const fingerprint = join(out, '.fingerprint');
    const built = await readFile(fingerprint, 'utf8');
    await writeFile(fingerprint, 'another version of the sources');
    await buildProject(out);
    expect(existsSync(marker)).toBe(false);
    expect(await readFile(fingerprint, 'utf8')).toBe(built);
    expect(await filesUnder(join(out, 'src'), '.js')).toEqual(await filesUnder('src', '.ts'));
    expect((await readdir('.')).filter((name) => name.startsWith('.tmp-staging-') || name.startsWith('.tmp-previous-'))).toEqual([]);
  });

  it.each(['src', 'test/x', '..', '/tmp/elsewhere', '.'])('refuses to build into %s', async (target) => {
    await expect(buildProject(target)).rejects.toThrow(/the build goes into a folder of its own inside the project/);
  });
});
