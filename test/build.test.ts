import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProject } from '../scripts/build.js';
import { BOT_BUILD_DIR } from './support/bot-build.js';

async function filesUnder(folder: string, extension: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(extension))
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)).slice(0, -extension.length))
    .sort();
}

describe('the build', () => {
  it('has one JavaScript file for every TypeScript source of the bot, at the same place', async () => {
    // The global set-up built it; the events thread finds its entry beside its host this way.
    const sources = await filesUnder('src', '.ts');
    const built = await filesUnder(join(BOT_BUILD_DIR, 'src'), '.js');
    expect(built).toEqual(sources);
    expect(built).toContain('jobs/inbound-thread.entry');
  });

  it.each(['src', 'test/x', '..', '/tmp/elsewhere', '.'])('refuses to build into %s', async (out) => {
    await expect(buildProject(out)).rejects.toThrow(/the build goes into a folder of its own inside the project/);
  });
});
