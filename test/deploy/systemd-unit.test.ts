import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const UNIT = 'deploy/store-customer-desk.service';
/** The bot's unit, and the backup's service and timer. */
const UNITS = readdirSync('deploy').filter((name) => /\.(service|timer)$/.test(name));
const ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((path) => existsSync(path));
const unitText = readFileSync(UNIT, 'utf8');
const folder = mkdtempSync(join(tmpdir(), 'unit-verify-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

if (ANALYZE === undefined) {
  console.warn(`systemd-unit.test.ts: systemd-analyze is missing, so the units in deploy/ are not verified (install it with: apt-get install -y systemd).`);
}

describe('the systemd units', () => {
  it.skipIf(ANALYZE === undefined)('pass systemd-analyze verify without a warning', () => {
    expect(UNITS).toEqual(['store-customer-desk-backup.service', 'store-customer-desk-backup.timer', 'store-customer-desk.service']);
    for (const name of UNITS) {
      // verify checks that ExecStart's program exists: point it at this machine's node when Node
      // is installed elsewhere than Debian's /usr/bin/node.
      const text = readFileSync(join('deploy', name), 'utf8');
      writeFileSync(join(folder, name), existsSync('/usr/bin/node') ? text : text.replaceAll('=/usr/bin/node ', `=${process.execPath} `));
    }
    // Together, so the timer finds the service it starts.
    const run = spawnSync(ANALYZE ?? '', ['verify', '--man=no', ...UNITS.map((name) => join(folder, name))], { encoding: 'utf8', timeout: 30_000 });
    expect(`${run.stdout}${run.stderr}`.trim()).toBe('');
    expect(run.status).toBe(0);
  });

  it('runs the built bot as its own user, restarts it on failure and lets it write data/ only', () => {
    const settings = unitText.split('\n').filter((line) => /^[A-Za-z]+=/.test(line));
    expect(settings).toEqual(expect.arrayContaining([
      'User=store-desk',
      'WorkingDirectory=/opt/store-customer-desk',
      'EnvironmentFile=/opt/store-customer-desk/.env',
      'ExecStart=/usr/bin/node dist/src/index.js',
      'Restart=on-failure',
      'ProtectSystem=strict',
      'ReadWritePaths=/opt/store-customer-desk/data',
    ]));
    // V8 compiles JavaScript into memory it then executes.
    expect(unitText).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
  });
});
