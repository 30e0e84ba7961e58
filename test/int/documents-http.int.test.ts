import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CURRENT_PROGRAMME, api, checkedInject, completeForm, eventCount, login, startApp, storedApplication, token, type Browser, type TestApp } from './http-helpers.ts';
import { filesUnder, multipart, samples, sha256 } from './document-samples.ts';

/**
 * Documents over HTTP (issue 7): uploads through the API and the page (with JavaScript and
 * without), replacement, downloads and previews for the roles that may see the application, and
 * 404 for another municipality's applicant.
 */

let t: TestApp;
const tokens = new Map<string, string>();
const as = (user: string) => tokens.get(user)!;
let id: number;
const pdf = samples.pdf('Протокол итогового собрания — HTTP');
const photo = samples.png(42);

beforeAll(async () => {
  t = await startApp();
  for (const user of ['applicant1', 'applicant2', 'reviewer1', 'coordinator1', 'commission1', 'auditor1', 'admin1']) tokens.set(user, await token(t.app, user));
  const created = await api(t.app, as('applicant1'), 'POST', '/api/applications', { programmeId: CURRENT_PROGRAMME, ...completeForm() });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  id = created.body.id;
});

afterAll(async () => {
  await t.close();
});

function uploadApi(user: string, fields: Record<string, string>, file?: { name: string; bytes: Buffer }) {
  const body = multipart(fields, file);
  return checkedInject(t.app, { method: 'POST', url: `/api/applications/${id}/documents`, headers: { authorization: `Bearer ${as(user)}`, 'content-type': body.contentType }, payload: body.payload });
}

const version = () => storedApplication(t.db, id).version;

describe('uploads through the API', () => {
  it('takes a file as multipart (kind, file): 201 with the event’s record of it, the hash of exactly those bytes', async () => {
    const before = eventCount(t.db);
    const response = await uploadApi('applicant1', { kind: 'meeting-minutes' }, { name: 'Протокол собрания.pdf', bytes: pdf });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ id, state: 'draft', document: { kind: 'meeting-minutes', name: 'Протокол собрания.pdf', size: pdf.length, mediaType: 'application/pdf', sha256: sha256(pdf) } });
    expect(eventCount(t.db)).toBe(before + 1);
    const history = await api(t.app, as('auditor1'), 'GET', `/api/applications/${id}/history`);
    expect(history.body.at(-1)).toMatchObject({ type: 'attach-document', payload: { sha256: sha256(pdf) } });
  });

  it('refuses a lying file, a forbidden type and a missing file with 422, writing nothing', async () => {
    const before = eventCount(t.db);
    const files = filesUnder(t.app.documentStore.root).length;
    const lying = await uploadApi('applicant1', { kind: 'attendance-sheet' }, { name: 'лист.pdf', bytes: photo });
    expect(lying.statusCode).toBe(422);
    expect(lying.json().problems).toEqual([{ field: 'file', code: 'document-type-mismatch', params: { type: 'PNG' } }]);
    const forbidden = await uploadApi('applicant1', { kind: 'meeting-minutes' }, { name: 'протокол.png', bytes: photo });
    expect(forbidden.json().problems[0].code).toBe('document-type-not-accepted');
    expect((await uploadApi('applicant1', { kind: 'meeting-minutes' })).statusCode).toBe(422);
    const json = await api(t.app, as('applicant1'), 'POST', `/api/applications/${id}/documents`, { kind: 'meeting-minutes' });
    expect(json.status).toBe(422);
    expect(eventCount(t.db)).toBe(before);
    expect(filesUnder(t.app.documentStore.root)).toHaveLength(files);
  });

  it('refuses other roles (403) and another municipality’s applicant (404)', async () => {
    const before = eventCount(t.db);
    expect((await uploadApi('reviewer1', { kind: 'object-photos' }, { name: 'фото.png', bytes: photo })).statusCode).toBe(403);
    expect((await uploadApi('applicant2', { kind: 'object-photos' }, { name: 'фото.png', bytes: photo })).statusCode).toBe(404);
    expect(eventCount(t.db)).toBe(before);
  });

  it('names the missing documents when submit is refused', async () => {
    const response = await api(t.app, as('applicant1'), 'POST', `/api/applications/${id}/events`, { type: 'submit', expectedVersion: version() });
    expect(response.status).toBe(422);
    expect(response.body.problems.map((p: { field: string }) => p.field)).toEqual(['document.attendance-sheet', 'document.cost-estimate', 'document.budget-extract', 'document.object-photos']);
  });

  it('lists the documents with what the programme asks and the events the user may send', async () => {
    const mine = await api(t.app, as('applicant1'), 'GET', `/api/applications/${id}/documents`);
    expect(mine.status).toBe(200);
    expect(mine.body.allowedEvents).toEqual(['attach-document']);
    expect(mine.body.documents.find((d: { kind: string }) => d.kind === 'meeting-minutes')).toMatchObject({ required: true, fileTypes: ['pdf'], verdict: 'pending', file: { sha256: sha256(pdf) } });
    expect(mine.body.documents.find((d: { kind: string }) => d.kind === 'object-photos')).toMatchObject({ verdict: 'missing', file: null });
    expect((await api(t.app, as('applicant2'), 'GET', `/api/applications/${id}/documents`)).status).toBe(404);
    const app = await api(t.app, as('applicant1'), 'GET', `/api/applications/${id}`);
    expect(app.body.allowedEvents).not.toContain('attach-document');
  });
});

