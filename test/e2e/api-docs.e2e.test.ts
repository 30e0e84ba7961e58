import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/db/client.ts';
import { buildApp } from '../../src/http/app.ts';
import { hasChromium, launchBrowser, watchedPage } from './browser.ts';

/**
 * The browsable API docs (issue 10) in real Chromium: swagger-ui renders every operation of
 * /api/openapi.json from our own origin under the app's Content-Security-Policy, with no
 * violation and no script error. An empty database is enough: the docs show no data.
 */
describe.skipIf(!hasChromium)('the API docs in a real browser', () => {
  let dir: string;
  let db: Db;
  let app: FastifyInstance;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'isu-ib-docs-'));
    db = openDb({ path: join(dir, 'empty.sqlite'), synchronous: 'OFF' });
    app = await buildApp({ db });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    db?.$client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders every operation and an event’s body schema with no CSP violation and no script error', async () => {
    const spec = (await (await fetch(`${url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(spec.paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
    const { page, errors } = await watchedPage(browser);
    // Recorded in the page itself as well as on the console: a blocked inline style or script is a violation either way.
    await page.addInitScript(() => {
      const found: string[] = [];
      (window as unknown as { violations: string[] }).violations = found;
      document.addEventListener('securitypolicyviolation', (event) => found.push(`${event.effectiveDirective} ${event.blockedURI}`));
    });
    const response = await page.goto(`${url}/api/docs`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");

    await expect.poll(() => page.locator('.opblock').count(), { timeout: 20_000 }).toBe(operations);
    await expect.poll(() => page.locator('.info .title').textContent()).toContain('ISU-IB API');

    const events = page.locator('.opblock-post').filter({ has: page.locator('[data-path="/api/applications/{id}/events"]') });
    await events.locator('.opblock-summary').click();
    await events.locator('.opblock-body').waitFor({ state: 'visible' });
    await expect.poll(() => events.locator('.opblock-section-request-body').textContent()).toContain('application/json');
    // The answers are there too, with the error body on the refusals.
    await expect.poll(() => events.locator('.responses-table').textContent()).toContain('409');

    const violations = await page.evaluate(() => (window as unknown as { violations: string[] }).violations);
    expect(violations).toEqual([]);
    expect(errors).toEqual([]);
  });
});
