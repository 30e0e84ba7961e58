import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicationEventTypes } from '../../machines/application.ts';
import { stageEventTypes } from '../../machines/stage.ts';
import { api, eventCount, login, startApp, token, type Browser, type TestApp } from './http-helpers.ts';

/**
 * The auditor's pages over HTTP (issue 4): every application's history and replay readable, no
 * event of any type accepted from an auditor, another municipality's history invisible to an
 * applicant, the verdict, the ledger, the statecharts and the exports.
 */
let t: TestApp;
let auditor: Browser;
let auditorToken: string;
let ids: { id: number; version: number; state: string; municipalityId: number }[];

beforeAll(async () => {
  t = await startApp();
  auditor = await login(t.app, 'auditor1');
  auditorToken = await token(t.app, 'auditor1');
  ids = t.db.$client.prepare<[], { id: number; version: number; state: string; municipalityId: number }>('SELECT id, version, state, municipality_id AS municipalityId FROM applications ORDER BY id').all();
}, 60_000);
afterAll(async () => t?.close());

const longest = () => [...ids].sort((a, b) => b.version - a.version)[0]!;
const ownMunicipality = (loginName: string) => t.db.$client.prepare<[string], { m: number }>('SELECT municipality_id AS m FROM users WHERE login = ?').get(loginName)!.m;

/** Only the sign-out form may post from a read-only page. */
function postForms(html: string): string[] {
  return [...html.matchAll(/<form[^>]*method="post"[^>]*action="([^"]+)"/g)].map((m) => m[1]!).filter((action) => action !== '/logout');
}

describe('the auditor reads every application', () => {
  it('has its history page, its replay at the first and the last step, and the API history and replay', async () => {
    expect(ids.length).toBeGreaterThan(50);
    for (const { id, version, state } of ids) {
      const page = await auditor.get(`/audit/applications/${id}`);
      expect(page.statusCode, `history page of ${id}`).toBe(200);
      expect(page.body.match(/<tr id="event-\d+">/g)).toHaveLength(version);
      expect(page.body).toContain(`data-active="${state}"`);
      for (const seq of [1, version]) {
        const step = await auditor.get(`/audit/applications/${id}/replay?seq=${seq}`);
        expect(step.statusCode, `replay ${id}@${seq}`).toBe(200);
        expect(step.body).toContain(`data-seq="${seq}"`);
      }
      const history = await api(t.app, auditorToken, 'GET', `/api/applications/${id}/history`);
      expect(history.status).toBe(200);
      expect(history.body).toHaveLength(version);
      const replay = await api(t.app, auditorToken, 'GET', `/api/applications/${id}/replay?seq=${version}`);
      expect(replay.status).toBe(200);
      expect(replay.body).toMatchObject({ ok: true, matches: true, state });
    }
  }, 120_000);

  it('steps through a long history: the state, the form as it was and the changes of each step', async () => {
    const app = longest();
    expect(app.version).toBeGreaterThanOrEqual(10);
    const states: string[] = [];
    for (let seq = 1; seq <= app.version; seq += 1) {
      const page = await auditor.get(`/audit/applications/${app.id}/replay?seq=${seq}`, { 'hx-request': 'true' });
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain('<html');
      expect(page.body).toContain('id="replay"');
      expect(page.body).toContain(`>Шаг ${seq} из ${app.version}<`);
      states.push(/<section id="replay"[^>]*data-state="([^"]+)"/.exec(page.body)![1]!);
      expect(page.body).toMatch(/class="sc-state[^"]*sc-state--active"/);
    }
    expect(new Set(states).size).toBeGreaterThan(5);
    // The second step of a demo history is an update: the changed fields are listed old → new and marked in the form.
    const update = await auditor.get(`/audit/applications/${app.id}/replay?seq=2`);
    expect(update.body).toMatch(/<table class="data diff" id="changes">/);
    expect(update.body).toMatch(/<ins>/);
    expect(update.body).toMatch(/form-as-was__row is-changed/);
  });

  it('falls back to the last step for a step that does not exist, instead of failing', async () => {
    const app = longest();
    const page = await auditor.get(`/audit/applications/${app.id}/replay?seq=9999`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`data-seq="${app.version}"`);
    const junk = await auditor.get(`/audit/applications/${app.id}/replay?seq=abc`);
    expect(junk.statusCode).toBe(200);
  });

  it('finds applications by number, by title and by municipality', async () => {
    const app = longest();
    const byNumber = await auditor.get(`/audit?q=${encodeURIComponent(`№ ${app.id}`)}`);
    expect(byNumber.body).toContain(`href="/audit/applications/${app.id}"`);
    const title = t.db.$client.prepare<[number], { title: string }>('SELECT title FROM applications WHERE id = ?').get(app.id)!.title;
    const word = title.split(' ').find((w) => w.length > 5)!;
    const byTitle = await auditor.get(`/audit?q=${encodeURIComponent(word.toLocaleLowerCase('ru'))}`);
    expect(byTitle.body).toContain(`href="/audit/applications/${app.id}"`);
    const municipality = t.db.$client.prepare<[number], { name: string }>('SELECT name FROM municipalities WHERE id = ?').get(app.municipalityId)!.name;
    const byMunicipality = await auditor.get(`/audit?q=${encodeURIComponent(municipality.slice(0, 6))}`);
    expect(byMunicipality.body).toContain(`href="/audit/applications/${app.id}"`);
    // And by its registration number (issue 13), which the list shows in place of the id.
    const registrationNo = t.db.$client.prepare<[number], { no: string | null }>('SELECT registration_no AS no FROM applications WHERE id = ?').get(app.id)!.no;
    expect(registrationNo).toMatch(/^ИБ-\d{4}-\d{4}$/);
    const byRegistration = await auditor.get(`/audit?q=${encodeURIComponent(registrationNo!)}`);
    expect(byRegistration.body).toContain(`href="/audit/applications/${app.id}">${registrationNo}</a>`);
  });
});

