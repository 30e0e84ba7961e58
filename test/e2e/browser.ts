import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/db/client.ts';
import { seedDemo } from '../../src/demo/seed.ts';
import { buildApp } from '../../src/http/app.ts';

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

/** The real server on a free port of the loopback, on its own seeded demo database. */
export async function startDemoServer(): Promise<DemoServer> {
  const dir = mkdtempSync(join(tmpdir(), 'isu-ib-e2e-'));
  const db = openDb({ path: join(dir, 'demo.sqlite'), synchronous: 'NORMAL' });
  await seedDemo(db);
  const app = await buildApp({ db });
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
