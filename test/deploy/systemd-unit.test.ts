import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const UNIT = 'deploy/store-customer-desk.service';
const ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((path) => existsSync(path));
const unitText = readFileSync(UNIT, 'utf8');
const folder = mkdtempSync(join(tmpdir(), 'unit-verify-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

if (ANALYZE === undefined) {
  console.warn(`${UNIT}: systemd-analyze is missing, so the unit is not verified (install it with: apt-get install -y systemd).`);
}

describe('the systemd unit', () => {
  it.skipIf(ANALYZE === undefined)('passes systemd-analyze verify without a warning', () => {
    // verify checks that ExecStart's program exists: point it at this machine's node when Node
    // is installed elsewhere than Debian's /usr/bin/node.
    const text = existsSync('/usr/bin/node') ? unitText : unitText.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `);
    const copy = join(folder, 'store-customer-desk.service');
    writeFileSync(copy, text);
    const run = spawnSync(ANALYZE ?? '', ['verify', '--man=no', copy], { encoding: 'utf8', timeout: 30_000 });
    expect(`${run.stdout}${run.stderr}`.trim()).toBe('');
    expect(run.status).toBe(0);
  });

  it('runs the built bot as its own user, restarts it on failure and lets it write data/ only', () => {
    const settings = unitText.split('\n').filter((line) => /^[A-Za-z]+=/.test(line));
    expect(settings).toEqual(expect.arrayContaining([
      'User=store-desk',
      'WorkingDirectory=/opt/store-customer-desk',
      'EnvironmentFile=/etc/store-customer-desk.env',
      'ExecStart=/usr/bin/node dist/src/index.js',
      'Restart=on-failure',
      'ProtectSystem=strict',
      'ReadWritePaths=/opt/store-customer-desk/data',
    ]));
    // V8 compiles JavaScript into memory it then executes.
    expect(unitText).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
  });
});
