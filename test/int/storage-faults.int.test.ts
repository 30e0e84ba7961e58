import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openSession } from '../../src/accounts/sessions.ts';
import { openDb, type Db } from '../../src/db/client.ts';
import * as schema from '../../src/db/schema.ts';
import { storageFaultOf } from '../../src/db/storage-faults.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { buildApp } from '../../src/http/app.ts';
import { defaultRegistry } from '../../machines/registry.ts';
import { multipart, samples } from './document-samples.ts';
import { Browser } from './http-helpers.ts';
import { smallWorld, type SmallWorld } from './small-world.ts';
import { canMountSmallDisk, smallDisk, type SmallDisk } from './small-disk.ts';

/**
 * Storage faults are named (issue 17, point 5): a full disk, a read-only database, an I/O error
 * and a database busy past its timeout answer 503 with a message a person can act on — in the
 * user's language on pages, `{error, message}` on the API — lose nothing that was acknowledged
 * and save nothing of the refused request; `/readyz` says whether the database can be written.
 * Each fault is a real one where this machine can make it (SQLite's own page limit for a full
 * database, a read-only connection, a second connection holding the write lock, a small tmpfs
 * when the test may mount one), and an error injected at the same call where it cannot (EIO).
 */

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `isu-ib-${name}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function appOver(db: Db): Promise<FastifyInstance> {
  const app = await buildApp({ db, rateLimitMax: 0 });
  await app.ready();
  cleanups.push(() => app.close());
  return app;
}

interface Fixture {
  path: string;
  world: SmallWorld;
  id: number;
  bearer: string;
  cookie: string;
}

/** A world on a file with one draft, a bearer token and a cookie session for its applicant. */
function fixture(dir: string): Fixture {
  const path = join(dir, 'isu-ib.sqlite');
  const world = smallWorld(path);
  cleanups.push(() => void world.db.$client.close());
  const id = world.draft('Ремонт водопровода');
  // Sessions made an hour ago: the first request touches them, which a full or read-only disk cannot take.
  const hourAgo = new Date(Date.now() - 3_600_000);
  const bearer = openSession(world.db, world.actors.applicant.id, 'bearer', hourAgo).token;
  const cookie = openSession(world.db, world.actors.applicant.id, 'cookie', new Date(Date.now() - 120_000)).token;
  return { path, world, id, bearer, cookie };
}

const eventsIn = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()!.n;
  } finally {
    db.close();
  }
};

function verifies(path: string): void {
  const db = openDb({ path });
  try {
    expect(verifyLedger(db, defaultRegistry()).problems).toEqual([]);
  } finally {
    db.$client.close();
  }
}

function update(app: FastifyInstance, f: Fixture, title: string, version: number, lang?: 'en') {
  return app.inject({
    method: 'POST',
    url: `/api/applications/${f.id}/events${lang ? '?lang=en' : ''}`,
    headers: { authorization: `Bearer ${f.bearer}` },
    payload: { type: 'update', expectedVersion: version, title },
  });
}

const version = (app: FastifyInstance, f: Fixture) =>
  app.inject({ url: `/api/applications/${f.id}`, headers: { authorization: `Bearer ${f.bearer}` } }).then((r) => (r.json() as { version: number }).version);

/** Posts the edit form as a signed-in browser, in Russian or English. */
async function editForm(app: FastifyInstance, f: Fixture, title: string, lang: 'ru' | 'en') {
  const browser = new Browser(app);
  browser.cookies.set('sid', f.cookie);
  browser.cookies.set('lang', lang);
  const page = await browser.get(`/applications/${f.id}/edit`);
  expect(page.statusCode).toBe(200);
  const expectedVersion = /name="expectedVersion" value="(\d+)"/.exec(page.body)![1]!;
  return browser.post(`/applications/${f.id}/edit`, { title, expectedVersion });
}

describe('a read-only database', () => {
  it('answers every write 503 in the user’s language, keeps reading, saves nothing, and /readyz reports it', async () => {
    const f = fixture(tempDir('read-only'));
    const before = f.world.eventCount();
    f.world.db.$client.close();
    const db = drizzle({ client: new Database(f.path, { readonly: true, fileMustExist: true }), schema }) as Db;
    cleanups.push(() => void db.$client.close());
    const app = await appOver(db);

    const current = await version(app, f);
    const api = await update(app, f, 'Новое название', current);
    expect(api.statusCode).toBe(503);
    expect(api.json()).toEqual({ error: 'storage-read-only', message: 'База данных на сервере доступна только для чтения: ничего не сохранено. Сообщите администратору.' });
    expect((await update(app, f, 'New title', current, 'en')).json().message).toBe('The server’s database is read-only; nothing was saved. Tell the administrator.');

    const ru = await editForm(app, f, 'Новое название', 'ru');
    expect(ru.statusCode).toBe(503);
    expect(ru.headers['content-type']).toMatch(/^text\/html/);
    expect(ru.body).toContain('Хранилище недоступно');
    expect(ru.body).toContain('доступна только для чтения: ничего не сохранено');
    const en = await editForm(app, f, 'New title', 'en');
    expect(en.statusCode).toBe(503);
    expect(en.body).toContain('read-only; nothing was saved');

    // Reading still works, though the session could not be touched.
    const read = await app.inject({ url: `/api/applications/${f.id}`, headers: { authorization: `Bearer ${f.bearer}` } });
    expect(read.statusCode).toBe(200);
    expect(read.json().data.title).toBe('Ремонт водопровода');

    const ready = await app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ ok: false, error: 'storage-read-only' });
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);

    expect(eventsIn(f.path)).toBe(before);
    verifies(f.path);
  });
});

describe('a full database', () => {
  it('answers 503 “disk full” once SQLite has no page left, keeps every acknowledged event, and takes the same request once there is room', async () => {
    const f = fixture(tempDir('full'));
    const app = await appOver(f.world.db);
    const client = f.world.db.$client;
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({ ok: true });
    // SQLite's own limit on the file's size: past it, the write in the engine's transaction fails with SQLITE_FULL.
    client.pragma(`max_page_count = ${client.pragma('page_count', { simple: true }) as number}`);
    let current = await version(app, f);
    const acknowledged: number[] = [];
    let refused;
    for (let i = 0; i < 200 && !refused; i++) {
      const response = await update(app, f, `Ремонт водопровода, вариант ${i}`, current);
      if (response.statusCode === 200) acknowledged.push((current = response.json().version));
      else refused = response;
    }
    expect(refused, 'no write was refused').toBeDefined();
    expect(refused!.statusCode).toBe(503);
    expect(refused!.json()).toEqual({ error: 'storage-full', message: 'На диске сервера закончилось место: ничего не сохранено. Сообщите администратору и повторите действие, когда место освободят.' });
    expect((await app.inject({ url: '/readyz?lang=en' })).json()).toEqual({ ok: false, error: 'storage-full', message: 'The server’s disk is full; nothing was saved. Tell the administrator, and try again once space has been freed.' });
    const page = await editForm(app, f, 'Ещё одно название', 'ru');
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('закончилось место');

    // Nothing of the refused requests is there; every acknowledged one is.
    expect(await version(app, f)).toBe(current);
    const stored = client.prepare<[string], { seq: number }>('SELECT seq FROM events WHERE stream_id = ? ORDER BY seq').all(`application-${f.id}`).map((r) => r.seq);
    for (const seq of acknowledged) expect(stored).toContain(seq);
    expect(Math.max(...stored)).toBe(current);

    client.pragma('max_page_count = 1073741823');
    const retried = await update(app, f, 'Ремонт водопровода, вариант после очистки', current);
    expect(retried.statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    verifies(f.path);
  });
});

describe('a database busy past its timeout', () => {
  it('answers 503 with Retry-After, saves nothing, and takes the request once the other writer is done', async () => {
    const f = fixture(tempDir('busy'));
    const app = await appOver(f.world.db);
    f.world.db.$client.pragma('busy_timeout = 50');
    const other = new Database(f.path);
    cleanups.push(() => void other.close());
    const before = f.world.eventCount();
    const current = await version(app, f);
    other.exec('BEGIN IMMEDIATE');
    const response = await update(app, f, 'Занято', current);
    other.exec('ROLLBACK');
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json().error).toBe('storage-busy');
    expect(response.json().message).toContain('Повторите действие через несколько секунд');
    expect(f.world.eventCount()).toBe(before);
    expect((await update(app, f, 'Свободно', current)).statusCode).toBe(200);
  });
});

describe('an I/O error', () => {
  it('injected where SQLite raises it (the engine’s write) is a 503 that names it, not a 500', async () => {
    const f = fixture(tempDir('ioerr'));
    const app = await appOver(f.world.db);
    const apply = app.engine.apply.bind(app.engine);
    app.engine.apply = () => {
      throw new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE');
    };
    const before = f.world.eventCount();
    const response = await update(app, f, 'Ввод-вывод', await version(app, f));
    app.engine.apply = apply;
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ error: 'storage-io', message: expect.stringContaining('ошибка ввода-вывода') });
    expect(f.world.eventCount()).toBe(before);
  });

  it('every code SQLite and the file system use for these faults is named, and nothing else is', () => {
    const cases: [string, string | null][] = [
      ['SQLITE_FULL', 'full'],
      ['ENOSPC', 'full'],
      ['EDQUOT', 'full'],
      ['SQLITE_READONLY', 'read-only'],
      ['SQLITE_READONLY_DBMOVED', 'read-only'],
      ['EROFS', 'read-only'],
      ['SQLITE_IOERR', 'io'],
      ['SQLITE_IOERR_FSYNC', 'io'],
      ['SQLITE_IOERR_SHORT_READ', 'io'],
      ['EIO', 'io'],
      ['SQLITE_BUSY', 'busy'],
      ['SQLITE_BUSY_SNAPSHOT', 'busy'],
      ['SQLITE_CONSTRAINT_UNIQUE', null],
      ['SQLITE_ERROR', null],
      ['ENOENT', null],
      ['FST_ERR_VALIDATION', null],
    ];
    for (const [code, fault] of cases) expect(storageFaultOf(Object.assign(new Error(code), { code })), code).toBe(fault);
    expect(storageFaultOf(new Error('no code'))).toBeNull();
    expect(storageFaultOf(null)).toBeNull();
  });
});

describe('a full disk (a small tmpfs)', () => {
  let small: SmallDisk | null = null;
  afterAll(() => small?.remove());

  it.skipIf(!canMountSmallDisk)('answers a write and an upload 503 “disk full”, leaves no half file, and works again once space is freed', async () => {
    small = smallDisk(6 * 1024 * 1024)!;
    const disk = small.path;
    const f = fixture(disk);
    const app = await appOver(f.world.db);
    const client = f.world.db.$client;
    const current = await version(app, f);
    // The WAL is reused after a checkpoint: truncated, the next write must grow it on the full disk.
    client.pragma('wal_checkpoint(TRUNCATE)');
    const filler = join(disk, 'filler');
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }
    const before = f.world.eventCount();

    const write = await update(app, f, 'Ремонт водопровода на полном диске', current);
    expect(write.statusCode).toBe(503);
    expect(write.json().error).toBe('storage-full');

    const { payload, contentType } = multipart({ kind: 'meeting-minutes', expectedVersion: String(current) }, { name: 'протокол.pdf', bytes: samples.pdf('на полном диске'.repeat(50)), type: 'application/pdf' });
    const upload = await app.inject({ method: 'POST', url: `/api/applications/${f.id}/documents`, headers: { authorization: `Bearer ${f.bearer}`, 'content-type': contentType }, payload });
    expect(upload.statusCode).toBe(503);
    expect(upload.json().error).toBe('storage-full');
    const tmp = join(disk, 'documents', 'tmp');
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);

    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
    expect(f.world.eventCount()).toBe(before);

    unlinkSync(filler);
    expect((await update(app, f, 'Ремонт водопровода, место есть', current)).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    verifies(f.path);
  });
});

