import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalKinds, type JournalKind } from '../../src/domain/journal.ts';
import { api, CURRENT_PROGRAMME, eventCount, login, startApp, token, type Browser, type TestApp } from './http-helpers.ts';
import { multipart, samples } from './document-samples.ts';

/**
 * The journal's pages and API on the demo (issue 14): the list and its filters, the forms with
 * their errors beside the fields (with and without htmx, CSRF), the entries' documents, the
 * application's journal card and its minutes taken from the final meeting, and the coverage page in
 * both languages, whose figures are counted here again from the entries' own streams.
 */

const PAST_PROGRAMME = 1;
let t: TestApp;
let coordinator: Browser;
let reviewerToken: string;
let applicantToken: string;

beforeAll(async () => {
  t = await startApp();
  coordinator = await login(t.app, 'coordinator1');
  reviewerToken = await token(t.app, 'reviewer1');
  applicantToken = await token(t.app, 'applicant1');
});
afterAll(async () => {
  await t.close();
});

/** The standing entries of a programme, read from their streams' snapshots, not from the projection the pages read. */
function entriesFromStreams(programmeId: number) {
  return t.db.$client
    .prepare<[], { state: string; snapshot: string }>("SELECT state, snapshot FROM streams WHERE machine_id = 'journal'")
    .all()
    .map((row) => ({ state: row.state, ...(JSON.parse(row.snapshot) as { context: { programmeId: number; kind: JournalKind; fields: Record<string, any> } }).context }))
    .filter((entry) => entry.programmeId === programmeId && entry.state === 'recorded');
}

const people = (entry: { kind: JournalKind; fields: Record<string, any> }) =>
  entry.kind === 'training' || entry.kind === 'opening-ceremony' ? entry.fields.participants : entry.kind.endsWith('meeting') ? entry.fields.attendance : 0;

