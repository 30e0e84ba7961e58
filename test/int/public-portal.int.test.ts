import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, checkedInject, completeForm, CURRENT_PROGRAMME, login, startApp, storedApplication, token, type TestApp } from './http-helpers.ts';
import { multipart, samples } from './document-samples.ts';
import {
  publicApplicationsResponse,
  publicIndexResponse,
  publicProgrammeResponse,
  publicProjectResponse,
  publicResultsResponse,
} from '../../src/http/public-schemas.ts';
import { ru } from '../../src/i18n/ru.ts';
import { en } from '../../src/i18n/en.ts';

/**
 * The public portal (issue 15) shows nothing private. Over the demo, the engine is made to write
 * private data with unique markers — a draft's title, people's names (on every event they send),
 * a remark, a rejection's reason, an internal note, a message, a private document's file name —
 * and everything private the demo itself holds is collected from the log (payers, inspectors,
 * findings, notes, members' names and score comments); then every public page (both languages)
 * and every JSON twin is fetched without signing in and scanned for each of them.
 */

const PAST_PROGRAMME = 1;
const markers = {
  applicantName: 'Маркер Заявителева QX1',
  reviewerName: 'Маркер Проверяющева QX2',
  draftTitle: 'МАРКЕР-ЧЕРНОВИК-QX3',
  documentName: 'МАРКЕР-ДОКУМЕНТ-QX4.pdf',
  remark: 'МАРКЕР-ЗАМЕЧАНИЕ-QX5',
  reason: 'МАРКЕР-ПРИЧИНА-ОТКАЗА-QX6',
  internalNote: 'МАРКЕР-ВНУТРЕННЯЯ-ЗАМЕТКА-QX7',
  message: 'МАРКЕР-СООБЩЕНИЕ-QX8',
  scoreComment: 'МАРКЕР-ОЦЕНКА-ЧЛЕНА-QX9',
};

/** Every key the portal's JSON may carry, at any depth: the list a new public field must be added to, on purpose. */
const allowedFields = new Set([
  // programmes and the rules
  'currentId', 'programmes', 'programme', 'id', 'title', 'year', 'region', 'timeZone', 'fundKopecks', 'capKopecks', 'minLocalShareBp', 'minResidentsShareBp',
  'announcements', 'heldOn', 'channel', 'text', 'link', 'rules', 'criteria', 'key', 'weight', 'fullAtBp', 'documents', 'projectType', 'kind', 'required',
  'stages', 'no', 'state', 'plannedStart', 'plannedEnd', 'startedAt', 'completedAt', 'applications', 'results', 'decidedAt', 'allocatedKopecks', 'archive',
  'winners', 'subsidyKopecks', 'coFinancingKopecks', 'totalKopecks', 'perRoubleCenti',
  // applications
  'registrationNo', 'municipality', 'settlement', 'costs', 'subsidy', 'localBudget', 'residents', 'business', 'awardedKopecks', 'submittedAt', 'status', 'totals', 'total',
  // results
  'decision', 'recordHash', 'ledgerHead', 'ledgerEvents', 'membersPresent', 'fundLeftKopecks', 'place', 'ranking', 'rank', 'applicationId', 'totalCenti',
  'requestedKopecks', 'outcome', 'leverage',
  // a winning project
  'project', 'programmeId', 'problem', 'description', 'durationMonths', 'progressPercent', 'agreement', 'signedOn', 'amounts', 'received', 'contract', 'priceKopecks',
  'spent', 'milestones', 'on', 'photos', 'seq', 'sha256', 'mediaType', 'takenDuring', 'href', 'visits', 'visitedOn', 'verdict', 'resolved',
  // the accepted documents of the kinds a programme publishes
  'documents',
]);

function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => keysOf(item, into));
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      into.add(key);
      keysOf(child, into);
    }
  }
  return into;
}

let t: TestApp;
const tokens = new Map<string, string>();
const as = (user: string) => tokens.get(user)!;
/** Private texts the demo's own events hold, collected from the log. */
let demoSecrets: string[] = [];
let returnedId = 0;
let rejectedId = 0;

async function send(user: string, id: number, type: string, payload: Record<string, unknown> = {}) {
  const expectedVersion = storedApplication(t.db, id).version;
  const response = await api(t.app, as(user), 'POST', `/api/applications/${id}/events`, { type, expectedVersion, ...payload });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}

