import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/engine/errors.ts';
import { GroupCommit } from '../../src/engine/group-commit.ts';
import { buildApp } from '../../src/http/app.ts';
import { createApplication, sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { openSession } from '../../src/accounts/sessions.ts';
import { smallWorld, type SmallWorld } from './small-world.ts';

/**
 * Group commit (issue 18): the writes of one turn of the event loop share one transaction, each in
 * a savepoint of its own; a refusal rolls back only its own writes; a failed commit fails every
 * write of the batch and leaves the database as it was.
 */
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function world(name: string): SmallWorld {
  const dir = mkdtempSync(join(tmpdir(), `isu-ib-group-${name}-`));
  const w = smallWorld(join(dir, 'db.sqlite'), { synchronous: 'FULL' });
  cleanups.push(() => {
    w.db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return w;
}

/** How many batches the engine's group commit has committed. */
function commitsOf(w: SmallWorld): number {
  return w.engine.commits.stats.batches;
}

describe('the engine’s group commit', () => {
  it('commits the writes of one turn in one transaction, and a refused one writes nothing of its own', async () => {
    const w = world('refusal');
    const drafts = Array.from({ length: 8 }, (_, i) => w.draft(`Проект ${i}`));
    const versions = drafts.map((id) => w.db.$client.prepare<[number], { version: number }>('SELECT version FROM applications WHERE id = ?').get(id)!.version);
    const before = w.eventCount();
    const batchesBefore = commitsOf(w);
    const writes = drafts.map((id, i) =>
      // The fourth is sent at a version that is not the application's: a conflict.
      w.engine.write(() => sendApplicationEvent(w.engine, w.actors.applicant, id, 'update', { title: `Новое название ${i}` }, i === 3 ? versions[i]! - 1 : versions[i]!)),
    );
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((outcomes[3] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    expect(commitsOf(w) - batchesBefore).toBe(1);
    expect(w.engine.commits.stats.largest).toBe(8);
    expect(w.eventCount()).toBe(before + 7);
    const titles = drafts.map((id) => w.db.$client.prepare<[number], { title: string }>('SELECT title FROM applications WHERE id = ?').get(id)!.title);
    expect(titles[3]).toBe('Проект 3');
    expect(titles.filter((title, i) => i !== 3)).toEqual([0, 1, 2, 4, 5, 6, 7].map((i) => `Новое название ${i}`));
  });

  it('rolls back a refused write that had written part of itself, keeping the others of its batch', async () => {
    const w = world('partial');
    const a = w.draft('Первый');
    const b = w.draft('Второй');
    const version = (id: number) => w.engine.loadStream(`application-${id}`)!.version;
    const before = w.eventCount();
    const [first, second] = await Promise.allSettled([
      // An update that is written, then a submit in the same unit that the state does not take yet: both go.
      w.engine.write(() => {
        const updated = sendApplicationEvent(w.engine, w.actors.applicant, a, 'update', { title: 'Первый, исправлен' }, version(a));
        return sendApplicationEvent(w.engine, w.actors.applicant, a, 'start-review', {}, updated.version);
      }),
      w.engine.write(() => sendApplicationEvent(w.engine, w.actors.applicant, b, 'update', { title: 'Второй, исправлен' }, version(b))),
    ]);
    expect(first.status).toBe('rejected');
    expect(second.status).toBe('fulfilled');
    expect(w.eventCount()).toBe(before + 1);
    expect(w.engine.loadStream(`application-${a}`)!.version).toBe(1);
  });

  it('runs the writes of one batch in order: the second sees the first, and its stale version is a conflict', async () => {
    const w = world('order');
    const id = w.draft();
    const v = w.engine.loadStream(`application-${id}`)!.version;
    const outcomes = await Promise.allSettled([
      w.engine.write(() => sendApplicationEvent(w.engine, w.actors.applicant, id, 'update', { title: 'Раз' }, v)),
      w.engine.write(() => sendApplicationEvent(w.engine, w.actors.applicant, id, 'update', { title: 'Два' }, v)),
      w.engine.write(() => sendApplicationEvent(w.engine, w.actors.applicant, id, 'update', { title: 'Три' }, v + 1)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(w.engine.loadStream(`application-${id}`)!.version).toBe(v + 2);
  });

  it('fails every write of a batch whose commit fails, and leaves the database as it was', async () => {
    const w = world('commit');
    const drafts = Array.from({ length: 5 }, (_, i) => w.draft(`Проект ${i}`));
    let fail = true;
    const commits = new GroupCommit(w.db.$client, {
      beforeCommit: () => {
        if (fail) throw new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_FSYNC');
      },
    });
    const before = w.eventCount();
    const heads = drafts.map((id) => w.engine.loadStream(`application-${id}`)!.headHash);
    const send = () => drafts.map((id) => commits.run(() => sendApplicationEvent(w.engine, w.actors.applicant, id, 'update', { title: 'Не сохранится' }, w.engine.loadStream(`application-${id}`)!.version)));
    const outcomes = await Promise.allSettled(send());
    expect(outcomes.every((o) => o.status === 'rejected' && (o.reason as { code?: string }).code === 'SQLITE_IOERR_FSYNC')).toBe(true);
    expect(w.eventCount()).toBe(before);
    expect(drafts.map((id) => w.engine.loadStream(`application-${id}`)!.headHash)).toEqual(heads);
    expect(w.db.$client.inTransaction).toBe(false);
    fail = false;
    const again = await Promise.allSettled(send());
    expect(again.every((o) => o.status === 'fulfilled')).toBe(true);
    expect(w.eventCount()).toBe(before + 5);
  });

  it('keeps no more than its bound in one transaction', async () => {
    const w = world('bound');
    const commits = new GroupCommit(w.db.$client, { maxBatch: 3 });
    const drafts = Array.from({ length: 7 }, () => w.draft());
    await Promise.all(drafts.map((id) => commits.run(() => sendApplicationEvent(w.engine, w.actors.applicant, id, 'update', { beneficiaries: 5 }, w.engine.loadStream(`application-${id}`)!.version))));
    expect(commits.stats).toEqual({ batches: 3, units: 7, largest: 3 });
  });

  it('gives a write queued from inside a batch a batch of its own: the refusal of the one that queued it does not take it along', async () => {
    const w = world('reentrant');
    const commits = new GroupCommit(w.db.$client, { maxBatch: 1 });
    const [a, b] = [w.draft(), w.draft()];
    const version = (id: number) => w.engine.loadStream(`application-${id}`)!.version;
    let inner: Promise<unknown> | undefined;
    const outer = commits.run(() => {
      inner = commits.run(() => sendApplicationEvent(w.engine, w.actors.applicant, b, 'update', { title: 'Изнутри' }, version(b)));
      sendApplicationEvent(w.engine, w.actors.applicant, a, 'update', { title: 'Снаружи' }, version(a));
      throw new Error('the outer write is refused after it queued another');
    });
    await expect(outer).rejects.toThrow(/refused/);
    await expect(inner).resolves.toMatchObject({ version: 2 });
    // Acknowledged, so written: the inner write was not inside the outer one's rolled-back savepoint.
    expect([version(a), version(b)]).toEqual([1, 2]);
    expect(commits.stats).toEqual({ batches: 2, units: 2, largest: 1 });
  });

  it('refuses work that is not synchronous, as a transaction does', async () => {
    const w = world('async');
    await expect(w.engine.write(() => Promise.resolve(1))).rejects.toThrow(/promise/);
    expect(w.db.$client.inTransaction).toBe(false);
  });

  it('inside a caller’s own transaction, its units are savepoints of it', async () => {
    const w = world('nested');
    const id = w.draft();
    const before = w.eventCount();
    w.engine.transaction(() => {
      void w.engine.write(() => sendApplicationEvent(w.engine, w.actors.applicant, id, 'update', { title: 'Внутри' }, w.engine.loadStream(`application-${id}`)!.version));
      w.engine.commits.flush();
    });
    expect(w.eventCount()).toBe(before + 1);
  });
});

describe('group commit over HTTP', () => {
  async function appOver(w: SmallWorld, options: Parameters<typeof buildApp>[0]['groupCommit'] = {}) {
    const app = await buildApp({ db: w.db, rateLimitMax: 0, groupCommit: options });
    await app.ready();
    cleanups.push(() => void app.close());
    return { app, bearer: openSession(w.db, w.actors.applicant.id, 'bearer').token };
  }

  const update = (app: Awaited<ReturnType<typeof appOver>>['app'], bearer: string, id: number, version: number, title: string) =>
    app.inject({ method: 'POST', url: `/api/applications/${id}/events`, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, payload: JSON.stringify({ type: 'update', expectedVersion: version, title }) });

  it('answers each request of a batch by its own outcome: one stale request 409 with the fresh state, the others 200', async () => {
    const w = world('http');
    const { app, bearer } = await appOver(w);
    const drafts = Array.from({ length: 12 }, () => w.draft());
    const before = w.eventCount();
    const responses = await Promise.all(drafts.map((id, i) => update(app, bearer, id, i === 5 ? 7 : w.engine.loadStream(`application-${id}`)!.version, `Запрос ${i}`)));
    expect(responses.map((r) => r.statusCode)).toEqual(drafts.map((_, i) => (i === 5 ? 409 : 200)));
    expect(responses[5]!.json()).toMatchObject({ error: 'conflict', current: { state: 'draft', version: 1 } });
    expect(w.eventCount()).toBe(before + 11);
    // They arrived together, and shared transactions: fewer commits than requests.
    expect(app.engine.commits.stats.units).toBe(12);
    expect(app.engine.commits.stats.batches).toBeLessThan(12);
  });

  it('answers every request of a batch whose commit fails 503, in words, and saves none of them', async () => {
    const w = world('http-fault');
    let fail = true;
    const { app, bearer } = await appOver(w, {
      beforeCommit: () => {
        if (fail) throw new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_FSYNC');
      },
    });
    const drafts = Array.from({ length: 6 }, () => w.draft());
    const before = w.eventCount();
    const responses = await Promise.all(drafts.map((id) => update(app, bearer, id, 1, 'Не сохранится')));
    expect(responses.map((r) => r.statusCode)).toEqual(drafts.map(() => 503));
    expect(responses[0]!.json()).toEqual({ error: 'storage-io', message: expect.stringContaining('ошибка ввода-вывода') });
    expect(w.eventCount()).toBe(before);
    expect(drafts.map((id) => w.engine.loadStream(`application-${id}`)!.version)).toEqual(drafts.map(() => 1));
    fail = false;
    const retried = await Promise.all(drafts.map((id) => update(app, bearer, id, 1, 'Сохранится')));
    expect(retried.map((r) => r.statusCode)).toEqual(drafts.map(() => 200));
    expect(w.eventCount()).toBe(before + 6);
  });

  it('creates applications in a batch with distinct ids', async () => {
    const w = world('create');
    const { app, bearer } = await appOver(w);
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        app.inject({ method: 'POST', url: '/api/applications', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, payload: JSON.stringify({ programmeId: w.programmeId, title: `Новая ${i}` }) }),
      ),
    );
    expect(responses.map((r) => r.statusCode), responses[0]!.body).toEqual(Array(10).fill(201));
    const ids = responses.map((r) => (r.json() as { id: number }).id);
    expect(new Set(ids).size).toBe(10);
    // The same command outside HTTP still writes at once.
    const direct = createApplication(w.engine, w.actors.applicant, { programmeId: w.programmeId, form: { title: 'Сразу' } });
    expect(ids).not.toContain(direct.id);
  });

  it('refuses what the engine refuses, in a batch as alone', async () => {
    const w = world('refused');
    const { app, bearer } = await appOver(w);
    const id = w.draft();
    const responses = await Promise.all([
      app.inject({ method: 'POST', url: `/api/applications/${id}/events`, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, payload: JSON.stringify({ type: 'accept', expectedVersion: 1 }) }),
      update(app, bearer, id, 1, 'Принято'),
    ]);
    expect(responses.map((r) => r.statusCode)).toEqual([403, 200]);
  });
});