describe('the coverage page', () => {
  for (const programmeId of [PAST_PROGRAMME, CURRENT_PROGRAMME]) {
    it(`renders for demo programme ${programmeId} in Russian and English, and its totals are the entries’`, async () => {
      const entries = entriesFromStreams(programmeId);
      expect(entries.length).toBeGreaterThan(30);
      for (const lang of ['ru', 'en'] as const) {
        await coordinator.get(`/lang/${lang}?back=/`);
        const page = await coordinator.get(`/programmes/${programmeId}/coverage`);
        expect(page.statusCode).toBe(200);
        expect(page.body).toContain(lang === 'ru' ? 'Охват мероприятиями' : 'Coverage');
        expect(page.body).toMatch(/<svg[^>]+role="img"[^>]+aria-labelledby="coverage-chart-title coverage-chart-desc"/);
        for (const kind of journalKinds) {
          const ofKind = entries.filter((e) => e.kind === kind);
          const sum = ofKind.reduce((total, e) => total + people(e), 0);
          expect(page.body, `${lang} ${kind}`).toContain(`data-total-kind="${kind}" data-entries="${ofKind.length}" data-participants="${sum}"`);
        }
        const trained = new Set(entries.filter((e) => e.kind === 'training').flatMap((e) => e.fields.municipalityIds as number[]));
        const municipalities = t.db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM municipalities').get()!.n;
        expect(page.body).toContain(lang === 'ru' ? `${trained.size} из ${municipalities} муниципальных образований` : `${trained.size} of ${municipalities} municipalities`);
        // The chart draws the same share for trainings.
        expect(page.body).toContain(`data-kind="training" data-covered="${trained.size}" data-of="${municipalities}"`);
      }
      await coordinator.get('/lang/ru?back=/');
    });
  }

  it('exports CSV with a byte-order mark, semicolons, one row per municipality and the totals, formula-safe', async () => {
    t.db.$client.prepare("INSERT INTO municipalities (name, kind, population) VALUES ('=HYPERLINK(\"http://evil\")', 'settlement', 10)").run();
    const response = await coordinator.get(`/programmes/${PAST_PROGRAMME}/coverage.csv`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/csv');
    expect(response.body.startsWith('\uFEFF')).toBe(true);
    const lines = response.body.slice(1).trimEnd().split('\r\n');
    const municipalities = t.db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM municipalities').get()!.n;
    expect(lines).toHaveLength(1 + municipalities + 1);
    // Municipality, applied, applications, the five kinds that are about municipalities, three counts of people.
    expect(lines[0]!.split(';')).toHaveLength(3 + 5 + 3);
    expect(lines.some((line) => line.startsWith(`"'=HYPERLINK(""http://evil"")"`))).toBe(true);
    const totals = lines.at(-1)!.split(';');
    const entries = entriesFromStreams(PAST_PROGRAMME);
    journalKinds.filter((kind) => kind !== 'announcement').forEach((kind, i) => expect(Number(totals[3 + i]), kind).toBe(entries.filter((e) => e.kind === kind).length));
    // Staff only: the coverage names who was consulted.
    expect((await api(t.app, applicantToken, 'GET', `/api/programmes/${PAST_PROGRAMME}/coverage`)).status).toBe(403);
    const json = await api(t.app, reviewerToken, 'GET', `/api/programmes/${PAST_PROGRAMME}/coverage`);
    expect(json.status).toBe(200);
    expect(json.body.totals.entries['final-meeting']).toBe(entries.filter((e) => e.kind === 'final-meeting').length);
  });
});

describe('the journal list and its forms', () => {
  it('filters by kind, stage, municipality and date', async () => {
    const all = await coordinator.get(`/programmes/${PAST_PROGRAMME}/journal`);
    expect(all.statusCode).toBe(200);
    const kinds = (body: string) => new Set([...body.matchAll(/<tr data-kind="([a-z-]+)"/g)].map((m) => m[1]));
    expect(kinds(all.body)).toEqual(new Set(journalKinds));
    expect(kinds((await coordinator.get(`/programmes/${PAST_PROGRAMME}/journal?kind=training`)).body)).toEqual(new Set(['training']));
    expect(kinds((await coordinator.get(`/programmes/${PAST_PROGRAMME}/journal?stage=final-meetings`)).body)).toEqual(new Set(['preliminary-meeting', 'final-meeting', 'consultation']));
    const sarapul = t.db.$client.prepare<[], { id: number }>("SELECT id FROM municipalities WHERE name = 'город Сарапул'").get()!.id;
    const own = await api(t.app, reviewerToken, 'GET', `/api/programmes/${PAST_PROGRAMME}/journal?municipalityId=${sarapul}`);
    expect(own.body.entries.length).toBeGreaterThan(0);
    expect(own.body.entries.every((e: { municipalities: number[] }) => e.municipalities.includes(sarapul))).toBe(true);
    // Last year's final meetings were held in March and April (src/demo/journal.ts).
    const year = new Date().getUTCFullYear() - 1;
    const dated = await api(t.app, reviewerToken, 'GET', `/api/programmes/${PAST_PROGRAMME}/journal?from=${year}-04-01&to=${year}-04-30`);
    expect(dated.body.entries.length).toBeGreaterThan(0);
    expect(dated.body.entries.every((e: { date: string }) => e.date >= `${year}-04-01` && e.date <= `${year}-04-30`)).toBe(true);
    expect(dated.body.entries.length).toBeLessThan(entriesFromStreams(PAST_PROGRAMME).length);
    // htmx gets the page's main part, for the filters' swap.
    const fragment = await coordinator.get(`/programmes/${PAST_PROGRAMME}/journal?kind=consultation`, { 'hx-request': 'true' });
    expect(fragment.body).not.toContain('<html');
    expect(fragment.body).toContain('id="journal-results"');
  });

  it('renders the form of every kind, and offers only the kinds whose stage is active', async () => {
    const list = await coordinator.get(`/programmes/${CURRENT_PROGRAMME}/journal`);
    expect(list.body).toContain(`href="/programmes/${CURRENT_PROGRAMME}/journal/new?kind=consultation"`);
    expect(list.body).not.toContain(`href="/programmes/${CURRENT_PROGRAMME}/journal/new?kind=training"`);
    for (const kind of journalKinds) {
      const form = await coordinator.get(`/programmes/${CURRENT_PROGRAMME}/journal/new?kind=${kind}`);
      expect(form.statusCode, kind).toBe(200);
      expect(form.body).toContain(`name="kind" value="${kind}"`);
    }
    expect((await coordinator.get(`/programmes/${CURRENT_PROGRAMME}/journal/new?kind=party`)).statusCode).toBe(404);
  });

  it('refuses a consultation with its errors beside the fields, writes nothing, then records it (plain post and htmx)', async () => {
    const form = await coordinator.get(`/programmes/${CURRENT_PROGRAMME}/journal/new?kind=consultation`);
    expect(form.statusCode).toBe(200);
    const before = eventCount(t.db);
    const refused = await coordinator.post(`/programmes/${CURRENT_PROGRAMME}/journal`, { kind: 'consultation', municipalityId: '1', date: '31.02.2026', topic: '', channel: 'pigeon' });
    expect(refused.statusCode).toBe(422);
    expect(refused.body).toMatch(/id="jf-topic-error">Заполните это поле\./);
    expect(refused.body).toMatch(/id="jf-channel-error">Выберите значение из списка\./);
    expect(refused.body).toMatch(/id="jf-date-error">Укажите дату/);
    expect(refused.body).toContain('aria-invalid="true"');
    expect(eventCount(t.db)).toBe(before);
    // Without the CSRF token nothing is written either.
    const forged = await coordinator.post(`/programmes/${CURRENT_PROGRAMME}/journal`, { kind: 'consultation' }, { csrf: false });
    expect(forged.statusCode).toBe(403);
    expect(eventCount(t.db)).toBe(before);
    const today = new Date().toISOString().slice(0, 10);
    const fields = { kind: 'consultation', municipalityId: '1', date: today, channel: 'visit', topic: 'Смета', question: 'Кто подписывает смету?', answer: 'Глава поселения.', consultant: 'Сергей Иванов' };
    const recorded = await coordinator.post(`/programmes/${CURRENT_PROGRAMME}/journal`, fields);
    expect(recorded.statusCode).toBe(303);
    const entryPage = await coordinator.get(recorded.headers.location as string);
    expect(entryPage.statusCode).toBe(200);
    expect(entryPage.body).toContain('Кто подписывает смету?');
    const htmx = await coordinator.post(`/programmes/${CURRENT_PROGRAMME}/journal`, { ...fields, topic: 'Сроки' }, { headers: { 'hx-request': 'true' } });
    expect(htmx.statusCode).toBe(200);
    expect(htmx.body).not.toContain('<html');
    expect(htmx.body).toContain('id="journal-entry"');
  });

  it('through the API: 201 for staff, 422 beside the field, 403 for an applicant, 409 for a stale link', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const body = { kind: 'consultation', municipalityId: 1, date: today, channel: 'phone', topic: 'Софинансирование', question: 'Можно ли наличными?', answer: 'Да, под ведомость.', consultant: 'Ольга Смирнова' };
    const created = await api(t.app, reviewerToken, 'POST', `/api/programmes/${CURRENT_PROGRAMME}/journal`, body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ kind: 'consultation', state: 'recorded', version: 1, fields: { topic: 'Софинансирование' } });
    const bad = await api(t.app, reviewerToken, 'POST', `/api/programmes/${CURRENT_PROGRAMME}/journal`, { ...body, participants: 5, answer: '' });
    expect(bad.status).toBe(422);
    expect(bad.body.problems).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'answer', code: 'journal.problem.required' }), expect.objectContaining({ field: 'participants', code: 'journal.problem.unknown-field' })]));
    expect((await api(t.app, applicantToken, 'POST', `/api/programmes/${CURRENT_PROGRAMME}/journal`, body)).status).toBe(403);
    const unlinked = t.db.$client.prepare<[number], { id: number; version: number; municipality_id: number }>(
      "SELECT id, version, municipality_id FROM journal_entries WHERE programme_id = ? AND kind = 'final-meeting' AND application_id IS NULL ORDER BY id LIMIT 1",
    ).get(CURRENT_PROGRAMME)!;
    const application = t.db.$client.prepare<[number, number], { id: number }>('SELECT id FROM applications WHERE programme_id = ? AND municipality_id = ? ORDER BY id LIMIT 1').get(CURRENT_PROGRAMME, unlinked.municipality_id)!;
    const url = `/api/programmes/${CURRENT_PROGRAMME}/journal/${unlinked.id}/events`;
    expect((await api(t.app, reviewerToken, 'POST', url, { type: 'link-application', applicationId: application.id, expectedVersion: unlinked.version + 1 })).status).toBe(409);
    const linked = await api(t.app, reviewerToken, 'POST', url, { type: 'link-application', applicationId: application.id, expectedVersion: unlinked.version });
    expect(linked.status, JSON.stringify(linked.body)).toBe(200);
    const entry = await api(t.app, reviewerToken, 'GET', `/api/programmes/${CURRENT_PROGRAMME}/journal/${unlinked.id}`);
    expect(entry.body.applicationId).toBe(application.id);
    expect(entry.body.history.map((e: { type: string }) => e.type)).toEqual(['create', 'attach-document', 'attach-document', 'link-application']);
  });
});

