import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roubleFormat } from '../../src/http/exports/register.ts';
import { CURRENT_PROGRAMME, api, completeForm, login, startApp, token, type TestApp } from './http-helpers.ts';

/**
 * Registration numbers and the register of applications (issue 13), on a copy of the demo: the
 * numbers a crowd of submissions gets, the register's totals against the event log, its CSV and
 * XLSX read back, and who may open it.
 */

let t: TestApp;
const tokens: Record<string, string> = {};
const as = (user: string) => tokens[user]!;

beforeAll(async () => {
  t = await startApp({ documentRequirements: false });
  for (const user of ['applicant1', 'coordinator1', 'auditor1', 'admin1']) tokens[user] = await token(t.app, user);
});

afterAll(async () => {
  await t.close();
});

async function draft(title: string): Promise<number> {
  const created = await api(t.app, as('applicant1'), 'POST', '/api/applications', { programmeId: CURRENT_PROGRAMME, ...completeForm(), title });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id as number;
}

async function submit(id: number) {
  return api(t.app, as('applicant1'), 'POST', `/api/applications/${id}/events`, { type: 'submit', expectedVersion: 1 });
}

const greatestSeq = () =>
  t.db.$client.prepare<[number], { seq: number }>('SELECT COALESCE(MAX(registration_seq), 0) AS seq FROM applications WHERE programme_id = ?').get(CURRENT_PROGRAMME)!.seq;

const programmeYear = () => t.db.$client.prepare<[number], { year: number }>('SELECT year FROM programmes WHERE id = ?').get(CURRENT_PROGRAMME)!.year;

describe('registration numbers', () => {
  it('gives 20 applications submitted at once 20 distinct consecutive numbers, each in its submit event', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) ids.push(await draft(`Одновременная подача ${i + 1}`));
    const before = greatestSeq();
    const answers = await Promise.all(ids.map((id) => submit(id)));
    for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBe(200);

    const rows = ids.map((id) =>
      t.db.$client.prepare<[number], { no: string | null; seq: number | null }>('SELECT registration_no AS no, registration_seq AS seq FROM applications WHERE id = ?').get(id)!,
    );
    const seqs = rows.map((r) => r.seq!).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => before + 1 + i));
    expect(new Set(rows.map((r) => r.no)).size).toBe(20);
    for (const row of rows) expect(row.no).toBe(`ИБ-${programmeYear()}-${String(row.seq).padStart(4, '0')}`);

    // The number is part of the submit event itself (its facts, hashed into the chain).
    for (const id of ids) {
      const event = t.db.$client
        .prepare<[string], { facts: string }>("SELECT facts FROM events WHERE stream_id = ? AND type = 'submit'")
        .get(`application-${id}`)!;
      const row = rows[ids.indexOf(id)]!;
      expect(JSON.parse(event.facts).registration).toEqual({ no: row.no, seq: row.seq });
    }

    // The API and the pages name the application by it; the list finds it by it.
    const read = await api(t.app, as('applicant1'), 'GET', `/api/applications/${ids[0]}`);
    expect(read.body.registrationNo).toBe(rows[0]!.no);
    const page = await (await login(t.app, 'coordinator1')).get(`/applications/${ids[0]}`);
    expect(page.body).toContain(`<title>Заявка № ${rows[0]!.no}`);
    // Its history says which event gave it.
    expect(page.body).toContain(`Регистрационный номер: ${rows[0]!.no}`);
    const found = await api(t.app, as('coordinator1'), 'GET', `/api/applications?q=${encodeURIComponent(rows[3]!.no!)}`);
    expect(found.body.map((r: { id: number }) => r.id)).toEqual([ids[3]]);
  });

  it('keeps the number through a return and a resubmission', async () => {
    const id = await draft('Возврат и повторная подача');
    await submit(id);
    const numberOf = () => t.db.$client.prepare<[number], { no: string }>('SELECT registration_no AS no FROM applications WHERE id = ?').get(id)!.no;
    const first = numberOf();
    const reviewer = await token(t.app, 'reviewer1');
    const send = (bearer: string, type: string, version: number, payload: Record<string, unknown> = {}) =>
      api(t.app, bearer, 'POST', `/api/applications/${id}/events`, { type, expectedVersion: version, ...payload });
    let version = (await send(reviewer, 'start-review', 2)).body.version;
    const returned = await send(reviewer, 'return-for-revision', version, { remarks: [{ field: 'description', text: 'Уточните объём работ.' }] });
    expect(returned.status, JSON.stringify(returned.body)).toBe(200);
    version = (await send(as('applicant1'), 'update', returned.body.version, { description: 'Замена 900 м трубы и двух колонок.' })).body.version;
    const again = await send(as('applicant1'), 'submit', version);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(numberOf()).toBe(first);
    const facts = t.db.$client.prepare<[string], { facts: string }>("SELECT facts FROM events WHERE stream_id = ? AND type = 'submit' ORDER BY seq DESC").get(`application-${id}`)!;
    expect(JSON.parse(facts.facts).registration).toBeUndefined();
  });

  it('uses the code the admin sets for the numbers given after it', async () => {
    const admin = await login(t.app, 'admin1');
    const page = await admin.get(`/programmes/${CURRENT_PROGRAMME}`);
    expect(page.body).toContain('id="programme-code"');
    const bad = await admin.post(`/programmes/${CURRENT_PROGRAMME}/code`, { code: '=1+1' });
    expect(bad.headers.location).toContain('done=code-invalid');
    const saved = await admin.post(`/programmes/${CURRENT_PROGRAMME}/code`, { code: 'ни' });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toContain('done=code-saved');
    const id = await draft('После кода');
    const before = greatestSeq();
    await submit(id);
    const no = t.db.$client.prepare<[number], { no: string }>('SELECT registration_no AS no FROM applications WHERE id = ?').get(id)!.no;
    expect(no).toBe(`НИ-${programmeYear()}-${String(before + 1).padStart(4, '0')}`);
    // A coordinator may not set it.
    const coordinator = await login(t.app, 'coordinator1');
    await coordinator.get(`/programmes/${CURRENT_PROGRAMME}`);
    expect((await coordinator.post(`/programmes/${CURRENT_PROGRAMME}/code`, { code: 'XX' })).statusCode).toBe(403);
  });
});