describe('the auditor can send no event at all', () => {
  it('every application event type is refused with 403 through the API, and nothing is written', async () => {
    const before = eventCount(t.db);
    for (const { id, version } of ids.slice(0, 12)) {
      for (const type of applicationEventTypes) {
        const response = await api(t.app, auditorToken, 'POST', `/api/applications/${id}/events`, { type, expectedVersion: version, reason: 'x', remarks: 'x', significance: 3, amountKopecks: 100, agreementNo: 'x', contractor: 'x', priceKopecks: 100, percent: 10, finding: 'x' });
        expect(response.status, `${type} on ${id}`).toBe(403);
      }
    }
    expect((await api(t.app, auditorToken, 'POST', '/api/applications', { programmeId: 2, title: 'x' })).status).toBe(403);
    expect(eventCount(t.db)).toBe(before);
  });

  it('every application event type is refused with 403 through the pages, and nothing is written', async () => {
    const before = eventCount(t.db);
    const { id, version } = longest();
    await auditor.get(`/applications/${id}`);
    for (const type of applicationEventTypes) {
      const response = await auditor.post(`/applications/${id}/events`, { type, expectedVersion: String(version), reason: 'x' });
      expect(response.statusCode, type).toBe(403);
    }
    expect(eventCount(t.db)).toBe(before);
  });

  it('every stage event type is refused with 403', async () => {
    const before = eventCount(t.db);
    for (const type of stageEventTypes) {
      const response = await api(t.app, auditorToken, 'POST', '/api/programmes/2/stages/6/events', { type, expectedVersion: 1, task: 'x', reason: 'x', plannedStart: '2027-01-01', plannedEnd: '2027-02-01' });
      expect(response.status, type).toBe(403);
    }
    expect(eventCount(t.db)).toBe(before);
  });

  it('sees no action buttons: the application page offers none and the audit pages post nothing', async () => {
    for (const { id } of ids.slice(0, 20)) {
      const page = await auditor.get(`/applications/${id}`);
      expect(page.body).not.toContain('class="event-form"');
      expect(postForms(page.body)).toEqual([]);
      expect((await api(t.app, auditorToken, 'GET', `/api/applications/${id}`)).body.allowedEvents).toEqual([]);
    }
    const { id } = longest();
    for (const url of ['/audit', `/audit/applications/${id}`, `/audit/applications/${id}/replay?seq=3`, `/audit/applications/${id}/verify`, '/audit/ledger', '/audit/machines']) {
      const page = await auditor.get(url);
      expect(page.statusCode, url).toBe(200);
      // The one post an auditor has: asking for a verification of the ledger (it keeps only its checkpoints, issue 17).
      expect(postForms(page.body), url).toEqual(url === '/audit/ledger' ? ['/audit/ledger'] : []);
      expect(page.body, url).not.toContain('name="expectedVersion"');
    }
  });
});