describe('downloads and previews', () => {
  it('lets every role that may see the application download the file: the same bytes, an attachment, never sniffed', async () => {
    for (const user of ['applicant1', 'reviewer1', 'coordinator1', 'commission1', 'auditor1', 'admin1']) {
      const response = await checkedInject(t.app, { method: 'GET', url: `/api/applications/${id}/documents/${sha256(pdf)}`, headers: { authorization: `Bearer ${as(user)}` } });
      expect(response.statusCode, user).toBe(200);
      expect(response.rawPayload.equals(pdf), user).toBe(true);
      expect(response.headers['content-type']).toBe('application/pdf');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['content-disposition']).toBe(`attachment; filename="________ ________.pdf"; filename*=UTF-8''${encodeURIComponent('Протокол собрания.pdf')}`);
    }
  });

  it('answers another municipality’s applicant 404 for the file, as for a file that does not exist', async () => {
    const foreign = await checkedInject(t.app, { method: 'GET', url: `/api/applications/${id}/documents/${sha256(pdf)}`, headers: { authorization: `Bearer ${as('applicant2')}` } });
    expect(foreign.statusCode).toBe(404);
    const none = await checkedInject(t.app, { method: 'GET', url: `/api/applications/${id}/documents/${'0'.repeat(64)}`, headers: { authorization: `Bearer ${as('applicant1')}` } });
    expect(none.statusCode).toBe(404);
    expect(foreign.body).not.toContain('Протокол');
    const other = await login(t.app, 'applicant2');
    expect((await other.get(`/applications/${id}/documents/${sha256(pdf)}`)).statusCode).toBe(404);
    expect((await other.get(`/applications/${id}/documents/${sha256(pdf)}/preview`)).statusCode).toBe(404);
  });

  it('previews images inline in a sandbox, PDFs inline, and nothing else', async () => {
    expect((await uploadApi('applicant1', { kind: 'object-photos', expectedVersion: String(version()) }, { name: 'фото.png', bytes: photo })).statusCode).toBe(201);
    const reviewer = await login(t.app, 'reviewer1');
    const image = await reviewer.get(`/applications/${id}/documents/${sha256(photo)}/preview`);
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.headers['content-disposition']).toMatch(/^inline; /);
    expect(image.headers['content-security-policy']).toMatch(/^sandbox; default-src 'none'/);
    expect(image.headers['x-content-type-options']).toBe('nosniff');
    const document = await reviewer.get(`/applications/${id}/documents/${sha256(pdf)}/preview`);
    expect(document.statusCode).toBe(200);
    expect(document.headers['content-disposition']).toMatch(/^inline; /);
    expect(document.headers['content-security-policy']).toContain("default-src 'none'");
    expect((await reviewer.get(`/applications/${id}/documents/${sha256(pdf)}`)).headers['content-disposition']).toMatch(/^attachment; /);
  });
});

