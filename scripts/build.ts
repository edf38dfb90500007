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
import { createHash } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { build, version as esbuildVersion, type BuildOptions } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const SOURCE_FOLDERS = ['src', 'bench'];
/** Written last into a finished build: what it was built from. */
const FINGERPRINT_FILE = '.fingerprint';

const OPTIONS: BuildOptions = {
  absWorkingDir: ROOT,
  entryPoints: SOURCE_FOLDERS.map((folder) => `${folder}/**/*.ts`),
  outbase: '.',
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
};

/**
 * Builds into `out` (a folder inside the project) unless it already holds a build of these very
 * sources; returns its absolute path. A new build is made beside it and swapped in whole, so a bot
 * already running from it (another process of the same checkout) never loads a half-written file.
 */
export async function buildProject(out = 'dist'): Promise<string> {
  const outdir = resolve(ROOT, out);
  // Inside the project, so Node reads its package.json ("type": "module") and finds node_modules.
  const reserved = [...SOURCE_FOLDERS, 'scripts', 'test', 'node_modules', 'data', 'config'].map((folder) => join(ROOT, folder));
  if (!outdir.startsWith(`${ROOT}${sep}`) || reserved.some((folder) => outdir === folder || outdir.startsWith(`${folder}${sep}`))) {
    throw new Error(`the build goes into a folder of its own inside the project, not ${out}`);
  }
  const fingerprint = await sourceFingerprint();
  const current = await readFile(join(outdir, FINGERPRINT_FILE), 'utf8').catch(() => null);
  if (current === fingerprint) return outdir;

  const staging = join(ROOT, `.tmp-staging-${process.pid}`);
  const previous = join(ROOT, `.tmp-previous-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  try {
    await build({ ...OPTIONS, outdir: staging });
    await writeFile(join(staging, FINGERPRINT_FILE), fingerprint);
    await rename(outdir, previous).catch(ignoreCode('ENOENT'));
    // Another start building at the same moment may have put its build there first: the same
    // sources, so it will do.
    await rename(staging, outdir).catch(ignoreCode('ENOTEMPTY', 'EEXIST'));
  } finally {
    await Promise.all([rm(staging, { recursive: true, force: true }), rm(previous, { recursive: true, force: true })]);
  }
  return outdir;
}

/** A digest of every source file (path and content), the compiler's version and its options. */
async function sourceFingerprint(): Promise<string> {
  const hash = createHash('sha256').update(`esbuild ${esbuildVersion}\n${JSON.stringify(OPTIONS)}\n`);
  for (const folder of SOURCE_FOLDERS) {
    const entries = await readdir(join(ROOT, folder), { recursive: true, withFileTypes: true });
    const files = entries
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
    for (const file of files) hash.update(`${relative(ROOT, file)}\n`).update(await readFile(file)).update('\n');
  }
  return hash.digest('hex');
}

function ignoreCode(...codes: string[]): (error: unknown) => void {
  return (error) => {
    if (!(error instanceof Error && codes.includes((error as NodeJS.ErrnoException).code ?? ''))) throw error;
  };
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
