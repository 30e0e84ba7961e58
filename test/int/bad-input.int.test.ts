import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicationEventTypes } from '../../machines/application.ts';
import {
  CURRENT_PROGRAMME,
  api,
  completeForm,
  completeHtmlForm,
  expectedVersionOf,
  login,
  startApp,
  storedApplication,
  token,
  type ApiResponse,
  Browser,
  type TestApp,
} from './http-helpers.ts';

/**
 * Every bad input gets a 4xx with `{error, message}` — never a 500 — and changes nothing: the
 * event log, the streams and the list projection are the same before and after.
 */

let t: TestApp;
const tokens: Record<string, string> = {};
const as = (user: string) => tokens[user]!;
/** applicant1's draft, complete, at version 1. */
let draft: number;
/** applicant1's application under review by reviewer1. */
let reviewed: number;
let reviewedVersion: number;

const ONE_MB = 'x'.repeat(1024 * 1024);

beforeAll(async () => {
  t = await startApp({ documentRequirements: false });
  for (const user of ['applicant1', 'applicant2', 'reviewer1', 'auditor1', 'commission1', 'coordinator1', 'admin1']) tokens[user] = await token(t.app, user);
  const created = await api(t.app, as('applicant1'), 'POST', '/api/applications', { programmeId: CURRENT_PROGRAMME, ...completeForm() });
  expect(created.status).toBe(201);
  draft = created.body.id;
  const other = await api(t.app, as('applicant1'), 'POST', '/api/applications', { programmeId: CURRENT_PROGRAMME, ...completeForm() });
  reviewed = other.body.id;
  let version = other.body.version as number;
  for (const [user, type] of [
    ['applicant1', 'submit'],
    ['reviewer1', 'start-review'],
  ] as const) {
    const applied = await api(t.app, as(user), 'POST', `/api/applications/${reviewed}/events`, { type, expectedVersion: version });
    expect(applied.status).toBe(200);
    version = applied.body.version;
  }
  reviewedVersion = version;
});

afterAll(async () => {
  await t.close();
});

/** Everything a request could have changed: the log, the projection, every stream's version and snapshot. */
function everything() {
  const sqlite = t.db.$client;
  return {
    events: sqlite.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()!.n,
    applications: sqlite.prepare<[], { n: number; v: number }>('SELECT count(*) AS n, sum(version) AS v FROM applications').get(),
    streams: sqlite.prepare<[], { h: string }>("SELECT group_concat(id || ':' || version || ':' || head_hash, ',') AS h FROM streams").get()!.h,
    draft: storedApplication(t.db, draft),
    reviewed: storedApplication(t.db, reviewed),
  };
}

/** Runs a bad request, checks its status and error body, and that nothing changed. */
async function refused(status: number | number[], request: () => Promise<ApiResponse>): Promise<ApiResponse> {
  const before = everything();
  const response = await request();
  const allowed = Array.isArray(status) ? status : [status];
  expect(allowed, `status ${response.status}: ${JSON.stringify(response.body).slice(0, 300)}`).toContain(response.status);
  expect(typeof response.body, 'a JSON error body').toBe('object');
  expect(response.body).toHaveProperty('error');
  expect(typeof response.body.message).toBe('string');
  expect(everything()).toEqual(before);
  return response;
}

const create = (body: unknown, user = 'applicant1') => () => api(t.app, as(user), 'POST', '/api/applications', body);
const event = (id: number, body: unknown, user = 'applicant1', headers: Record<string, string> = {}) => () =>
  api(t.app, as(user), 'POST', `/api/applications/${id}/events`, body, headers);
const update = (payload: Record<string, unknown>) => event(draft, { type: 'update', expectedVersion: 1, ...payload });