describe('the documents card on the application page', () => {
  let applicant: Browser;

  beforeAll(async () => {
    applicant = await login(t.app, 'applicant1');
  });

  function postPage(browser: Browser, fields: Record<string, string>, file: { name: string; bytes: Buffer } | undefined, headers: Record<string, string> = {}) {
    const body = multipart(fields, file);
    const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    return t.app.inject({ method: 'POST', url: `/applications/${id}/documents`, headers: { cookie, 'content-type': body.contentType, ...headers }, payload: body.payload });
  }

  it('shows each document with its status, its links and an upload form that works without JavaScript', async () => {
    const page = await applicant.get(`/applications/${id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('id="documents"');
    expect(page.body).toContain('Протокол итогового собрания');
    expect(page.body).toContain(`/applications/${id}/documents/${sha256(pdf)}`);
    expect(page.body).toContain('enctype="multipart/form-data"');
    expect(page.body).toContain('hx-encoding="multipart/form-data"');
    expect(page.body).toContain('x-csrf-token');
  });

  it('uploads from a plain form: the _csrf field first, then the file; 303 back to the documents', async () => {
    await applicant.get(`/applications/${id}`);
    const sheet = samples.jpeg();
    const response = await postPage(applicant, { _csrf: applicant.csrf!, expectedVersion: String(version()), kind: 'attendance-sheet' }, { name: 'лист.jpg', bytes: sheet });
    expect(response.statusCode, response.body).toBe(303);
    expect(response.headers.location).toBe(`/applications/${id}#documents`);
    expect(t.app.documentStore.has(sha256(sheet))).toBe(true);
  });

  it('uploads with htmx, the token in the header: the page comes back with a notice', async () => {
    await applicant.get(`/applications/${id}`);
    const estimate = samples.xlsx();
    const response = await postPage(applicant, { expectedVersion: String(version()), kind: 'cost-estimate' }, { name: 'смета.xlsx', bytes: estimate }, { 'hx-request': 'true', 'x-csrf-token': applicant.csrf! });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.body).toContain('смета.xlsx');
    expect(response.body).toContain('notice--success');
  });

  it('replaces a document: a new event, the new file shown, the old one still in the log', async () => {
    await applicant.get(`/applications/${id}`);
    const before = eventCount(t.db);
    const second = samples.pdf('Протокол, вторая редакция');
    const response = await postPage(applicant, { _csrf: applicant.csrf!, expectedVersion: String(version()), kind: 'meeting-minutes' }, { name: 'Протокол 2.pdf', bytes: second });
    expect(response.statusCode).toBe(303);
    expect(eventCount(t.db)).toBe(before + 1);
    const page = await applicant.get(`/applications/${id}`);
    expect(page.body).toContain('Протокол 2.pdf');
    expect(page.body).toContain(`/applications/${id}/documents/${sha256(second)}`);
    expect((await applicant.get(`/applications/${id}/documents/${sha256(pdf)}`)).statusCode).toBe(200);
  });

  it('refuses a form without its CSRF token, or with a wrong one, before reading the file: 403, nothing written', async () => {
    await applicant.get(`/applications/${id}`);
    const before = eventCount(t.db);
    const files = filesUnder(t.app.documentStore.root).length;
    const budget = samples.pdf('Выписка из бюджета');
    const none = await postPage(applicant, { expectedVersion: String(version()), kind: 'budget-extract' }, { name: 'выписка.pdf', bytes: budget });
    expect(none.statusCode).toBe(403);
    const wrong = await postPage(applicant, { _csrf: 'forged', expectedVersion: String(version()), kind: 'budget-extract' }, { name: 'выписка.pdf', bytes: budget });
    expect(wrong.statusCode).toBe(403);
    const wrongHeader = await postPage(applicant, { _csrf: applicant.csrf!, kind: 'budget-extract' }, { name: 'выписка.pdf', bytes: budget }, { 'x-csrf-token': 'forged' });
    expect(wrongHeader.statusCode).toBe(403);
    expect(eventCount(t.db)).toBe(before);
    expect(filesUnder(t.app.documentStore.root)).toHaveLength(files);
  });

  it('shows a refused file on the page (422), naming what is wrong', async () => {
    await applicant.get(`/applications/${id}`);
    const response = await postPage(applicant, { _csrf: applicant.csrf!, expectedVersion: String(version()), kind: 'budget-extract' }, { name: 'выписка.pdf', bytes: samples.html() });
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('Не удалось распознать тип файла');
  });

  it('lets the applicant submit once every required document is there, and the reviewer check them one by one', async () => {
    const budget = samples.pdf('Выписка из бюджета');
    expect((await uploadApi('applicant1', { kind: 'budget-extract' }, { name: 'выписка.pdf', bytes: budget })).statusCode).toBe(201);
    const submitted = await api(t.app, as('applicant1'), 'POST', `/api/applications/${id}/events`, { type: 'submit', expectedVersion: version() });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    expect((await api(t.app, as('reviewer1'), 'POST', `/api/applications/${id}/events`, { type: 'start-review', expectedVersion: version() })).status).toBe(200);
    const refused = await api(t.app, as('reviewer1'), 'POST', `/api/applications/${id}/events`, { type: 'accept', expectedVersion: version() });
    expect(refused.status).toBe(422);
    expect(refused.body.problems.every((p: { code: string }) => p.code === 'document-not-accepted')).toBe(true);

    const reviewer = await login(t.app, 'reviewer1');
    const page = await reviewer.get(`/applications/${id}`);
    expect(page.body).toContain(`/applications/${id}/documents/meeting-minutes/review`);
    const remark = await reviewer.post(`/applications/${id}/documents/object-photos/review`, { expectedVersion: String(version()), verdict: 'remark', remark: 'Фото не того объекта.' });
    expect(remark.statusCode).toBe(303);
    for (const kind of ['meeting-minutes', 'attendance-sheet', 'cost-estimate', 'budget-extract']) {
      const response = await api(t.app, as('reviewer1'), 'POST', `/api/applications/${id}/documents/${kind}/review`, { verdict: 'accepted', expectedVersion: version() });
      expect(response.status, kind).toBe(200);
    }
    const returned = await reviewer.post(`/applications/${id}/events`, { type: 'return-for-revision', expectedVersion: String(version()) });
    expect(returned.statusCode, returned.body).toBe(303);
    const mine = await api(t.app, as('applicant1'), 'GET', `/api/applications/${id}`);
    expect(mine.body.remarks).toEqual([{ field: 'document.object-photos', text: 'Фото не того объекта.' }]);
    const applicantPage = await applicant.get(`/applications/${id}`);
    expect(applicantPage.body).toContain('Фото не того объекта.');
  });
});