describe('other roles see the history of what they may see', () => {
  it('an applicant replays its own municipality’s application and not another’s (404, as if it did not exist)', async () => {
    const applicant = await login(t.app, 'applicant1');
    const applicantToken = await token(t.app, 'applicant1');
    const own = ids.find((a) => a.municipalityId === ownMunicipality('applicant1'))!;
    const foreign = ids.find((a) => a.municipalityId !== ownMunicipality('applicant1'))!;
    expect((await applicant.get(`/audit/applications/${own.id}/replay?seq=1`)).statusCode).toBe(200);
    for (const suffix of ['', '/replay', '/replay?seq=1', '/verify', '/history.json', '/history.csv']) {
      expect((await applicant.get(`/audit/applications/${foreign.id}${suffix}`)).statusCode, suffix).toBe(404);
    }
    for (const suffix of ['/history', '/history.json', '/history.csv', '/replay?seq=1']) {
      expect((await api(t.app, applicantToken, 'GET', `/api/applications/${own.id}${suffix}`)).status, suffix).toBe(200);
      expect((await api(t.app, applicantToken, 'GET', `/api/applications/${foreign.id}${suffix}`)).status, suffix).toBe(404);
    }
    const search = await applicant.get('/audit');
    const listed = [...search.body.matchAll(/href="\/audit\/applications\/(\d+)"/g)].map((m) => Number(m[1]));
    expect(listed.length).toBeGreaterThan(0);
    const mine = new Set(ids.filter((a) => a.municipalityId === ownMunicipality('applicant1')).map((a) => a.id));
    expect(listed.every((id) => mine.has(id))).toBe(true);
    expect((await applicant.get('/audit/ledger')).statusCode).toBe(403);
  });

  it('a reviewer sees every history and its statechart, and the application page shows the chart with the current state', async () => {
    const reviewer = await login(t.app, 'reviewer1');
    const { id, state } = longest();
    expect((await reviewer.get(`/audit/applications/${id}/replay`)).statusCode).toBe(200);
    const page = await reviewer.get(`/applications/${id}`);
    expect(page.body).toContain('class="card statechart-card"');
    expect(page.body).toContain(`data-active="${state}"`);
    expect(page.body).not.toContain(' style=');
  });

  it('requires a sign-in', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/audit' });
    expect(response.statusCode).toBe(303);
    expect((await api(t.app, null, 'GET', `/api/applications/${longest().id}/history.json`)).status).toBe(401);
  });
});

describe('verify, the ledger and the statecharts', () => {
  it('the verify button answers with a plain verdict (an htmx fragment, or the whole page)', async () => {
    const { id, version } = longest();
    const fragment = await auditor.get(`/audit/applications/${id}/verify`, { 'hx-request': 'true' });
    expect(fragment.body).not.toContain('<html');
    expect(fragment.body).toContain('verdict--ok');
    expect(fragment.body).toContain(`Все ${version} событий воспроизведены`);
    const page = await auditor.get(`/audit/applications/${id}/verify`);
    expect(page.body).toContain('<html');
    expect(page.body).toContain('verdict--ok');
    const plain = await auditor.get(`/audit/applications/${id}`);
    expect(plain.body).not.toContain('verdict--ok');
  });

  it('the ledger page shows the streams, the events, the head and compares a published head', async () => {
    const verify = await api(t.app, auditorToken, 'GET', '/api/audit/verify');
    const page = await auditor.get('/audit/ledger');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`<dd id="ledger-events">${verify.body.events}</dd>`);
    expect(page.body).toContain(`<dd id="ledger-streams">${verify.body.streams}</dd>`);
    expect(page.body).toContain(verify.body.head);
    expect(page.body).toContain('verdict--ok');
    const compared = await auditor.get(`/audit/ledger?head=${verify.body.head}`);
    expect(compared.body).toContain('notice--success');
    const wrong = await auditor.get(`/audit/ledger?head=${'ab'.repeat(32)}`);
    expect(wrong.body).toContain('verdict--bad');
    expect(wrong.body).toContain('data-kind="head-mismatch"');
  });

  it('the statechart page draws every registered machine, the stage machine too', async () => {
    const page = await auditor.get('/audit/machines');
    expect(page.body).toContain('data-machine="application"');
    expect(page.body).toContain('data-machine="stage"');
    expect(page.body).toContain('data-state="implementation.works"');
    expect(page.body).toContain('class="sc-cluster"');
  });
});