/** Forms the multipart parser cannot read (the upload tests' own list is in test/int/fuzz.int.test.ts, which registers its tests when imported). */
const malformedMultipart: { payload: string; type: string }[] = [
  { type: 'multipart/form-data', payload: '--x\r\nContent-Disposition: form-data; name="kind"\r\n\r\nconsultation\r\n--x--' },
  { type: 'multipart/form-data; boundary=', payload: '--\r\n\r\n' },
  { type: 'multipart/form-data; boundary=x', payload: '--x\r\nContent-Disposition: form-da' },
  { type: 'multipart/form-data; boundary=x', payload: '--x\r\nContent-Disposition: form-data; name="file"; filename="p.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n1 0 obj' },
  { type: 'multipart/form-data; boundary=x', payload: 'garbage without any boundary' },
  { type: 'multipart/form-data; boundary=x', payload: '' },
  { type: 'multipart/form-data; boundary=x', payload: '--x\r\nContent-Disposition: garbage\r\n\r\n1\r\n--x--' },
];

describe('malformed journal forms', () => {
  it('are a 400 (or the CSRF 403 before it), never a 500, and write nothing', async () => {
    const entry = t.db.$client.prepare<[], { id: number }>("SELECT id FROM journal_entries WHERE kind = 'final-meeting' ORDER BY id LIMIT 1").get()!;
    const page = await coordinator.get(`/programmes/${PAST_PROGRAMME}/journal/${entry.id}`);
    expect(page.statusCode).toBe(200);
    const cookie = [...coordinator.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const problems: string[] = [];
    for (const body of malformedMultipart) {
      for (const [url, headers] of [
        [`/programmes/${CURRENT_PROGRAMME}/journal`, { cookie, 'x-csrf-token': coordinator.csrf! }],
        [`/programmes/${PAST_PROGRAMME}/journal/${entry.id}/documents`, { cookie }],
        [`/api/programmes/${PAST_PROGRAMME}/journal/${entry.id}/documents`, { authorization: `Bearer ${reviewerToken}` }],
      ] as const) {
        const before = eventCount(t.db);
        const response = await t.app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': body.type }, payload: body.payload });
        const label = `${url} ${body.type.slice(0, 50)} ${JSON.stringify(body.payload.slice(0, 30))} → ${response.statusCode}`;
        if (response.statusCode >= 500) problems.push(`${label}: ${response.body.slice(0, 160)}`);
        if (response.statusCode < 400) problems.push(`${label}: accepted`);
        if (eventCount(t.db) !== before) problems.push(`${label}: wrote`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('a final meeting on its application’s page', () => {
  it('shows the meeting, and the applicant takes its minutes as the application’s own through the normal attach path', async () => {
    const applicant = await login(t.app, 'applicant1');
    const row = t.db.$client
      .prepare<[number], { applicationId: number; entryId: number }>(
        `SELECT a.id AS applicationId, e.id AS entryId FROM journal_entries e JOIN applications a ON a.id = e.application_id
         JOIN users u ON u.municipality_id = a.municipality_id AND u.login = 'applicant1'
         WHERE e.programme_id = ? AND e.kind = 'final-meeting' AND e.state = 'recorded' AND a.state IN ('draft', 'returned') ORDER BY a.id LIMIT 1`,
      )
      .get(CURRENT_PROGRAMME)!;
    expect(row).toBeDefined();
    const page = await applicant.get(`/applications/${row.applicationId}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`data-entry="${row.entryId}"`);
    const form = /<form[^>]+from-journal[\s\S]*?<\/form>/.exec(page.body)![0];
    const sha256 = /name="sha256" value="([0-9a-f]{64})"/.exec(form)![1]!;
    const version = /name="expectedVersion" value="(\d+)"/.exec(form)![1]!;
    const taken = await applicant.post(`/applications/${row.applicationId}/documents/from-journal`, { entryId: String(row.entryId), sha256, expectedVersion: version });
    expect(taken.statusCode, taken.body.slice(0, 300)).toBe(303);
    const documents = await api(t.app, applicantToken, 'GET', `/api/applications/${row.applicationId}/documents`);
    expect(documents.body.documents.find((d: { kind: string }) => d.kind === 'meeting-minutes').file.sha256).toBe(sha256);
    // applicant2 may not take it for an application it cannot see.
    const other = await token(t.app, 'applicant2');
    expect((await api(t.app, other, 'POST', `/api/applications/${row.applicationId}/documents/from-journal`, { entryId: row.entryId, sha256 })).status).toBe(404);
  });

  it('adds a document to an entry from its page, checked by content', async () => {
    const entry = t.db.$client.prepare<[number], { id: number; version: number }>("SELECT id, version FROM journal_entries WHERE programme_id = ? AND kind = 'training' ORDER BY id LIMIT 1").get(PAST_PROGRAMME)!;
    const page = await coordinator.get(`/programmes/${PAST_PROGRAMME}/journal/${entry.id}`);
    expect(page.statusCode).toBe(200);
    const send = (file: { name: string; bytes: Buffer }) => {
      const form = multipart({ _csrf: coordinator.csrf!, role: 'materials', expectedVersion: String(entry.version) }, file);
      return t.app.inject({ method: 'POST', url: `/programmes/${PAST_PROGRAMME}/journal/${entry.id}/documents`, headers: { cookie: [...coordinator.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': form.contentType }, payload: form.payload });
    };
    const before = eventCount(t.db);
    const lie = await send({ name: 'материалы.pdf', bytes: samples.html() });
    expect(lie.statusCode).toBe(422);
    expect(eventCount(t.db)).toBe(before);
    const added = await send({ name: 'Презентация.pdf', bytes: samples.pdf('Prezentatsiia') });
    expect(added.statusCode).toBe(303);
    const after = await coordinator.get(`/programmes/${PAST_PROGRAMME}/journal/${entry.id}`);
    expect(after.body).toContain('Презентация.pdf');
  });
});
