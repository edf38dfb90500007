/**
 * Compiles the bot (src/) and the benchmark (bench/) to plain JavaScript, file by file, so
 * `npm start` runs on Node alone. Under tsx every process carries a TypeScript loader thread:
 * ~30–50 MB of RSS at rest, more while it compiles, and the same again in the events thread.
 *
 *   tsx scripts/build.ts [--out dist]
 *
 * Type-checking is `npm run typecheck`'s job; this only strips types (with esbuild, which tsx
 * uses too). One output file per source file keeps `import.meta.url` and the `.js` import paths
 * meaning what they mean in the sources.
 */
import { rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');

/** Builds into `out` (a folder inside the project, replaced whole); returns the absolute path. */
export async function buildProject(out = 'dist'): Promise<string> {
  const outdir = resolve(ROOT, out);
  // Inside the project, so Node reads its package.json ("type": "module") and finds node_modules.
  const reserved = ['src', 'bench', 'scripts', 'test', 'node_modules', 'data', 'config'].map((folder) => join(ROOT, folder));
  if (!outdir.startsWith(`${ROOT}${sep}`) || reserved.some((folder) => outdir === folder || outdir.startsWith(`${folder}${sep}`))) {
    throw new Error(`the build goes into a folder of its own inside the project, not ${out}`);
  }
  // A file removed from src/ must not linger in the build and stay importable.
  await rm(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['src/**/*.ts', 'bench/**/*.ts'],
    outdir,
    outbase: '.',
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  return outdir;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist' } } });
  try {
    await buildProject(values.out);
  } catch (error) {
    // esbuild has already printed what failed to compile, with file and line.
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