describe('exports', () => {
  /** An independent canonical JSON, written from the rule in the export, not imported from the engine. */
  function canonical(value: unknown): string {
    if (value === null || typeof value !== 'object') return JSON.stringify(value);
    if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
    const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }

  it('JSON: a download that a third party can re-check with SHA-256 and the rule written into it', async () => {
    const { id, version } = longest();
    const response = await auditor.get(`/audit/applications/${id}/history.json`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-disposition']).toBe(`attachment; filename="application-${id}-history.json"; filename*=UTF-8''application-${id}-history.json`);
    const body = JSON.parse(response.body) as { verification: { genesisHash: string; rule: string; canonicalJson: string }; stream: { headHash: string }; events: Record<string, unknown>[] };
    expect(body.events).toHaveLength(version);
    expect(body.verification.rule).toContain('sha256');
    let prev = body.verification.genesisHash;
    for (const event of body.events) {
      const { hash, prevHash, ...row } = event;
      expect(prevHash).toBe(prev);
      expect(createHash('sha256').update(`${prevHash as string}${canonical(row)}`).digest('hex')).toBe(hash);
      prev = hash as string;
    }
    expect(body.stream.headHash).toBe(prev);
    const viaApi = await api(t.app, auditorToken, 'GET', `/api/applications/${id}/history.json`);
    expect(viaApi.status).toBe(200);
    expect(viaApi.body.events).toHaveLength(version);
  });

  it('CSV: a download with a BOM for Excel, a header and one quoted row per event', async () => {
    const { id, version } = longest();
    const response = await auditor.get(`/audit/applications/${id}/history.csv`);
    expect(response.headers['content-type']).toContain('text/csv');
    expect(response.headers['content-disposition']).toContain('.csv');
    expect(response.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const lines = response.body.replace(/^\uFEFF/, '').split('\r\n').filter(Boolean);
    expect(lines[0]!.startsWith('seq,position,at_utc,at_local,actor_login')).toBe(true);
    expect(lines).toHaveLength(version + 1);
    expect(lines[1]).toMatch(/^1,\d+,\d{4}-/);
  });
});

describe('after tampering', () => {
  it('the verify button names the changed event', async () => {
    const { id } = longest();
    const seq = 3;
    t.db.$client.exec('DROP TRIGGER IF EXISTS events_no_update');
    t.db.$client.prepare("UPDATE events SET at = '2000-01-01T00:00:00.000Z' WHERE stream_id = ? AND seq = ?").run(`application-${id}`, seq);
    const fragment = await auditor.get(`/audit/applications/${id}/verify`, { 'hx-request': 'true' });
    expect(fragment.body).toContain('verdict--bad');
    expect(fragment.body).toContain(`data-kind="hash-mismatch" data-stream="application-${id}" data-seq="${seq}"`);
    // The ledger page verified this stream before (the test above): an event below its checkpoint
    // is found by the full verification.
    const ledger = await auditor.get('/audit/ledger?full=1');
    expect(ledger.body).toContain('<dd id="ledger-mode" data-full="true">');
    expect(ledger.body).toContain(`data-kind="hash-mismatch" data-stream="application-${id}" data-seq="${seq}"`);
  });
});
