/// <reference lib="dom" />
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { RunningSampleApp, startSampleApp } from '../../sample-app/src/main';

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
});
