import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE_DISCORD, ALICE_STEAM_ID, startLinkHarness, type LinkHarness } from '../support/link-harness.js';

// One end-to-end run in a real browser (Debian's chromium driven by playwright-core): the bot's
// HTTP app listening on 127.0.0.1, the fake Discord OAuth and Steam OpenID servers, real
// redirects, real clicks, the real Content-Security-Policy and Referrer-Policy.

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`link-browser.test.ts: ${CHROMIUM} is missing, so the real-browser linking test is skipped (install it with: bash scripts/install-browser.sh).`);
}

describe('linking accounts in a real browser', () => {
  let server: Server;
  let h: LinkHarness;
  let browser: Browser;
  const consoleProblems: string[] = [];

  beforeAll(async () => {
    if (!haveChromium) return;
    // Listen first: PUBLIC_URL (and so the redirect URI) must name the port the browser will use.
    server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    h = await startLinkHarness({ publicUrl });
    server.on('request', (req, res) => h.app.routing(req, res));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
  }, 60_000);

  afterAll(async () => {
    if (!haveChromium) return;
    await browser?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await h?.close();
  });

  it.skipIf(!haveChromium)(
    'links Discord, then Steam, by clicking through the link page and the providers',
    async () => {
      const page = await browser.newPage();
      page.on('console', (message) => {
        // Browsers ask every origin for /favicon.ico; the pages have none on purpose (no external resources).
        if (message.location().url.endsWith('/favicon.ico')) return;
        if (message.type() === 'error' || message.type() === 'warning') consoleProblems.push(message.text());
      });

      await page.goto(await h.linkUrl());
      expect(await page.title()).toBe('Link your accounts');
      expect(await page.locator('h1').innerText()).toBe('Link your accounts');
      await page.getByRole('link', { name: 'Link Discord' }).click();
      await page.waitForURL(/\/oauth2\/authorize\?/);
      await page.getByRole('link', { name: 'Authorize' }).click();
      await page.waitForURL(/\/link\/discord\/callback\?/);
      expect(await page.locator('h1').innerText()).toBe('Discord account linked');
      expect(await page.locator('main').innerText()).toContain('Your Discord account alice is now linked to your store account.');

      let alice = await h.customer();
      expect(alice.discord?.id).toBe(ALICE_DISCORD.id);
      const row = await h.db.selectFrom('customers').select('last_ip').where('id', '=', alice.id).executeTakeFirstOrThrow();
      expect(row.last_ip).toBe('127.0.0.1');

      await page.goto(await h.linkUrl());
      expect(await page.locator('main').innerText()).toContain('Discord: alice is linked');
      await page.getByRole('link', { name: 'Link Steam' }).click();
      await page.waitForURL(/\/openid\/login\?/);
      await page.getByRole('link', { name: 'Sign In' }).click();
      await page.waitForURL(/\/link\/steam\/callback\?/);
      expect(await page.locator('h1').innerText()).toBe('Steam account linked');
      expect(await page.locator('main').innerText()).toContain('Your Steam account AliceOnSteam is now linked to your store account.');

      alice = await h.customer();
      expect(alice.steam).toEqual({ id: ALICE_STEAM_ID, username: 'AliceOnSteam', avatar: 'fe'.repeat(20) });
      expect(h.steam.calls.checkAuthentication).toBe(1);
      expect(h.hookCalls.map((c) => c.change.provider)).toEqual(['discord', 'steam']);

      // The link token in our URL never reached the providers, and the page ran clean under its CSP.
      expect(h.discord.consentPageReferers).toEqual([undefined]);
      expect(h.steam.signInPageReferers).toEqual([undefined]);
      expect(consoleProblems).toEqual([]);
      await page.close();
    },
    60_000,
  );
});
