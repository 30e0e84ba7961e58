import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/db/client.ts';
import { demoFiles } from '../demo-template.ts';
import { buildApp, type AppOptions } from '../../src/http/app.ts';

/** Debian's Chromium, or the one CHROMIUM_PATH names; we never download a browser. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);

if (!hasChromium) {
  const message = `Chromium not found at ${chromiumPath}: browser tests are skipped. Install it with \`apt-get update && apt-get install -y chromium\` or set CHROMIUM_PATH.`;
  if (process.env.CI === 'true') throw new Error(`${message} Under CI=true a missing browser fails the run.`);
  console.warn(message);
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface DemoServer {
  url: string;
  app: FastifyInstance;
  db: Db;
  close(): Promise<void>;
}

/** The real server on a free port of the loopback, on its own copy of the demo database and documents. */
export async function startDemoServer(options: Partial<Omit<AppOptions, 'db'>> = {}): Promise<DemoServer> {
  const dir = mkdtempSync(join(tmpdir(), 'isu-ib-e2e-'));
  const db = openDb({ path: await demoFiles(dir, { name: 'demo.sqlite' }), synchronous: 'NORMAL' });
  const app = await buildApp({ ...options, db });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: address,
    app,
    db,
    async close() {
      await app.close();
      db.$client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A seeded demo server and one browser for the tests of a describe block, closed after them;
 * `prepare` runs once both are up (for example, to open a stage through the API).
 */
export function useDemoBrowser(prepare?: (server: DemoServer) => Promise<void>, options: Partial<Omit<AppOptions, 'db'>> = {}): { readonly server: DemoServer; readonly browser: Browser } {
  const demo = {} as { server: DemoServer; browser: Browser };
  beforeAll(async () => {
    demo.server = await startDemoServer(options);
    demo.browser = await launchBrowser();
    await prepare?.(demo.server);
  }, 60_000);
  afterAll(async () => {
    await demo.browser?.close();
    await demo.server?.close();
  });
  return demo;
}

/** Signs in through the login form, as a person would, and waits to leave the login page. */
export async function signIn(page: Page, server: Pick<DemoServer, 'url'>, login: string): Promise<void> {
  await page.goto(`${server.url}/login`);
  await page.getByLabel('Логин').fill(login);
  await page.getByLabel('Пароль').fill('demo');
  await page.getByRole('button', { name: 'Войти' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
}

/** A new page and the script errors and console errors it reports, for a test to assert none. */
export async function watchedPage(browser: Browser, options: BrowserContextOptions = {}): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage(options);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return { page, errors };
}
