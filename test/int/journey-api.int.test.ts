import { applicationMachineVersion } from '../../machines/application.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '../../src/engine/ledger.ts';
import { CURRENT_PROGRAMME, api, completeForm, eventCount, startApp, token, type TestApp } from './http-helpers.ts';

/** The same journey as the HTML one, through the JSON API with bearer tokens (DESIGN §6). */

let t: TestApp;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  t = await startApp({ documentRequirements: false });
  for (const user of ['applicant1', 'applicant2', 'reviewer1', 'auditor1', 'commission1']) tokens[user] = await token(t.app, user);
});

afterAll(async () => {
  await t.close();
});

const as = (user: string) => tokens[user]!;

async function read(user: string, id: number) {
  const response = await api(t.app, as(user), 'GET', `/api/applications/${id}`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as { id: number; state: string; version: number; data: Record<string, any>; remarks: unknown[]; allowedEvents: string[] };
}

async function send(user: string, id: number, type: string, expectedVersion: number, payload: Record<string, unknown> = {}) {
  const response = await api(t.app, as(user), 'POST', `/api/applications/${id}/events`, { type, expectedVersion, ...payload });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as { id: number; state: string; version: number };
}

describe('sessions and the open endpoints', () => {
  it('answers /healthz with 200', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true });
  });

  it('gives a token and the user for good credentials, 401 for bad ones', async () => {
    const good = await api(t.app, null, 'POST', '/api/session', { login: 'reviewer1', password: 'demo' });
    expect(good.status).toBe(200);
    expect(typeof good.body.token).toBe('string');
    expect(good.body.user).toMatchObject({ login: 'reviewer1', role: 'reviewer' });
    expect(good.body.user).not.toHaveProperty('passwordHash');
    const bad = await api(t.app, null, 'POST', '/api/session', { login: 'reviewer1', password: 'wrong' });
    expect(bad.status).toBe(401);
    expect(bad.body).toMatchObject({ error: 'unauthorized' });
    expect(bad.body).not.toHaveProperty('token');
  });

  it('answers 401 without a token, with a bad one, and with a session cookie instead of a token', async () => {
    for (const [method, url] of [
      ['GET', '/api/applications'],
      ['GET', '/api/applications/1'],
      ['GET', '/api/programmes'],
      ['GET', '/api/audit/verify'],
      ['GET', '/api/applications/1/history'],
    ] as const) {
      const anonymous = await api(t.app, null, method, url);
      expect(anonymous.status, url).toBe(401);
      expect(anonymous.body).toMatchObject({ error: 'unauthorized' });
      const forged = await api(t.app, 'x'.repeat(43), method, url);
      expect(forged.status, url).toBe(401);
    }
    const post = await api(t.app, null, 'POST', '/api/applications', { programmeId: CURRENT_PROGRAMME, ...completeForm() });
    expect(post.status).toBe(401);
    const withCookie = await t.app.inject({ method: 'GET', url: '/api/programmes', headers: { cookie: `sid=${as('applicant1')}` } });
    expect(withCookie.statusCode).toBe(401);
  });

  it('lists the programmes', async () => {
    const response = await api(t.app, as('applicant1'), 'GET', '/api/programmes');
    expect(response.status).toBe(200);
    expect(Array.isArray(response.body)).toBe(true);
    const ids = (response.body as { id: number; year: number }[]).map((p) => p.id).sort();
    expect(ids).toEqual([1, 2]);
    const current = (response.body as { id: number; year: number }[]).find((p) => p.id === CURRENT_PROGRAMME)!;
    expect(current.year).toBe(new Date().getUTCFullYear());
    const one = await api(t.app, as('auditor1'), 'GET', `/api/programmes/${CURRENT_PROGRAMME}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: CURRENT_PROGRAMME });
    expect((await api(t.app, as('auditor1'), 'GET', '/api/programmes/999')).status).toBe(404);
  });
});

describe('the application journey through the API', () => {
  let id: number;
  let version: number;

  it('creates a draft for the applicant’s municipality (201)', async () => {
    const { costs, ...rest } = completeForm();
    const response = await api(t.app, as('applicant1'), 'POST', '/api/applications', {
      programmeId: CURRENT_PROGRAMME,
      ...rest,
      costs: { subsidy: costs.subsidy, localBudget: costs.localBudget },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body).toMatchObject({ state: 'draft', version: 1 });
    expect(response.headers.etag).toBe('"1"');
    id = response.body.id;
    version = response.body.version;

    const mine = await read('applicant1', id);
    expect(mine.state).toBe('draft');
    expect(mine.data.costs).toEqual({ subsidy: costs.subsidy, localBudget: costs.localBudget });
  });

  it('shows each user the events they may send now', async () => {
    expect((await read('applicant1', id)).allowedEvents.sort()).toEqual(['submit', 'update', 'withdraw']);
    expect((await read('reviewer1', id)).allowedEvents).toEqual([]);
    expect((await read('auditor1', id)).allowedEvents).toEqual([]);
    expect((await read('commission1', id)).allowedEvents).toEqual([]);
  });

  it('takes an update with the changed fields in the same shape', async () => {
    const applied = await send('applicant1', id, 'update', version, { costs: { residents: 5_000_000, business: 2_000_000 } });
    expect(applied).toMatchObject({ state: 'draft', version: version + 1 });
    version = applied.version;
    const mine = await read('applicant1', id);
    expect(mine.data.costs).toEqual(completeForm().costs);
    expect(mine.data.title).toBe(completeForm().title);
  });

  it('submits, and the reviewer sees start-review', async () => {
    version = (await send('applicant1', id, 'submit', version)).version;
    const reviewerView = await read('reviewer1', id);
    expect(reviewerView.state).toBe('submitted');
    expect(reviewerView.allowedEvents).toEqual(['start-review']);
    expect((await read('applicant1', id)).allowedEvents).toEqual(['withdraw']);
    expect((await read('auditor1', id)).allowedEvents).toEqual([]);
  });

  it('returns for revision with a general and a per-field remark', async () => {
    version = (await send('reviewer1', id, 'start-review', version)).version;
    const underReview = await read('reviewer1', id);
    expect(underReview.state).toBe('under-review');
    expect(underReview.allowedEvents.sort()).toEqual(['accept', 'reject', 'return-for-revision']);

    const remarks = [
      { field: 'general', text: 'Приложите протокол итогового собрания.' },
      { field: 'costs.residents', text: 'Вклад жителей не подтверждён ведомостью.' },
    ];
    const applied = await send('reviewer1', id, 'return-for-revision', version, { remarks });
    expect(applied.state).toBe('returned');
    version = applied.version;
    const mine = await read('applicant1', id);
    expect(mine.remarks).toEqual(remarks);
    expect(mine.allowedEvents.sort()).toEqual(['submit', 'update', 'withdraw']);
  });

  it('takes the revision and the resubmission, which clears the remarks', async () => {
    version = (await send('applicant1', id, 'update', version, { costs: { residents: 6_000_000 } })).version;
    const resubmitted = await send('applicant1', id, 'submit', version);
    expect(resubmitted.state).toBe('submitted');
    version = resubmitted.version;
    expect((await read('applicant1', id)).remarks).toEqual([]);
  });

  it('is accepted after a second review', async () => {
    version = (await send('reviewer1', id, 'start-review', version)).version;
    const accepted = await send('reviewer1', id, 'accept', version, { comment: 'Документы в порядке.' });
    expect(accepted).toEqual({ id, state: 'accepted', version: 9 });
    version = accepted.version;
    const final = await read('auditor1', id);
    expect(final).toMatchObject({ state: 'accepted', version: 9 });
    expect(final.data.costs.residents).toBe(6_000_000);
    expect(final.allowedEvents).toEqual([]);
  });

  it('takes the version from If-Match as well as from the body', async () => {
    const other = await api(t.app, as('applicant1'), 'POST', '/api/applications', { programmeId: CURRENT_PROGRAMME, title: 'Уличное освещение' });
    expect(other.status).toBe(201);
    const viaHeader = await api(t.app, as('applicant1'), 'POST', `/api/applications/${other.body.id}/events`, { type: 'update', settlement: 'д. Пироги' }, { 'if-match': '"1"' });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body.version).toBe(2);
    expect(viaHeader.headers.etag).toBe('"2"');
    const stale = await api(t.app, as('applicant1'), 'POST', `/api/applications/${other.body.id}/events`, { type: 'update', settlement: 'д. Пироги' }, { 'if-match': '"1"' });
    expect(stale.status).toBe(409);
  });

  it('gives the whole history, each event chained to the one before', async () => {
    const response = await api(t.app, as('auditor1'), 'GET', `/api/applications/${id}/history`);
    expect(response.status).toBe(200);
    const history = response.body as Record<string, any>[];
    expect(history.map((e) => e.type)).toEqual([
      'create',
      'update',
      'submit',
      'start-review',
      'return-for-revision',
      'update',
      'submit',
      'start-review',
      'accept',
    ]);
    expect(history.map((e) => e.to)).toEqual(['draft', 'draft', 'submitted', 'under-review', 'returned', 'returned', 'submitted', 'under-review', 'accepted']);
    history.forEach((event, index) => {
      for (const key of ['seq', 'type', 'payload', 'actor', 'at', 'from', 'to', 'machineVersion', 'prevHash', 'hash']) expect(event, `${index}: ${key}`).toHaveProperty(key);
      expect(event.seq).toBe(index + 1);
      expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(event.prevHash).toBe(index === 0 ? GENESIS_HASH : history[index - 1]!.hash);
      expect(event.from).toBe(index === 0 ? null : history[index - 1]!.to);
      expect(Number.isNaN(Date.parse(event.at))).toBe(false);
      // A new application is written with the current version of its machine.
      expect(event.machineVersion).toBe(applicationMachineVersion);
    });
    expect(history[0]!.actor).toMatchObject({ login: 'applicant1', role: 'applicant' });
    expect(history[0]!.actor).not.toHaveProperty('passwordHash');
    expect(history[3]!.actor).toMatchObject({ login: 'reviewer1', role: 'reviewer' });
    expect(history[4]!.payload).toEqual({
      remarks: [
        { field: 'general', text: 'Приложите протокол итогового собрания.' },
        { field: 'costs.residents', text: 'Вклад жителей не подтверждён ведомостью.' },
      ],
    });
    expect(history[5]!.payload).toEqual({ costs: { residents: 6_000_000 } });
    // The applicant reads the same history of their own application.
    const own = await api(t.app, as('applicant1'), 'GET', `/api/applications/${id}/history`);
    expect(own.body).toEqual(history);
  });

  it('replays the state and the form as they were after each event', async () => {
    const afterCreate = await api(t.app, as('auditor1'), 'GET', `/api/applications/${id}/replay?seq=1`);
    expect(afterCreate.status).toBe(200);
    expect(afterCreate.body).toMatchObject({ seq: 1, state: 'draft', matches: true, ok: true, events: 9 });
    expect(afterCreate.body.data.costs).toEqual({ subsidy: 90_000_000, localBudget: 10_000_000 });

    const afterReturn = await api(t.app, as('auditor1'), 'GET', `/api/applications/${id}/replay?seq=5`);
    expect(afterReturn.body).toMatchObject({ seq: 5, type: 'return-for-revision', state: 'returned', storedState: 'returned', matches: true });
    expect(afterReturn.body.data.costs.residents).toBe(5_000_000);
    expect(afterReturn.body.context.remarks).toHaveLength(2);

    const afterRevision = await api(t.app, as('auditor1'), 'GET', `/api/applications/${id}/replay?seq=6`);
    expect(afterRevision.body).toMatchObject({ state: 'returned', matches: true });
    expect(afterRevision.body.data.costs.residents).toBe(6_000_000);

    const latest = await api(t.app, as('auditor1'), 'GET', `/api/applications/${id}/replay`);
    expect(latest.body).toMatchObject({ seq: 9, state: 'accepted', matches: true, ok: true, problems: [] });

    for (const seq of ['0', '10', 'abc', '1.5', '-1']) {
      const bad = await api(t.app, as('auditor1'), 'GET', `/api/applications/${id}/replay?seq=${seq}`);
      expect(bad.status, seq).toBe(422);
    }
  });

  it('lists the application with the filters', async () => {
    const response = await api(t.app, as('reviewer1'), 'GET', `/api/applications?programmeId=${CURRENT_PROGRAMME}&state=accepted`);
    expect(response.status).toBe(200);
    const rows = response.body as { id: number; state: string; programmeId: number }[];
    expect(rows.some((row) => row.id === id)).toBe(true);
    expect(rows.every((row) => row.state === 'accepted' && row.programmeId === CURRENT_PROGRAMME)).toBe(true);
    // applicant2 works for another municipality and does not see it.
    const others = await api(t.app, as('applicant2'), 'GET', '/api/applications');
    expect((others.body as { id: number }[]).some((row) => row.id === id)).toBe(false);
  });
});

describe('the audit', () => {
  it('verifies the whole ledger for the auditor', async () => {
    const response = await api(t.app, as('auditor1'), 'GET', '/api/audit/verify');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: true, problems: [] });
    expect(response.body.events).toBe(eventCount(t.db));
    expect(response.body.streams).toBeGreaterThan(0);
    expect(typeof response.body.head).toBe('string');
  });

  it('refuses the verification to an applicant (403)', async () => {
    const response = await api(t.app, as('applicant1'), 'GET', '/api/audit/verify');
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ error: 'forbidden' });
    expect(response.body).not.toHaveProperty('head');
    expect((await api(t.app, as('reviewer1'), 'GET', '/api/audit/verify')).status).toBe(403);
  });
});
