import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { openDb, type Db, type OpenOptions } from '../src/db/client.ts';
import { seedDemo, type DemoSummary } from '../src/demo/seed.ts';
import { documentsDirFor } from '../src/workflows/documents/store.ts';

/**
 * The demo, seeded once per run and copied for each test (issue 10): seeding takes seconds, a copy
 * milliseconds. A template is the seeded database (serialized) and the documents folder the seed
 * wrote, one per clock the tests seed it at (today, or a fixed `now`). The first test file that
 * asks for a clock seeds it into the run's folder (test/global-setup.ts), while the others wait
 * for it; every copy is a database and a documents folder of its own, so a test may change or
 * tamper with either without touching the template or another test.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's folder of demo templates, made by test/global-setup.ts. */
    demoTemplates: string;
  }
}

interface Template {
  database: string;
  documents: string;
  summary: DemoSummary;
}

export interface DemoOptions {
  /** The demo's "now", as seedDemo takes it (ISO); today when not given. */
  now?: string;
  synchronous?: OpenOptions['synchronous'];
}

const templates = new Map<string, Template>();
const images = new Map<string, Buffer>();

/** How long a test file waits for another one that is seeding the same template. */
const SEED_WAIT_MS = 120_000;

async function template(now: string | undefined): Promise<Template> {
  const key = now ?? 'today';
  const known = templates.get(key);
  if (known) return known;
  const dir = join(inject('demoTemplates'), key.replace(/[^0-9A-Za-z]/g, '-'));
  const ready = join(dir, 'template.json');
  const failed = join(dir, 'failed.txt');
  let seeding = false;
  try {
    // mkdir is atomic: exactly one test file of the run makes the folder, and seeds.
    mkdirSync(dir, { recursive: false });
    seeding = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (seeding) {
    try {
      const documents = join(dir, 'documents');
      const db = openDb({ path: ':memory:', synchronous: 'OFF' });
      const summary = await seedDemo(db, { documentsDir: documents, ...(now ? { now: new Date(now) } : {}) });
      const database = join(dir, 'demo.sqlite');
      writeFileSync(database, db.$client.serialize());
      db.$client.close();
      writeFileSync(`${ready}.part`, JSON.stringify({ database, documents, summary } satisfies Template));
      renameSync(`${ready}.part`, ready);
    } catch (error) {
      writeFileSync(failed, String((error as Error).stack ?? error));
      throw error;
    }
  } else {
    const until = Date.now() + SEED_WAIT_MS;
    while (!existsSync(ready)) {
      if (existsSync(failed)) throw new Error(`seeding the demo template ${key} failed in another test file:\n${readFileSync(failed, 'utf8')}`);
      if (Date.now() > until) throw new Error(`the demo template ${key} was not seeded within ${SEED_WAIT_MS / 1000} s (${dir})`);
      await sleep(25);
    }
  }
  const found = JSON.parse(readFileSync(ready, 'utf8')) as Template;
  templates.set(key, found);
  return found;
}

/** Copies a documents folder file by file (two levels: `ab/abcdef…`, and `tmp/`). */
function copyDocuments(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) copyDocuments(source, target);
    else copyFileSync(source, target);
  }
}

/** What the seed reported for the template at this clock (programmes, applications, users). */
export async function demoSummary(now?: string): Promise<DemoSummary> {
  return (await template(now)).summary;
}

/**
 * A fresh in-memory copy of the demo, with a copy of its documents in the folder the app and the
 * checks look in for it (`documentsDirFor`).
 */
export async function demoDb(options: DemoOptions = {}): Promise<Db> {
  const found = await template(options.now);
  let image = images.get(found.database);
  if (!image) {
    image = readFileSync(found.database);
    images.set(found.database, image);
  }
  // better-sqlite3 opens a copy of the bytes: the image stays the template.
  const db = openDb({ path: image, synchronous: options.synchronous ?? 'OFF' });
  copyDocuments(found.documents, documentsDirFor(db));
  return db;
}

/**
 * A copy of the demo as files in `dir` (made if missing): `dir/<name>` and its documents in
 * `dir/documents`, where the app and the CLI look beside a database file. Returns the database path.
 */
export async function demoFiles(dir: string, options: { now?: string; name?: string } = {}): Promise<string> {
  const found = await template(options.now);
  const database = join(dir, options.name ?? 'isu-ib.sqlite');
  mkdirSync(dir, { recursive: true });
  copyFileSync(found.database, database);
  copyDocuments(found.documents, join(dir, 'documents'));
  return database;
}