describe('the documents a programme requires', () => {
  it('are read by everyone signed in, and changed by the admin only', async () => {
    const list = await api(t.app, as('applicant1'), 'GET', `/api/programmes/${CURRENT_PROGRAMME}/document-requirements`);
    expect(list.status).toBe(200);
    expect(list.body.map((r: { kind: string }) => r.kind)).toEqual(['meeting-minutes', 'attendance-sheet', 'cost-estimate', 'budget-extract', 'sponsor-letters', 'object-photos']);
    const change = { projectType: 'culture', kind: 'design-documentation', required: true, fileTypes: ['pdf', 'docx'], maxBytes: 20 * 1024 * 1024 };
    expect((await api(t.app, as('reviewer1'), 'PUT', `/api/programmes/${CURRENT_PROGRAMME}/document-requirements`, change)).status).toBe(403);
    const saved = await api(t.app, as('admin1'), 'PUT', `/api/programmes/${CURRENT_PROGRAMME}/document-requirements`, change);
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toEqual(change);
    expect((await api(t.app, as('admin1'), 'PUT', `/api/programmes/${CURRENT_PROGRAMME}/document-requirements`, { ...change, fileTypes: ['exe'] })).status).toBe(422);
    const removed = await checkedInject(t.app, { method: 'DELETE', url: `/api/programmes/${CURRENT_PROGRAMME}/document-requirements/culture/design-documentation`, headers: { authorization: `Bearer ${as('admin1')}` } });
    expect(removed.statusCode).toBe(204);
  });

  it('has a page: a table for everyone, and a form for the admin that works without JavaScript', async () => {
    const applicant = await login(t.app, 'applicant1');
    const readOnly = await applicant.get(`/programmes/${CURRENT_PROGRAMME}/documents`);
    expect(readOnly.statusCode).toBe(200);
    expect(readOnly.body).toContain('Выписка из местного бюджета');
    expect(readOnly.body).not.toContain(`action="/programmes/${CURRENT_PROGRAMME}/documents"`);
    const admin = await login(t.app, 'admin1');
    const page = await admin.get(`/programmes/${CURRENT_PROGRAMME}/documents`);
    expect(page.body).toContain(`action="/programmes/${CURRENT_PROGRAMME}/documents"`);
    const saved = await admin.post(`/programmes/${CURRENT_PROGRAMME}/documents`, { projectType: 'sport', kind: 'object-photos', required: 'on', fileTypes: ['jpeg', 'png'], maxMb: '25' });
    expect(saved.statusCode, saved.body).toBe(303);
    const after = await admin.get(saved.headers.location as string);
    expect(after.body).toContain('data-project-type="sport" data-kind="object-photos"');
    expect(after.body).toContain('25 МБ');
    const invalid = await admin.post(`/programmes/${CURRENT_PROGRAMME}/documents`, { projectType: 'sport', kind: 'object-photos', maxMb: 'много' });
    expect(invalid.statusCode).toBe(422);
    const removed = await admin.post(`/programmes/${CURRENT_PROGRAMME}/documents/remove`, { projectType: 'sport', kind: 'object-photos' });
    expect(removed.statusCode).toBe(303);
    expect((await admin.get(`/programmes/${CURRENT_PROGRAMME}/documents`)).body).not.toContain('data-project-type="sport"');
  });
});