describe('creating an application with bad input', () => {
  it('refuses missing fields', async () => {
    const { programmeId: _omitted, ...withoutProgramme } = { programmeId: CURRENT_PROGRAMME, ...completeForm() };
    const response = await refused(422, create(withoutProgramme));
    expect(response.body.problems).toContainEqual(expect.objectContaining({ field: 'programmeId' }));
    await refused(422, create({}));
  });

  it('refuses wrong types, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ title: 5 }, 'title'],
      [{ population: 'many' }, 'population'],
      [{ costs: 'x' }, 'costs'],
      [{ costs: { subsidy: '100' } }, 'costs.subsidy'],
      [{ costs: { subsidy: 1.5 } }, 'costs.subsidy'],
      [{ costs: { subsidy: 1e300 } }, 'costs.subsidy'],
      [{ durationMonths: null }, 'durationMonths'],
      [{ projectType: 'castle' }, 'projectType'],
      [{ title: ['a', 'b'] }, 'title'],
      [{ title: { ru: 'Дорога' } }, 'title'],
      [{ population: true }, 'population'],
    ];
    for (const [change, field] of cases) {
      const response = await refused(422, create({ programmeId: CURRENT_PROGRAMME, ...completeForm(), ...change }));
      expect(response.body.problems, JSON.stringify(change)).toContainEqual(expect.objectContaining({ field }));
    }
    for (const programmeId of ['2', 2.5, -1, 999_999, null, [2]]) await refused(422, create({ ...completeForm(), programmeId }));
  });

  it('refuses negative money', async () => {
    for (const key of ['subsidy', 'localBudget', 'residents', 'business']) {
      const response = await refused(422, create({ programmeId: CURRENT_PROGRAMME, ...completeForm(), costs: { ...completeForm().costs, [key]: -100 } }));
      expect(response.body.problems).toContainEqual(expect.objectContaining({ field: `costs.${key}` }));
    }
    await refused(422, create({ programmeId: CURRENT_PROGRAMME, nonMonetary: { labour: -1 } }));
  });

  it('refuses unknown extra fields, at the top and inside costs', async () => {
    await refused(422, create({ programmeId: CURRENT_PROGRAMME, ...completeForm(), colour: 'red' }));
    await refused(422, create({ programmeId: CURRENT_PROGRAMME, ...completeForm(), costs: { ...completeForm().costs, gold: 1 } }));
    await refused(422, create({ programmeId: CURRENT_PROGRAMME, municipalityId: 1, title: 'Чужой район' }));
    await refused(422, create({ programmeId: CURRENT_PROGRAMME, state: 'accepted', title: 'Сразу допущена' }));
  });

  it('refuses a 1 MB string (413) and a long one under the body limit (422)', async () => {
    await refused([413, 422], create({ programmeId: CURRENT_PROGRAMME, title: ONE_MB }));
    await refused(422, create({ programmeId: CURRENT_PROGRAMME, title: 'x'.repeat(200_000) }));
    await refused(422, create({ programmeId: CURRENT_PROGRAMME, problem: 'x'.repeat(5001) }));
  });

  it('refuses bodies that are not JSON objects, and malformed JSON', async () => {
    for (const body of ['[]', '"a string"', 'null', '5', 'true', '[{"title":"x"}]']) await refused([400, 422], create(body));
    for (const body of ['{"title":', '{title: "x"}', "{'a':1}", '{"a":1}}', '']) await refused(400, create(body));
    await refused(400, create('{"__proto__":{"admin":true},"programmeId":2}'));
    // text/plain arrives as a string (422); a type fastify has no parser for is 415.
    await refused([415, 422], () => api(t.app, as('applicant1'), 'POST', '/api/applications', 'title=x', { 'content-type': 'text/plain' }));
    await refused(415, () => api(t.app, as('applicant1'), 'POST', '/api/applications', '<title/>', { 'content-type': 'application/xml' }));
  });

  it('refuses other roles (403)', async () => {
    for (const user of ['reviewer1', 'auditor1', 'commission1', 'coordinator1', 'admin1']) {
      await refused(403, create({ programmeId: CURRENT_PROGRAMME, ...completeForm() }, user));
    }
  });
});

