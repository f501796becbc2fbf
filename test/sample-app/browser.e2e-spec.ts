/// <reference lib="dom" />
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { RunningSampleApp, startSampleApp } from '../../sample-app/src/main';
import { EMULATOR_IDS } from '../../src/testing';

// Debian's chromium (installed by .ci/system-packages.sh); `npx playwright install` cannot download here.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');

describe('sample app in a real browser (magic link and email code against the embedded emulator)', () => {
  let running: RunningSampleApp;
  let browser: Browser;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(
        `chromium not found at ${CHROMIUM}: run .ci/system-packages.sh (apt-get install chromium)`,
      );
    }
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    running = await startSampleApp({ PORT: '0', HOST: '127.0.0.1', PUBLIC_URL: undefined });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });

  async function signInWithMagicLink(page: Page, email: string) {
    await page.goto(running.url);
    await page.waitForSelector('#signed-out:not([hidden])');
    await page.fill('#email', email);
    await page.click('#send-link');
    await page.waitForSelector('#login-status:has-text("Check your inbox")');
    const link = page.locator('#inbox-messages a.magic-link').first();
    await link.waitFor({ timeout: 10_000 });
    await link.click();
    await page.waitForSelector('#signed-in:not([hidden])', { timeout: 15_000 });
  }

  async function resultOf(page: Page, tenant: string, route: string) {
    const before = await page.locator('#results li').count();
    await page.click(`button[data-tenant="${tenant}"][data-route="${route}"]`);
    await page.waitForFunction((n) => document.querySelectorAll('#results li').length > n, before);
    const first = page.locator('#results li').first();
    return {
      status: Number(await first.getAttribute('data-status')),
      text: (await first.textContent()) ?? '',
    };
  }

  it('signs in with a magic link, shows the tenants, enforces roles per tenant, and signs out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(running.url);
    await page.waitForSelector('#signed-out:not([hidden])');
    await page.fill('#email', 'demo@example.com');
    await page.click('#send-link');
    await page.waitForSelector('#login-status:has-text("Check your inbox")');

    // The dev inbox shows the emulator's outbox; the link in it is the real magic link.
    const link = page.locator('#inbox-messages a.magic-link').first();
    await link.waitFor({ timeout: 10_000 });
    await link.click();
    await page.waitForSelector('#signed-in:not([hidden])', { timeout: 15_000 });
    expect(await page.textContent('#profile')).toContain('demo@example.com');
    expect(await page.textContent('#tenants tr[data-tenant="org1"]')).toContain('Admin');
    expect(await page.textContent('#tenants tr[data-tenant="org2"]')).toContain('Member');

    // The session lives in HttpOnly cookies: the page's script cannot read the tokens.
    expect(await page.evaluate(() => document.cookie)).not.toMatch(/ey[A-Za-z0-9_-]{10,}\./);

    const adminProjects = await resultOf(page, 'org1', 'projects');
    expect(adminProjects.status).toBe(200);
    const adminSettings = await resultOf(page, 'org1', 'settings');
    expect(adminSettings.status).toBe(200);
    const memberProjects = await resultOf(page, 'org2', 'projects');
    expect(memberProjects.status).toBe(200);
    const memberSettings = await resultOf(page, 'org2', 'settings');
    expect(memberSettings.status).toBe(403);
    expect(memberSettings.text).toContain('insufficient_role');
    const memberBilling = await resultOf(page, 'org2', 'billing');
    expect(memberBilling.status).toBe(403);
    expect(memberBilling.text).toContain('insufficient_permission');

    await page.screenshot({ path: path.join(ARTIFACTS, 'sample-app-signed-in.png'), fullPage: true });

    await page.click('#sign-out');
    await page.waitForSelector('#signed-out:not([hidden])');
    const after = await page.evaluate(
      async () => (await fetch('/orgs/x/projects', { credentials: 'same-origin' })).status,
    );
    expect(after).toBe(401);
    await context.close();
  }, 90_000);

  it('a signed-out page load logs no console error, and a used sign-in link leaves the dev inbox', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    const session = page.waitForResponse((r) => r.url().endsWith('/api/session'));
    await page.goto(running.url);
    await page.waitForSelector('#signed-out:not([hidden])');
    expect((await session).status()).toBe(200);
    expect(errors).toEqual([]);

    await page.fill('#email', 'alice@example.com');
    await page.click('#send-link');
    const link = page.locator('#inbox-messages a.magic-link').first();
    await link.waitFor({ timeout: 10_000 });
    const href = (await link.getAttribute('href'))!;
    await link.click();
    await page.waitForSelector('#signed-in:not([hidden])', { timeout: 15_000 });
    await page.click('#sign-out');
    await page.waitForSelector('#signed-out:not([hidden])');
    const inbox = page.waitForResponse((r) => r.url().includes('/dev/inbox'));
    await page.reload();
    const messages = ((await (await inbox).json()) as { messages: { link?: string }[] }).messages;
    expect(messages.map((m) => m.link)).not.toContain(href);
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);

  it('a reused sign-in link lands on the page with the error shown (callback.errorRedirect)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(running.url);
    await page.waitForSelector('#signed-out:not([hidden])');
    await page.fill('#email', 'demo@example.com');
    await page.click('#send-link');
    const link = page.locator('#inbox-messages a.magic-link').first();
    await link.waitFor({ timeout: 10_000 });
    const href = (await link.getAttribute('href'))!;
    await link.click();
    await page.waitForSelector('#signed-in:not([hidden])', { timeout: 15_000 });
    await page.click('#sign-out');
    await page.waitForSelector('#signed-out:not([hidden])');
    await page.goto(href); // the same link again
    const error = page.locator('#login-error:not([hidden])');
    await error.waitFor({ timeout: 15_000 });
    expect(await error.getAttribute('data-code')).toBe('invalid_request');
    expect(await error.textContent()).toMatch(/already used|another browser/);
    expect(new URL(page.url()).search).toBe(''); // the code is dropped from the address bar
    expect(await page.isVisible('#signed-in')).toBe(false);
    await context.close();
  }, 90_000);

  it('signs in with an email code typed into the page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(running.url);
    await page.waitForSelector('#signed-out:not([hidden])');
    await page.fill('#email', 'alice@example.com');
    await page.click('#send-code');
    await page.waitForSelector('#code-form:not([hidden])');
    const code = page.locator('#inbox-messages li[data-kind="email-code"] code').first();
    await code.waitFor({ timeout: 10_000 });
    await page.fill('#code', (await code.textContent()) ?? '');
    await page.click('#verify-code');
    await page.waitForSelector('#signed-in:not([hidden])', { timeout: 15_000 });
    expect(await page.textContent('#profile')).toContain('alice@example.com');
    const memberSettings = await resultOf(page, 'org1', 'settings');
    expect(memberSettings.status).toBe(403);
    await page.screenshot({ path: path.join(ARTIFACTS, 'sample-app-email-code.png'), fullPage: true });
    await context.close();
  }, 90_000);

  describe('CSRF: pages of other origins cannot use the session or start a login', () => {
    let attacker: Server;
    let attackerPort: number;
    const pages = new Map<string, string>();

    beforeAll(async () => {
      attacker = createServer((req, res) => {
        const html = pages.get(req.url ?? '');
        res.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
        res.end(html ?? 'not found');
      });
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      attackerPort = (attacker.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => attacker.close(() => resolve())));

    /** An attacker page that submits a plain HTML form (urlencoded) to the app as soon as it loads. */
    function formPage(name: string, action: string, fields: Record<string, string>): string {
      const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
      const inputs = Object.entries(fields)
        .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
        .join('');
      pages.set(
        `/${name}`,
        `<!doctype html><form method="POST" action="${esc(action)}">${inputs}</form>` +
          '<script>document.forms[0].submit()</script>',
      );
      return `/${name}`;
    }

    /** The attacker's own refresh token: the attacker signs in to the app as alice, outside the victim's browser. */
    async function attackerRefreshToken(): Promise<string> {
      const api = running.url.replace('localhost', '127.0.0.1');
      const json = { 'content-type': 'application/json', origin: running.url };
      const started = await fetch(`${api}/auth/ezid/email-code`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ email: 'alice@example.com' }),
      });
      expect(started.status).toBe(200);
      const { state } = (await started.json()) as { state: string };
      const flow = started.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const code = running.emulator!.outbox.last('alice@example.com')!.code!;
      const verified = await fetch(`${api}/auth/ezid/email-code/verify`, {
        method: 'POST',
        headers: { ...json, cookie: flow },
        body: JSON.stringify({ state, code }),
      });
      expect(verified.status).toBe(200);
      const rt = verified.headers.getSetCookie().find((c) => c.startsWith('ezid_rt='))!;
      return decodeURIComponent(rt.split(';')[0].slice('ezid_rt='.length));
    }

    it('cross-site (127.0.0.1) and same-site (another port of localhost) forms: 403 csrf_rejected or no cookie, no effect; the app’s own page still works', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await signInWithMagicLink(page, 'demo@example.com');
      const own = await resultOf(page, 'org1', 'add-project');
      expect(own.status).toBe(201); // the page's own JSON POST with the session cookie

      const sessionBefore = (await context.cookies(running.url))
        .filter((c) => c.name.startsWith('ezid_'))
        .map((c) => `${c.name}=${c.value}`)
        .sort();
      expect(sessionBefore.map((c) => c.split('=')[0])).toEqual(['ezid_at', 'ezid_rt']);
      const mailsBefore = running.emulator!.outbox.all().length;
      const attackerRt = await attackerRefreshToken();
      const mailsAfterAttackerLogin = running.emulator!.outbox.all().length;
      expect(mailsAfterAttackerLogin).toBe(mailsBefore + 1);

      const app = running.url;
      const attacks = [
        formPage('magic-link', `${app}/auth/ezid/magic-link`, { email: 'bob@example.com' }),
        formPage('refresh', `${app}/auth/ezid/refresh`, { refreshToken: attackerRt }),
        formPage('add-project', `${app}/orgs/${EMULATOR_IDS.tenant1}/projects`, { name: 'pwned' }),
      ];
      const sites = [
        { site: 'cross-site', base: `http://127.0.0.1:${attackerPort}` },
        { site: 'same-site', base: `http://localhost:${attackerPort}` },
      ];
      const seen: string[] = [];
      for (const { site, base } of sites) {
        for (const attack of attacks) {
          const evil = await context.newPage();
          const answered = evil.waitForResponse(
            (r) => r.request().method() === 'POST' && r.url().startsWith(app),
          );
          await evil.goto(base + attack);
          const res = await answered;
          const sent = await res.request().allHeaders();
          expect(sent['sec-fetch-site']).toBe(site);
          expect(sent.origin).toBe(base);
          const body = JSON.parse(await res.text()) as { code?: string };
          seen.push(`${site} ${attack} ${res.status()} ${body.code}`);
          expect(res.headers()['set-cookie']).toBeUndefined();
          await evil.close();
        }
      }
      // Lax cookies are not sent on a cross-site POST, so the app route sees no session at all; a
      // same-site page (a sibling subdomain, another port) does carry them, and is refused.
      expect(seen).toEqual([
        'cross-site /magic-link 403 csrf_rejected',
        'cross-site /refresh 403 csrf_rejected',
        'cross-site /add-project 401 token_missing',
        'same-site /magic-link 403 csrf_rejected',
        'same-site /refresh 403 csrf_rejected',
        'same-site /add-project 403 csrf_rejected',
      ]);

      // No effect: nothing emailed, the victim is still themselves, nothing was written.
      expect(running.emulator!.outbox.all().length).toBe(mailsAfterAttackerLogin);
      const sessionAfter = (await context.cookies(running.url))
        .filter((c) => c.name.startsWith('ezid_'))
        .map((c) => `${c.name}=${c.value}`)
        .sort();
      expect(sessionAfter).toEqual(sessionBefore);
      await page.reload();
      await page.waitForSelector('#signed-in:not([hidden])');
      expect(await page.textContent('#profile')).toContain('demo@example.com');
      const projects = await resultOf(page, 'org1', 'projects');
      expect(projects.status).toBe(200);
      expect(projects.text).toContain('New project');
      expect(projects.text).not.toContain('pwned');
      await context.close();
    }, 120_000);
  });
});