/** The register's figures worked out from the event log alone: each stream's form folded from its create and updates. */
function registerFromEvents(programmeId = CURRENT_PROGRAMME) {
  const streams = t.db.$client
    .prepare<[number], { streamId: string }>('SELECT stream_id AS streamId FROM applications WHERE programme_id = ?')
    .all(programmeId);
  const totals = { count: 0, subsidyKopecks: 0, localBudgetKopecks: 0, residentsKopecks: 0, businessKopecks: 0, totalKopecks: 0, awardedKopecks: 0, receivedKopecks: 0, spentKopecks: 0 };
  const events = t.db.$client.prepare<[string], { type: string; payload: string; seq: number }>('SELECT type, payload, seq FROM events WHERE stream_id = ? ORDER BY seq');
  for (const { streamId } of streams) {
    let costs: Record<string, number> = {};
    let submitted = false;
    let awarded = 0;
    // After the award (issue 11): each payment by its event's place, cancelled ones taken out again; the last spending report.
    const payments = new Map<number, number>();
    let spent = 0;
    for (const event of events.all(streamId)) {
      const payload = JSON.parse(event.payload);
      if (event.type === 'create') costs = { ...(payload.form?.costs ?? payload.costs ?? {}) };
      if (event.type === 'update' && payload.costs) costs = { ...costs, ...payload.costs };
      if (event.type === 'submit') submitted = true;
      if (event.type === 'award') awarded = payload.amountKopecks;
      if (event.type === 'record-contribution') payments.set(event.seq, payload.amountKopecks);
      if (event.type === 'cancel-contribution') payments.delete(payload.seq);
      if (event.type === 'report-spending') spent = Object.values(payload.actual as Record<string, number>).reduce((a, b) => a + b, 0);
    }
    if (!submitted) continue;
    const c = (key: string) => costs[key] ?? 0;
    totals.count += 1;
    totals.subsidyKopecks += c('subsidy');
    totals.localBudgetKopecks += c('localBudget');
    totals.residentsKopecks += c('residents');
    totals.businessKopecks += c('business');
    totals.totalKopecks += c('subsidy') + c('localBudget') + c('residents') + c('business');
    totals.awardedKopecks += awarded;
    totals.receivedKopecks += [...payments.values()].reduce((a, b) => a + b, 0);
    totals.spentKopecks += spent;
  }
  return totals;
}