describe('sending events with bad input', () => {
  it('refuses a missing or malformed type', async () => {
    await refused(422, event(draft, { expectedVersion: 1 }));
    for (const type of [5, null, ['update'], { type: 'update' }, '', 'x'.repeat(65)]) await refused(422, event(draft, { type, expectedVersion: 1 }));
  });

  it('refuses unknown event types, including names that objects inherit', async () => {
    for (const type of ['explode', 'UPDATE', 'create', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']) {
      await refused(422, event(draft, { type, expectedVersion: 1 }));
      // An auditor may send no event at all: the authorisation table refuses the route before the type is read.
      await refused(403, event(draft, { type, expectedVersion: 1 }, 'auditor1'));
    }
  });

  it('refuses a missing or malformed expectedVersion', async () => {
    for (const expectedVersion of [undefined, 'abc', -1, 0, 1.5, [], {}, null, '1; DROP TABLE events']) {
      await refused(422, event(draft, { type: 'update', expectedVersion, title: 'Новое' }));
    }
    await refused(422, event(draft, { type: 'update', title: 'Новое' }, 'applicant1', { 'if-match': 'garbage' }));
  });

  it('refuses a stale expectedVersion with 409 and the current state and version', async () => {
    const response = await refused(409, event(reviewed, { type: 'accept', expectedVersion: reviewedVersion - 1 }, 'reviewer1'));
    expect(response.body).toMatchObject({ error: 'conflict', current: { state: 'under-review', version: reviewedVersion } });
    const ahead = await refused(409, event(draft, { type: 'update', expectedVersion: 99, title: 'Новое' }));
    expect(ahead.body.current).toEqual({ state: 'draft', version: 1 });
  });

  it('refuses bad update payloads: wrong types, negative money, unknown fields', async () => {
    for (const payload of [
      { title: 5 },
      { population: 'many' },
      { costs: 'x' },
      { costs: { subsidy: -1 } },
      { costs: { residents: -0.5 } },
      { nonMonetary: { materials: -100 } },
      { colour: 'red' },
      { costs: { gold: 1 } },
      { state: 'accepted' },
      { title: '' },
      { title: '   ' },
      { durationMonths: 0 },
      { durationMonths: 61 },
      { population: 0 },
    ]) {
      await refused(422, update(payload));
    }
    await refused([413, 422], update({ description: ONE_MB }));
  });

  it('refuses bad payloads of the reviewer’s events', async () => {
    const send = (payload: Record<string, unknown>) => event(reviewed, { expectedVersion: reviewedVersion, ...payload }, 'reviewer1');
    await refused(422, send({ type: 'return-for-revision' }));
    await refused(422, send({ type: 'return-for-revision', remarks: [] }));
    await refused(422, send({ type: 'return-for-revision', remarks: '   ' }));
    await refused(422, send({ type: 'return-for-revision', remarks: [{ field: 'nope', text: 'x' }] }));
    await refused(422, send({ type: 'return-for-revision', remarks: [{ field: 'title', text: '' }] }));
    await refused(422, send({ type: 'return-for-revision', remarks: 5 }));
    await refused(422, send({ type: 'reject' }));
    await refused(422, send({ type: 'reject', reason: '' }));
    await refused(422, send({ type: 'accept', comment: 5 }));
    await refused(422, send({ type: 'accept', extra: true }));
  });

  it('refuses an event the state does not take (422)', async () => {
    const response = await refused(422, event(reviewed, { type: 'submit', expectedVersion: reviewedVersion }));
    expect(response.body.error).toBe('not-allowed');
    await refused(422, event(draft, { type: 'start-review', expectedVersion: 1 }, 'reviewer1'));
  });

  it('refuses bodies that are not JSON objects, and malformed JSON', async () => {
    for (const body of ['[]', '"update"', 'null', '1', '[{"type":"update","expectedVersion":1}]']) await refused([400, 422], event(draft, body));
    for (const body of ['{"type":"update",', 'type=update', '{"type":"update"}{}']) await refused(400, event(draft, body));
    await refused(400, event(draft, '{"type":"update","expectedVersion":1,"__proto__":{"title":"x"}}'));
    await refused(400, event(draft, '{"type":"update","expectedVersion":1,"constructor":{"prototype":{"x":1}}}'));
  });
});

describe('text with characters nobody types (issue 17)', () => {
  const bad = ['\u0000', '\u0007', '\u001b[31m', '\u007f', '\u0085', '\ufffe', '\uffff', '\ufdd0', '\ufdef', '\u{1fffe}', '\u{10ffff}', '\ud800', '\udfff'];

  it('are refused in every text of the form and of the events, with the problem named, writing nothing', async () => {
    for (const char of bad) {
      for (const field of ['title', 'settlement', 'problem', 'description']) {
        const response = await refused(422, update({ [field]: `Текст ${char} текст` }));
        expect(response.body.problems, `${field} ${JSON.stringify(char)}`).toEqual([expect.objectContaining({ field, code: 'text-characters' })]);
      }
    }
    // A line feed is no text on one line; in a multi-line text it is.
    await refused(422, update({ title: 'Ремонт\nдороги' }));
    await refused(422, update({ settlement: 'с.\tЗавьялово' }));
    const send = (payload: Record<string, unknown>) => event(reviewed, { expectedVersion: reviewedVersion, ...payload }, 'reviewer1');
    for (const char of ['\u0007', '\ufffe', '\ud800']) {
      await refused(422, send({ type: 'reject', reason: `Причина ${char}` }));
      await refused(422, send({ type: 'accept', comment: `Комментарий ${char}` }));
      await refused(422, send({ type: 'return-for-revision', remarks: [{ field: 'title', text: `Замечание ${char}` }] }));
      await refused(422, send({ type: 'return-for-revision', remarks: `Замечание ${char}` }));
    }
  });

  it('are refused on the page form beside the field, in the catalogue’s words', async () => {
    const browser = await login(t.app, 'applicant1');
    const version = expectedVersionOf((await browser.get(`/applications/${draft}`)).body);
    const before = everything();
    await browser.get(`/applications/${draft}/edit`);
    const response = await browser.post(`/applications/${draft}/edit`, { ...completeHtmlForm(), title: 'Ремонт\ufffe водопровода', expectedVersion: version });
    expect(response.statusCode).toBe(422);
    const error = /id="f-title-error"[^>]*>([^<]*)</.exec(response.body)?.[1];
    expect(error).toContain('управляющие или недопустимые символы');
    expect(everything()).toEqual(before);
  });

  it('leave line breaks and tabs in a multi-line text, and every real letter and emoji anywhere', async () => {
    const created = await api(t.app, as('applicant1'), 'POST', '/api/applications', { programmeId: CURRENT_PROGRAMME, ...completeForm(), title: 'Спортплощадка «Ёлочка» 😀 — 2-й этап' });
    expect(created.status).toBe(201);
    const description = 'Первая строка.\r\nВторая строка:\n\t— отсыпка щебнем;\n\t— асфальт.';
    const updated = await api(t.app, as('applicant1'), 'POST', `/api/applications/${created.body.id}/events`, { type: 'update', expectedVersion: created.body.version, description });
    expect(updated.status).toBe(200);
    const read = await api(t.app, as('applicant1'), 'GET', `/api/applications/${created.body.id}`);
    expect(read.body.data).toMatchObject({ title: 'Спортплощадка «Ёлочка» 😀 — 2-й этап', description });
  });
});

describe('bad ids', () => {
  it('answers 404 for ids that are not there or not ids', async () => {
    for (const id of ['abc', '999999', '0', '-1', '1.5', '1e3', '0x10', '%20', '9'.repeat(16), '9'.repeat(300), draft + '%00']) {
      for (const suffix of ['', '/history', '/replay?seq=1']) {
        // A path parameter longer than the router takes is refused by fastify itself (414).
        await refused([404, 414], () => api(t.app, as('auditor1'), 'GET', `/api/applications/${id}${suffix}`));
      }
      await refused([404, 414], event(id as unknown as number, { type: 'update', expectedVersion: 1, title: 'x' }));
    }
  });

  it('answers the pages’ bad ids with a 404 page', async () => {
    const browser = await login(t.app, 'applicant1');
    for (const url of ['/applications/-1', '/applications/abc', '/applications/999999', '/applications/0/edit', '/applications/1.5']) {
      const response = await browser.get(url);
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
    }
    await browser.get(`/applications/${draft}`);
    const before = everything();
    const post = await browser.post('/applications/-1/events', { type: 'withdraw', expectedVersion: '1', reason: 'x' });
    expect(post.statusCode).toBe(404);
    expect(everything()).toEqual(before);
  });
});

describe('another municipality’s application', () => {
  it('is not found for applicant2, whatever they ask (404, not 403)', async () => {
    const missing = await api(t.app, as('applicant2'), 'GET', '/api/applications/999999');
    for (const suffix of ['', '/history', '/replay?seq=1']) {
      const response = await refused(404, () => api(t.app, as('applicant2'), 'GET', `/api/applications/${draft}${suffix}`));
      expect(response.body.error).toBe(missing.body.error);
      expect(JSON.stringify(response.body)).not.toContain('Ремонт водопровода');
    }
    // Every event, with a right or a wrong version, a known or an unknown type: the same 404.
    for (const body of [
      { type: 'update', expectedVersion: 1, title: 'Захват' },
      { type: 'withdraw', expectedVersion: 1, reason: 'Чужая заявка' },
      { type: 'submit', expectedVersion: 1 },
      { type: 'submit', expectedVersion: 42 },
      { type: 'explode', expectedVersion: 1 },
      { type: 'accept', expectedVersion: 1 },
    ]) {
      await refused(404, event(draft, body, 'applicant2'));
    }
    const list = await api(t.app, as('applicant2'), 'GET', '/api/applications?q=' + encodeURIComponent('ремонт водопровода'));
    expect((list.body as { id: number }[]).some((row) => row.id === draft || row.id === reviewed)).toBe(false);
  });

  it('is not found on the pages either', async () => {
    const browser = await login(t.app, 'applicant2');
    for (const url of [`/applications/${draft}`, `/applications/${draft}/edit`]) {
      const response = await browser.get(url);
      expect(response.statusCode, url).toBe(404);
      expect(response.body).not.toContain('Ремонт водопровода');
    }
    await browser.get('/applications');
    const before = everything();
    const post = await browser.post(`/applications/${draft}/events`, { type: 'withdraw', expectedVersion: '1', reason: 'Чужая заявка' });
    expect(post.statusCode).toBe(404);
    const edit = await browser.post(`/applications/${draft}/edit`, { ...completeHtmlForm(), title: 'Захват', expectedVersion: '1' });
    expect(edit.statusCode).toBe(404);
    expect(everything()).toEqual(before);
  });
});

describe('roles', () => {
  it('refuses the reviewer the applicant’s events (403)', async () => {
    for (const body of [
      { type: 'update', expectedVersion: 1, title: 'Правка проверяющего' },
      { type: 'submit', expectedVersion: 1 },
      { type: 'withdraw', expectedVersion: 1, reason: 'Сам отзываю' },
    ]) {
      const response = await refused(403, event(draft, body, 'reviewer1'));
      expect(response.body.error).toBe('forbidden');
    }
  });

  it('refuses the applicant the reviewer’s events (403)', async () => {
    for (const type of ['accept', 'reject', 'return-for-revision']) {
      await refused(403, event(reviewed, { type, expectedVersion: reviewedVersion, reason: 'x', remarks: 'x' }));
    }
  });

  it('refuses the auditor every event (403)', async () => {
    for (const id of [draft, reviewed]) {
      const version = id === draft ? 1 : reviewedVersion;
      for (const type of applicationEventTypes) {
        const response = await refused(403, event(id, { type, expectedVersion: version }, 'auditor1'));
        expect(response.body.error, type).toBe('forbidden');
      }
    }
  });

  it('refuses the auditor and the reviewer the page forms too (403), CSRF token and all', async () => {
    const auditor = await login(t.app, 'auditor1');
    const page = await auditor.get(`/applications/${reviewed}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('name="type"');
    const before = everything();
    for (const type of ['accept', 'update', 'withdraw']) {
      const response = await auditor.post(`/applications/${reviewed}/events`, { type, expectedVersion: String(reviewedVersion), reason: 'x' });
      expect(response.statusCode, type).toBe(403);
    }
    const reviewer: Browser = await login(t.app, 'reviewer1');
    await reviewer.get(`/applications/${draft}`);
    const edit = await reviewer.post(`/applications/${draft}/edit`, { title: 'Правка проверяющего', expectedVersion: '1' });
    expect(edit.statusCode).toBe(403);
    expect(everything()).toEqual(before);
  });
});

describe('bad input through the page forms', () => {
  let browser: Browser;
  let version: string;

  beforeAll(async () => {
    browser = await login(t.app, 'applicant1');
    version = expectedVersionOf((await browser.get(`/applications/${draft}`)).body);
  });

  it('refuses unknown event types, including inherited names, with 422', async () => {
    const before = everything();
    for (const type of ['explode', 'constructor', '__proto__', 'toString', '']) {
      await browser.get(`/applications/${draft}`);
      const response = await browser.post(`/applications/${draft}/events`, { type, expectedVersion: version });
      expect(response.statusCode, type).toBe(422);
    }
    expect(everything()).toEqual(before);
  });

  it('refuses a 1 MB field with 413 and an over-long one with 422', async () => {
    const before = everything();
    await browser.get(`/applications/${draft}/edit`);
    const huge = await browser.post(`/applications/${draft}/edit`, { ...completeHtmlForm(), description: ONE_MB, expectedVersion: version });
    expect(huge.statusCode).toBe(413);
    await browser.get(`/applications/${draft}/edit`);
    const long = await browser.post(`/applications/${draft}/edit`, { ...completeHtmlForm(), title: 'Д'.repeat(301), expectedVersion: version });
    expect(long.statusCode).toBe(422);
    expect(long.body).toContain('id="f-title-error"');
    expect(everything()).toEqual(before);
  });

  it('refuses a new application for a programme that is not there, or not a number (422)', async () => {
    const before = everything();
    for (const programmeId of ['999999', 'abc', '-1', '']) {
      await browser.get('/applications/new');
      const response = await browser.post('/applications', { ...completeHtmlForm(), programmeId });
      expect(response.statusCode, programmeId).toBe(422);
      expect(response.body).toContain('field--invalid');
      expect(response.body).toContain(`value="${completeHtmlForm().title}"`);
    }
    expect(everything()).toEqual(before);
  });

  it('never sends a login to another site, whatever `next` says', async () => {
    for (const next of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)']) {
      const visitor = new Browser(t.app);
      await visitor.get('/login');
      const response = await visitor.post('/login', { login: 'applicant1', password: 'demo', next });
      expect(response.statusCode, next).toBe(303);
      expect(response.headers.location, next).toBe('/');
    }
  });

  it('refuses negative money and a missing version', async () => {
    const before = everything();
    await browser.get(`/applications/${draft}/edit`);
    const negative = await browser.post(`/applications/${draft}/edit`, { ...completeHtmlForm(), 'costs.business': '-100,00', expectedVersion: version });
    expect(negative.statusCode).toBe(422);
    expect(negative.body).toContain('id="f-costs-business-error"');
    await browser.get(`/applications/${draft}/edit`);
    const noVersion = await browser.post(`/applications/${draft}/edit`, { ...completeHtmlForm(), title: 'Без версии' });
    expect(noVersion.statusCode).toBe(409);
    expect(everything()).toEqual(before);
  });
});
