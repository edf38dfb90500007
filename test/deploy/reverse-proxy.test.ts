import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The HTTPS examples in deploy/, checked by the servers themselves where they are installed
// (Debian: apt-get install -y nginx-light caddy); otherwise each check skips, saying so.

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));
const CADDY = ['/usr/bin/caddy', '/usr/local/bin/caddy'].find((path) => existsSync(path));
const folder = mkdtempSync(join(tmpdir(), 'reverse-proxy-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

for (const [name, path] of [['nginx', NGINX], ['caddy', CADDY]] as const) {
  if (path === undefined) console.warn(`reverse-proxy.test.ts: ${name} is not installed, so deploy/'s ${name} example is not checked (apt-get install -y ${name === 'nginx' ? 'nginx-light' : 'caddy'}).`);
}

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the reverse-proxy examples', () => {
  it.skipIf(NGINX === undefined)('deploy/nginx.conf passes nginx -t (with a throwaway certificate in place of certbot’s)', () => {
    const certificate = run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=desk.example.com', '-days', '1', '-keyout', join(folder, 'key.pem'), '-out', join(folder, 'cert.pem')]);
    expect(certificate.status, certificate.output).toBe(0);
    const site = readFileSync('deploy/nginx.conf', 'utf8')
      .replace('/etc/letsencrypt/live/desk.example.com/fullchain.pem', join(folder, 'cert.pem'))
      .replace('/etc/letsencrypt/live/desk.example.com/privkey.pem', join(folder, 'key.pem'));
    writeFileSync(join(folder, 'site.conf'), site);
    writeFileSync(join(folder, 'nginx.conf'), `pid ${folder}/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n  access_log off;\n  include ${folder}/site.conf;\n}\n`);
    const check = run(NGINX ?? '', ['-t', '-e', 'stderr', '-c', join(folder, 'nginx.conf')]);
    expect(check.output).toContain('test is successful');
    expect(check.output).not.toContain('[emerg]');
    expect(check.status).toBe(0);
  });

  it.skipIf(CADDY === undefined)('deploy/Caddyfile passes caddy validate and is formatted as caddy fmt writes it', () => {
    const check = run(CADDY ?? '', ['validate', '--adapter', 'caddyfile', '--config', 'deploy/Caddyfile']);
    expect(check.output).toContain('Valid configuration');
    expect(check.status).toBe(0);
    expect(run(CADDY ?? '', ['fmt', 'deploy/Caddyfile']).output).toBe(readFileSync('deploy/Caddyfile', 'utf8'));
  });

  it('both forward to the bot’s default address and replace the client’s X-Forwarded-For', () => {
    const nginx = readFileSync('deploy/nginx.conf', 'utf8');
    expect(nginx).toContain('proxy_pass http://127.0.0.1:3000;');
    expect(nginx).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
    const caddy = readFileSync('deploy/Caddyfile', 'utf8');
    expect(caddy).toContain('reverse_proxy 127.0.0.1:3000');
    // Caddy believes a client's X-Forwarded-For only from the proxies trusted_proxies names.
    expect(caddy).not.toContain('trusted_proxies');
  });
});