beforeAll(async () => {
  t = await startApp();
  const sqlite = t.db.$client;
  // People's names: every event these two send from now on carries them in its actor.
  sqlite.prepare("UPDATE users SET name = ? WHERE login = 'applicant1'").run(markers.applicantName);
  sqlite.prepare("UPDATE users SET name = ? WHERE login = 'reviewer1'").run(markers.reviewerName);
  for (const user of ['applicant1', 'reviewer1', 'coordinator1', 'commission1']) tokens.set(user, await token(t.app, user));

  const draft = await api(t.app, as('applicant1'), 'POST', '/api/applications', { programmeId: CURRENT_PROGRAMME, ...completeForm(), title: markers.draftTitle });
  expect(draft.status, JSON.stringify(draft.body)).toBe(201);

  // Two submitted applications the reviewer may take: one returned with a remark, one rejected with a reason.
  const submitted = sqlite
    .prepare<[number], { id: number }>("SELECT id FROM applications WHERE programme_id = ? AND state = 'submitted' ORDER BY id")
    .all(CURRENT_PROGRAMME)
    .map((row) => row.id);
  const reviewable: number[] = [];
  for (const id of submitted) {
    const got = await api(t.app, as('reviewer1'), 'GET', `/api/applications/${id}`);
    if ((got.body.allowedEvents as string[]).includes('start-review')) reviewable.push(id);
    if (reviewable.length === 2) break;
  }
  expect(reviewable).toHaveLength(2);
  [returnedId, rejectedId] = reviewable as [number, number];
  await send('reviewer1', returnedId, 'start-review');
  await send('reviewer1', returnedId, 'return-for-revision', { remarks: [{ field: 'title', text: markers.remark }] });
  await send('reviewer1', rejectedId, 'start-review');
  await send('reviewer1', rejectedId, 'reject', { reason: markers.reason });
  const note = await api(t.app, as('reviewer1'), 'POST', `/api/applications/${returnedId}/messages`, { text: markers.internalNote, internal: true });
  expect(note.status, JSON.stringify(note.body)).toBe(201);
  const message = await api(t.app, as('reviewer1'), 'POST', `/api/applications/${returnedId}/messages`, { text: markers.message });
  expect(message.status, JSON.stringify(message.body)).toBe(201);

  // A member's score with a comment: the commission's stage started beside the intake, an admitted application scored.
  const stage = await api(t.app, as('coordinator1'), 'GET', `/api/programmes/${CURRENT_PROGRAMME}`);
  const seven = (stage.body.stages as { no: number; version: number }[]).find((s) => s.no === 7)!;
  const started = await api(t.app, as('coordinator1'), 'POST', `/api/programmes/${CURRENT_PROGRAMME}/stages/7/events`, { type: 'start', expectedVersion: seven.version });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const admitted = sqlite.prepare<[number], { id: number }>("SELECT id FROM applications WHERE programme_id = ? AND state = 'accepted' ORDER BY id LIMIT 1").get(CURRENT_PROGRAMME)!.id;
  await send('commission1', admitted, 'score', { significance: 4, comment: markers.scoreComment });

  // A private document on a public application: applicant1's own, sent back for revision.
  const own = sqlite
    .prepare<[number], { id: number }>("SELECT id FROM applications WHERE programme_id = ? AND state = 'returned' AND municipality_id = (SELECT municipality_id FROM users WHERE login = 'applicant1') ORDER BY id LIMIT 1")
    .get(CURRENT_PROGRAMME)!.id;
  const body = multipart({ kind: 'meeting-minutes' }, { name: markers.documentName, bytes: samples.pdf() });
  const upload = await checkedInject(t.app, { method: 'POST', url: `/api/applications/${own}/documents`, headers: { authorization: `Bearer ${as('applicant1')}`, 'content-type': body.contentType }, payload: body.payload });
  expect(upload.statusCode, upload.body).toBe(201);

  // What the demo's engine-made history holds that is private: any text a person wrote into an event that is not the application's public form or a journal announcement.
  const texts = sqlite
    .prepare<[], { value: string }>(
      `SELECT DISTINCT j.value AS value FROM events e JOIN streams s ON s.id = e.stream_id, json_tree(e.payload) j
       WHERE s.kind <> 'journal' AND j.type = 'text' AND j.key IN ('payer', 'reference', 'inspector', 'finding', 'note', 'reason', 'text', 'comment', 'contractorInn', 'agreementNo', 'caption', 'name')`,
    )
    .all()
    .map((row) => row.value);
  const names = sqlite.prepare<[], { name: string }>('SELECT name FROM users').all().map((row) => row.name);
  const scoreComments = sqlite.prepare<[], { comment: string }>("SELECT comment FROM scores WHERE comment IS NOT NULL AND comment <> ''").all().map((row) => row.comment);
  const chairs = sqlite.prepare<[], { name: string }>('SELECT chair_name AS name FROM commission_meetings UNION SELECT secretary_name FROM commission_meetings').all().map((row) => row.name);
  // A note that only repeats a label the pages print anyway («Начало работ») tells nothing.
  const labels = new Set<string>([...Object.values(ru), ...Object.values(en)]);
  demoSecrets = [...new Set([...texts, ...names, ...scoreComments, ...chairs])].filter((text): text is string => typeof text === 'string' && text.trim().length >= 8 && !labels.has(text));
  expect(scoreComments, 'the member’s comment is stored').toContain(markers.scoreComment);
  expect(demoSecrets.length).toBeGreaterThan(20);
});