describe('the register', () => {
  it('answers the API with every submitted application and totals that the event log gives independently', async () => {
    const response = await api(t.app, as('coordinator1'), 'GET', `/api/programmes/${CURRENT_PROGRAMME}/register`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.totals).toEqual(registerFromEvents());
    expect(response.body.rows.length).toBe(response.body.totals.count);
    expect(response.body.totals.count).toBeGreaterThan(20);
    // Last year's, with its projects built: what was received and spent, from the payments and the spending reports.
    const past = await api(t.app, as('coordinator1'), 'GET', '/api/programmes/1/register');
    expect(past.body.totals).toEqual(registerFromEvents(1));
    expect(past.body.totals.receivedKopecks).toBeGreaterThan(0);
    expect(past.body.totals.spentKopecks).toBeGreaterThan(0);
    expect(past.body.rows.filter((r: { decidedAt: string | null }) => r.decidedAt !== null).length).toBeGreaterThan(20);
    // Sorted by number by default: the numbered ones in the order they were numbered.
    const numbered = response.body.rows.filter((r: { registrationNo: string | null }) => r.registrationNo).map((r: { registrationNo: string }) => r.registrationNo);
    expect(numbered).toEqual([...numbered].sort());
  });

  it('filters by municipality and state, and sorts by a column', async () => {
    const all = (await api(t.app, as('auditor1'), 'GET', `/api/programmes/${CURRENT_PROGRAMME}/register`)).body;
    const someone = all.rows[0];
    const filtered = (await api(t.app, as('auditor1'), 'GET', `/api/programmes/${CURRENT_PROGRAMME}/register?municipalityId=${someone.municipalityId}&state=${someone.state}`)).body;
    expect(filtered.rows.length).toBe(all.rows.filter((r: any) => r.municipalityId === someone.municipalityId && r.state === someone.state).length);
    expect(filtered.totals.subsidyKopecks).toBe(filtered.rows.reduce((s: number, r: any) => s + r.subsidyKopecks, 0));
    const byTotal = (await api(t.app, as('auditor1'), 'GET', `/api/programmes/${CURRENT_PROGRAMME}/register?sort=total&dir=desc`)).body.rows.map((r: any) => r.totalKopecks);
    expect(byTotal).toEqual([...byTotal].sort((a: number, b: number) => b - a));
    // A malformed filter is ignored, not a 500.
    expect((await api(t.app, as('auditor1'), 'GET', `/api/programmes/${CURRENT_PROGRAMME}/register?state=nonsense&sort=x`)).body.totals).toEqual(all.totals);
  });

  it('shows the page with badges, sort links and the totals row; staff only', async () => {
    const coordinator = await login(t.app, 'coordinator1');
    const page = await coordinator.get(`/programmes/${CURRENT_PROGRAMME}/register?sort=awarded&dir=desc`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('class="badge badge--');
    expect(page.body).toContain('aria-sort="descending"');
    expect(page.body).toMatch(/data-total="subsidy">[^<]+₽?/);
    const programme = await coordinator.get(`/programmes/${CURRENT_PROGRAMME}`);
    expect(programme.body).toContain(`/programmes/${CURRENT_PROGRAMME}/register`);
    const english = await coordinator.get(`/programmes/${CURRENT_PROGRAMME}/register?lang=en`, { 'accept-language': 'en' });
    expect(english.statusCode).toBe(200);

    const applicant = await login(t.app, 'applicant1');
    expect((await applicant.get(`/programmes/${CURRENT_PROGRAMME}/register`)).statusCode).toBe(403);
    expect((await api(t.app, as('applicant1'), 'GET', `/api/programmes/${CURRENT_PROGRAMME}/register`)).status).toBe(403);
    expect((await api(t.app, as('coordinator1'), 'GET', '/api/programmes/9999/register')).status).toBe(404);
  });

  it('exports CSV with a byte-order mark, semicolons, formula-safe texts and the totals', async () => {
    const id = await draft('=HYPERLINK("http://example.com")');
    await submit(id);
    const coordinator = await login(t.app, 'coordinator1');
    const csv = await coordinator.get(`/programmes/${CURRENT_PROGRAMME}/register.csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.startsWith('\uFEFF')).toBe(true);
    const lines = csv.body.slice(1).trimEnd().split('\r\n');
    expect(lines[0]!.split(';')[0]).toBe('Рег. номер');
    expect(csv.body).toContain(`"'=HYPERLINK(""http://example.com"")"`);
    const totals = (await api(t.app, as('coordinator1'), 'GET', `/api/programmes/${CURRENT_PROGRAMME}/register`)).body.totals;
    const last = lines.at(-1)!.split(';');
    expect(last[0]).toBe('Итого');
    expect(last[1]).toBe(String(totals.count));
    expect(last[7]).toBe(`${Math.floor(totals.subsidyKopecks / 100)},${String(totals.subsidyKopecks % 100).padStart(2, '0')}`);
    expect(lines.length).toBe(totals.count + 2);
  });

  it('exports XLSX that exceljs reads back: sheet, frozen header, rouble format, SUM totals, autofilter', async () => {
    const response = await (await login(t.app, 'coordinator1')).get(`/programmes/${CURRENT_PROGRAMME}/register.xlsx`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toContain('spreadsheetml');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(response.rawPayload as unknown as ArrayBuffer);
    const sheet = workbook.getWorksheet('Реестр')!;
    expect(sheet).toBeDefined();
    expect(sheet.getRow(1).getCell(1).value).toBe('Рег. номер');
    expect(sheet.getRow(1).getCell(8).value).toBe('Субсидия, ₽');
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    const totals = (await api(t.app, as('coordinator1'), 'GET', `/api/programmes/${CURRENT_PROGRAMME}/register`)).body.totals;
    const lastRow = totals.count + 2;
    const total = sheet.getRow(lastRow);
    expect(total.getCell(1).value).toBe('Итого');
    expect(total.getCell(8).value).toMatchObject({ formula: `SUM(H2:H${lastRow - 1})`, result: totals.subsidyKopecks / 100 });
    expect(total.getCell(14).value).toMatchObject({ formula: `SUM(N2:N${lastRow - 1})` });
    expect(sheet.getRow(2).getCell(8).numFmt).toBe(roubleFormat);
    expect(typeof sheet.getRow(2).getCell(8).value).toBe('number');
    const sum = Array.from({ length: totals.count }, (_, i) => Math.round((sheet.getRow(i + 2).getCell(8).value as number) * 100)).reduce((a, b) => a + b, 0);
    expect(sum).toBe(totals.subsidyKopecks);
    expect(sheet.autoFilter).toBeTruthy();
  });
});