afterAll(async () => {
  await t?.close();
});

/** Every public URL of both programmes: pages (both languages) and JSON, with each winning project's page. */
function publicUrls(): { pages: string[]; json: string[] } {
  const winners = t.db.$client
    .prepare<[], { id: number; programmeId: number }>(
      "SELECT id, programme_id AS programmeId FROM applications WHERE state = 'awarded' OR state LIKE 'implementation.%' OR state = 'closed' ORDER BY id",
    )
    .all();
  const pages = ['/'];
  const json = ['/api/public/programmes'];
  for (const programme of [PAST_PROGRAMME, CURRENT_PROGRAMME]) {
    pages.push(`/p/${programme}`, `/p/${programme}/applications`, `/p/${programme}/results`);
    json.push(`/api/public/programmes/${programme}`, `/api/public/programmes/${programme}/applications`, `/api/public/programmes/${programme}/results`);
  }
  for (const w of winners) {
    pages.push(`/p/${w.programmeId}/projects/${w.id}`);
    json.push(`/api/public/programmes/${w.programmeId}/projects/${w.id}`);
  }
  return { pages: [...pages, ...pages.map((url) => `${url}${url.includes('?') ? '&' : '?'}lang=en`)], json };
}

describe('the public portal, without signing in', () => {
  it('shows no draft, name, remark, reason, note, message, private document or member’s score on any page or JSON', async () => {
    const { pages, json } = publicUrls();
    expect(pages.length).toBeGreaterThan(20);
    const seen: string[] = [];
    for (const url of [...pages, ...json]) {
      const response = await t.app.inject({ url });
      expect(response.statusCode, url).toBe(200);
      const body = response.body;
      for (const [what, marker] of Object.entries(markers)) if (body.includes(marker)) seen.push(`${url}: the ${what} marker`);
      for (const secret of demoSecrets) if (body.includes(secret)) seen.push(`${url}: «${secret}»`);
      // Public pages carry no forms, so no CSRF token and no session cookie.
      expect(body, url).not.toContain('_csrf');
      expect(response.headers['set-cookie'], url).toBeUndefined();
    }
    expect(seen).toEqual([]);
  });

  it('publishes the applications from their first submission, with a public status, and the ones just reviewed among them', async () => {
    const { body } = await api(t.app, null, 'GET', `/api/public/programmes/${CURRENT_PROGRAMME}/applications`);
    const rows = body.applications as { id: number; status: string; title: string }[];
    const drafts = t.db.$client.prepare<[number], { id: number }>("SELECT id FROM applications WHERE programme_id = ? AND state = 'draft'").all(CURRENT_PROGRAMME);
    expect(drafts.length).toBeGreaterThan(0);
    for (const draft of drafts) expect(rows.some((row) => row.id === draft.id)).toBe(false);
    expect(rows.find((row) => row.id === returnedId)?.status).toBe('under-review');
    expect(rows.find((row) => row.id === rejectedId)?.status).toBe('not-admitted');
    const page = await t.app.inject({ url: `/p/${CURRENT_PROGRAMME}/applications` });
    expect(page.body).toContain('На рассмотрении');
    expect(page.body).toContain('Не допущена');
  });

  it('holds every JSON twin to its strict schema and to the list of fields that may appear', async () => {
    const { json } = publicUrls();
    const schemaOf = (url: string) =>
      url === '/api/public/programmes'
        ? publicIndexResponse
        : url.includes('/projects/')
          ? publicProjectResponse
          : url.endsWith('/applications')
            ? publicApplicationsResponse
            : url.endsWith('/results')
              ? publicResultsResponse
              : publicProgrammeResponse;
    const unexpected = new Set<string>();
    for (const url of json) {
      // api() also checks each answer against the OpenAPI document.
      const response = await api(t.app, null, 'GET', url);
      expect(response.status, url).toBe(200);
      const parsed = schemaOf(url).safeParse(response.body);
      expect(parsed.success, `${url}: ${parsed.error?.message}`).toBe(true);
      for (const key of keysOf(response.body)) if (!allowedFields.has(key)) unexpected.add(`${url}: ${key}`);
    }
    expect([...unexpected]).toEqual([]);
  });

  it('shows the results of a decided programme: the ranking, the ledger head it was decided on, the leverage', async () => {
    const { body } = await api(t.app, null, 'GET', `/api/public/programmes/${PAST_PROGRAMME}/results`);
    const decided = t.db.$client.prepare<[number], { ledgerHead: string }>('SELECT ledger_head AS ledgerHead FROM commission_decisions WHERE programme_id = ?').get(PAST_PROGRAMME)!;
    expect(body.decision.ledgerHead).toBe(decided.ledgerHead);
    expect(body.ranking.length).toBeGreaterThan(0);
    expect(body.leverage.winners).toBeGreaterThan(0);
    expect(body.leverage.perRoubleCenti).toBeGreaterThan(0);
    const page = await t.app.inject({ url: `/p/${PAST_PROGRAMME}/results` });
    expect(page.body).toContain(decided.ledgerHead);
    const pending = await api(t.app, null, 'GET', `/api/public/programmes/${CURRENT_PROGRAMME}/results`);
    expect(pending.body.decision).toBeNull();
  });

  it('serves a winner’s photos and nothing else through its photo route', async () => {
    const winner = t.db.$client
      .prepare<[], { id: number; programmeId: number }>("SELECT id, programme_id AS programmeId FROM applications WHERE state = 'closed' ORDER BY id LIMIT 1")
      .get()!;
    const { body } = await api(t.app, null, 'GET', `/api/public/programmes/${winner.programmeId}/projects/${winner.id}`);
    const photo = (body.project.photos as { href: string; sha256: string }[])[0]!;
    expect(photo).toBeDefined();
    const served = await t.app.inject({ url: photo.href });
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toMatch(/^image\//);
    // The same file under another project, and an uploaded document's hash under this one: not found.
    const other = t.db.$client.prepare<[number], { id: number }>("SELECT id FROM applications WHERE state = 'submitted' AND programme_id = ? LIMIT 1").get(CURRENT_PROGRAMME)!;
    expect((await t.app.inject({ url: `/p/${CURRENT_PROGRAMME}/projects/${other.id}/photos/${photo.sha256}` })).statusCode).toBe(404);
    const document = t.db.$client
      .prepare<[], { sha256: string }>("SELECT json_extract(payload, '$.sha256') AS sha256 FROM events WHERE type = 'attach-document' LIMIT 1")
      .get()!;
    expect((await t.app.inject({ url: `/p/${winner.programmeId}/projects/${winner.id}/photos/${document.sha256}` })).statusCode).toBe(404);
    // An application that did not win has no project page.
    expect((await t.app.inject({ url: `/p/${CURRENT_PROGRAMME}/projects/${other.id}` })).statusCode).toBe(404);
    expect((await api(t.app, null, 'GET', `/api/public/programmes/${CURRENT_PROGRAMME}/projects/${other.id}`)).status).toBe(404);
  });

  it('answers a conditional GET with 304 until a new event changes the ETag', async () => {
    for (const url of [`/p/${CURRENT_PROGRAMME}/applications`, `/api/public/programmes/${CURRENT_PROGRAMME}/applications`, '/']) {
      const first = await t.app.inject({ url });
      const etag = first.headers.etag as string;
      expect(etag, url).toMatch(/^W\/".+"$/);
      expect(first.headers['cache-control'], url).toMatch(/^public, max-age=\d+$/);
      expect(first.headers['last-modified'], url).toBeDefined();
      const again = await t.app.inject({ url, headers: { 'if-none-match': etag } });
      expect(again.statusCode, url).toBe(304);
      expect(again.body, url).toBe('');
      // Another language is another document.
      expect((await t.app.inject({ url: `${url}${url.includes('?') ? '&' : '?'}lang=en`, headers: { 'if-none-match': etag } })).statusCode === 304).toBe(url.startsWith('/api/'));
    }
    const url = `/api/public/programmes/${CURRENT_PROGRAMME}/applications`;
    const before = (await t.app.inject({ url })).headers.etag as string;
    const withdrawn = t.db.$client
      .prepare<[number], { id: number }>("SELECT id FROM applications WHERE programme_id = ? AND state = 'returned' AND municipality_id = (SELECT municipality_id FROM users WHERE login = 'applicant1') ORDER BY id LIMIT 1")
      .get(CURRENT_PROGRAMME)!.id;
    await send('applicant1', withdrawn, 'withdraw', { reason: 'Передумали' });
    const after = await t.app.inject({ url, headers: { 'if-none-match': before } });
    expect(after.statusCode).toBe(200);
    expect(after.headers.etag).not.toBe(before);
    expect((after.json().applications as { id: number; status: string }[]).find((row) => row.id === withdrawn)?.status).toBe('withdrawn');
    // What the portal shows from outside the ledger changes it too: a municipality renamed by an admin.
    const renamed = after.headers.etag as string;
    t.db.$client.prepare("UPDATE municipalities SET name = name || ' (переименован)' WHERE id = (SELECT municipality_id FROM applications WHERE id = ?)").run(withdrawn);
    const again = await t.app.inject({ url, headers: { 'if-none-match': renamed } });
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain('(переименован)');
  });

  it('keeps sending a signed-in person from / to their landing page, and shows the portal to visitors', async () => {
    const visitor = await t.app.inject({ url: '/' });
    expect(visitor.statusCode).toBe(200);
    expect(visitor.body).toContain('Наша инициатива');
    expect(visitor.body).not.toContain('site-nav" aria-label="Основное меню');
    const browser = await login(t.app, 'coordinator1');
    const signedIn = await browser.get('/');
    expect(signedIn.statusCode).toBe(303);
    expect(signedIn.headers.location).toBe('/dashboard');
    // A signed-in person may read the portal too; its header links back to their workspace.
    const portal = await browser.get(`/p/${CURRENT_PROGRAMME}`);
    expect(portal.statusCode).toBe(200);
    expect(portal.body).toContain('Рабочее место');
  });

  it('publishes a winner’s accepted documents of the kinds the programme marks public, by kind, and an admin changes the kinds', async () => {
    const url = `/api/public/programmes/${PAST_PROGRAMME}/projects/1`;
    const before = await api(t.app, null, 'GET', url);
    const kinds = (before.body.project.documents as { kind: string }[]).map((d) => d.kind);
    // The defaults: photos of the object, media, design; never the minutes that name residents.
    expect(kinds).toContain('object-photos');
    expect(kinds).not.toContain('meeting-minutes');
    const doc = (before.body.project.documents as { href: string; sha256: string }[])[0]!;
    const file = await t.app.inject({ url: doc.href });
    expect(file.statusCode).toBe(200);
    expect(String(file.headers['content-disposition'])).toMatch(/^attachment; filename=/);
    const minutes = t.db.$client
      .prepare<[], { sha256: string }>("SELECT json_extract(s.snapshot, '$.context.documents.meeting-minutes.file.sha256') AS sha256 FROM applications a JOIN streams s ON s.id = a.stream_id WHERE a.id = 1")
      .get()!.sha256;
    expect((await t.app.inject({ url: `/p/${PAST_PROGRAMME}/projects/1/documents/${minutes}` })).statusCode).toBe(404);

    const admin = await login(t.app, 'admin1');
    expect((await admin.get(`/programmes/${PAST_PROGRAMME}/documents`)).body).toContain('Публикуется на портале');
    const saved = await admin.post(`/programmes/${PAST_PROGRAMME}/documents/public`, { documentKinds: ['meeting-minutes'] });
    expect(saved.statusCode, saved.body).toBe(303);
    const after = await api(t.app, null, 'GET', url, undefined, { 'if-none-match': String(before.headers.etag) });
    expect(after.status).toBe(200);
    expect((after.body.project.documents as { kind: string }[]).map((d) => d.kind)).toEqual(['meeting-minutes']);
    expect((await t.app.inject({ url: `/p/${PAST_PROGRAMME}/projects/1/documents/${minutes}` })).statusCode).toBe(200);
    // Only an admin sets it.
    const coordinator = await login(t.app, 'coordinator1');
    await coordinator.get(`/programmes/${PAST_PROGRAMME}/documents`);
    expect((await coordinator.post(`/programmes/${PAST_PROGRAMME}/documents/public`, { documentKinds: ['attendance-sheet'] })).statusCode).toBe(403);
  });
});
