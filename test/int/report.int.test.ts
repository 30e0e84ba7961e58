import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fundSources, type Amounts } from '../../src/domain/implementation.ts';
import type { ApplicationForm } from '../../src/domain/application.ts';
import { loadStreamEvents, replayStream } from '../../src/engine/replay.ts';
import type { EventRow, StreamRow } from '../../src/engine/engine.ts';
import { foldHead, GENESIS_HASH } from '../../src/engine/ledger.ts';
import { api, CURRENT_PROGRAMME, csrfOf, eventCount, login, startApp, token, type TestApp } from './http-helpers.ts';

/**
 * The analytical report (issue 13): every figure of `GET /api/programmes/:id/report` computed
 * again here from the demo's events — payloads folded by hand (awards, agreements, payments and
 * their cancellations, spending reports, contracts), forms from each stream replayed through its
 * machine — not from the report's query; the XLSX read back with exceljs; the page in Russian and
 * English; the recommendations recorded as an event of the closing stage.
 */
let t: TestApp;
let bearer: string;
beforeAll(async () => {
  t = await startApp();
  bearer = await token(t.app, 'coordinator1');
});
afterAll(async () => t.close());

const PAST_PROGRAMME = 1;

interface Folded {
  id: number;
  municipalityId: number;
  form: ApplicationForm;
  submitted: boolean;
  accepted: boolean;
  lastState: string;
  awarded: number | null;
  agreed: Amounts | null;
  received: Amounts;
  spent: Amounts | null;
  price: number | null;
}

const zero = (): Amounts => ({ subsidy: 0, localBudget: 0, residents: 0, business: 0 });
const sum = (a: Amounts) => a.subsidy + a.localBudget + a.residents + a.business;
const key = (source: string) => (source === 'local-budget' ? 'localBudget' : source) as keyof Amounts;

/** Each application of the programme, from its own events. */
function fold(programmeId: number): Folded[] {
  const sqlite = t.db.$client;
  const streams = sqlite.prepare<[], StreamRow>("SELECT id, kind, machine_id AS machineId, machine_version AS machineVersion, state, snapshot, version, head_hash AS headHash, updated_at AS updatedAt FROM streams WHERE kind = 'application'").all();
  const folded: Folded[] = [];
  for (const stream of streams) {
    const events: EventRow[] = loadStreamEvents(t.db, stream.id);
    const create = JSON.parse(events[0]!.payload) as { programmeId: number; municipalityId: number };
    if (create.programmeId !== programmeId) continue;
    const replayed = replayStream(t.app.engine.registry, stream, events);
    expect(replayed.problems).toEqual([]);
    const form = (JSON.parse(replayed.replayedSnapshot!) as { context: { form: ApplicationForm } }).context.form;
    const item: Folded = { id: Number(stream.id.split('-')[1]), municipalityId: create.municipalityId, form, submitted: false, accepted: false, lastState: events.at(-1)!.toState, awarded: null, agreed: null, received: zero(), spent: null, price: null };
    const payments = new Map<number, { source: string; amountKopecks: number }>();
    for (const event of events) {
      const payload = JSON.parse(event.payload) as Record<string, unknown>;
      if (event.type === 'submit') item.submitted = true;
      if (event.toState === 'accepted') item.accepted = true;
      if (event.type === 'award') item.awarded = payload.amountKopecks as number;
      if (event.type === 'sign-agreement') item.agreed = payload.amounts as Amounts;
      if (event.type === 'record-contribution') payments.set(event.seq, payload as { source: string; amountKopecks: number });
      if (event.type === 'cancel-contribution') payments.delete(payload.seq as number);
      if (event.type === 'report-spending') item.spent = payload.actual as Amounts;
      if (event.type === 'sign-contract') item.price = payload.priceKopecks as number;
    }
    for (const payment of payments.values()) item.received[key(payment.source)] += payment.amountKopecks;
    folded.push(item);
  }
  return folded;
}

const costsOf = (f: Folded): Amounts => ({ subsidy: f.form.costs?.subsidy ?? 0, localBudget: f.form.costs?.localBudget ?? 0, residents: f.form.costs?.residents ?? 0, business: f.form.costs?.business ?? 0 });
const totals = (list: Amounts[]) => {
  const out = { ...zero(), total: 0 };
  for (const a of list) for (const s of fundSources) out[s] += a[s];
  out.total = sum(out);
  return out;
};

describe('the analytical report’s figures', () => {
  for (const programmeId of [PAST_PROGRAMME, CURRENT_PROGRAMME]) {
    it(`are what programme ${programmeId}’s events say, computed again from them`, async () => {
      const report = (await api(t.app, bearer, 'GET', `/api/programmes/${programmeId}/report`)).body;
      const c = report.current;
      const all = fold(programmeId);
      const submitted = all.filter((f) => f.submitted);
      const awarded = all.filter((f) => f.awarded !== null);
      expect(c.funnel).toEqual({
        created: all.length,
        submitted: submitted.length,
        accepted: all.filter((f) => f.accepted).length,
        awarded: awarded.length,
        closed: all.filter((f) => f.lastState === 'closed').length,
        terminated: all.filter((f) => f.lastState === 'terminated').length,
        rejected: all.filter((f) => f.lastState === 'rejected').length,
        notAwarded: all.filter((f) => f.lastState === 'not-awarded').length,
        withdrawn: all.filter((f) => f.lastState === 'withdrawn').length,
      });
      expect(c.planned).toEqual(totals(submitted.map(costsOf)));
      expect(c.plannedAwarded).toEqual(totals(awarded.map(costsOf)));
      expect(c.awardedKopecks).toBe(awarded.reduce((s, f) => s + f.awarded!, 0));
      const withAgreement = awarded.filter((f) => f.agreed !== null);
      expect(c.agreements).toBe(withAgreement.length);
      expect(c.agreed).toEqual(totals(withAgreement.map((f) => f.agreed!)));
      expect(c.received).toEqual(totals(awarded.map((f) => f.received)));
      expect(c.spent).toEqual(totals(awarded.filter((f) => f.spent).map((f) => f.spent!)));
      expect(c.savings).toBe(awarded.reduce((s, f) => s + (f.agreed && f.price !== null ? Math.max(0, sum(f.agreed) - f.price) : 0), 0));
      const plannedAwarded = totals(awarded.map(costsOf));
      const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);
      if (awarded.length > 0) {
        expect(c.leverage.planned.all).toBeCloseTo(ratio(plannedAwarded.localBudget + plannedAwarded.residents + plannedAwarded.business, plannedAwarded.subsidy)!, 10);
        expect(c.leverage.planned.residents).toBeCloseTo(ratio(plannedAwarded.residents, plannedAwarded.subsidy)!, 10);
        expect(c.residentsShareBp.planned).toBe(Math.round((plannedAwarded.residents * 10_000) / plannedAwarded.total));
      } else expect(c.leverage.planned).toBeNull();
      const agreed = totals(withAgreement.map((f) => f.agreed!));
      if (withAgreement.length > 0) {
        expect(c.leverage.agreed.all).toBeCloseTo((agreed.localBudget + agreed.residents + agreed.business) / agreed.subsidy, 10);
        expect(c.leverage.agreed.localBudget).toBeCloseTo(agreed.localBudget / agreed.subsidy, 10);
        expect(c.leverage.agreed.business).toBeCloseTo(agreed.business / agreed.subsidy, 10);
        expect(c.residentsShareBp.agreed).toBe(Math.round((agreed.residents * 10_000) / agreed.total));
      } else expect(c.leverage.agreed).toBeNull();
      const beneficiaries = awarded.reduce((s, f) => s + (f.form.beneficiaries ?? 0), 0);
      const participants = awarded.reduce((s, f) => s + (f.form.meetingAttendance ?? 0), 0);
      expect([c.beneficiaries, c.meetingParticipants]).toEqual([beneficiaries, participants]);
      if (plannedAwarded.total > 0) expect(c.beneficiariesPerMillion).toBeCloseTo(beneficiaries / (plannedAwarded.total / 100_000_000), 8);

      // The breakdowns: by type, by municipality, by kind of municipality, each with its submitted and awarded.
      const kinds = new Map(t.db.$client.prepare<[], { id: number; kind: string }>('SELECT id, kind FROM municipalities').all().map((m) => [m.id, m.kind]));
      const groupBy = (keyOf: (f: Folded) => string) => {
        const groups = new Map<string, { submitted: number; awarded: number; plannedTotal: number; awardedKopecks: number; received: number; beneficiaries: number }>();
        for (const f of submitted) {
          const g = groups.get(keyOf(f)) ?? { submitted: 0, awarded: 0, plannedTotal: 0, awardedKopecks: 0, received: 0, beneficiaries: 0 };
          g.submitted += 1;
          g.plannedTotal += sum(costsOf(f));
          if (f.awarded !== null) {
            g.awarded += 1;
            g.awardedKopecks += f.awarded;
            g.received += sum(f.received);
            g.beneficiaries += f.form.beneficiaries ?? 0;
          }
          groups.set(keyOf(f), g);
        }
        return Object.fromEntries(groups);
      };
      type Group = { key: string; submitted: number; awarded: number; plannedTotal: number; awardedKopecks: number; received: number; beneficiaries: number };
      const asMap = (rows: Group[]) => Object.fromEntries(rows.map((g) => [g.key, { submitted: g.submitted, awarded: g.awarded, plannedTotal: g.plannedTotal, awardedKopecks: g.awardedKopecks, received: g.received, beneficiaries: g.beneficiaries }]));
      expect(asMap(c.byType)).toEqual(groupBy((f) => f.form.projectType ?? ''));
      expect(asMap(c.byMunicipality)).toEqual(groupBy((f) => String(f.municipalityId)));
      expect(asMap(c.byKind)).toEqual(groupBy((f) => kinds.get(f.municipalityId)!));

      // The ledger head it names is the fold of the whole log.
      let head = GENESIS_HASH;
      const hashes = t.db.$client.prepare<[], { hash: string }>('SELECT hash FROM events ORDER BY position').all();
      for (const row of hashes) head = foldHead(head, row.hash);
      expect(report.ledger).toEqual({ events: hashes.length, head });
    });
  }

  it('sets the current programme beside the one before it, and the past one beside none', async () => {
    const current = (await api(t.app, bearer, 'GET', `/api/programmes/${CURRENT_PROGRAMME}/report`)).body;
    const past = (await api(t.app, bearer, 'GET', `/api/programmes/${PAST_PROGRAMME}/report`)).body;
    expect(current.previous.programmeId).toBe(PAST_PROGRAMME);
    expect(current.previous).toEqual(past.current);
    expect(past.previous).toBeNull();
    // The demo's past programme did the whole cycle: money agreed, received and spent, something saved.
    expect(past.current.agreed.total).toBeGreaterThan(0);
    expect(past.current.received.total).toBeGreaterThan(0);
    expect(past.current.spent.total).toBeGreaterThan(0);
    expect(past.current.savings).toBeGreaterThan(0);
    expect(past.current.recommendations ?? past.recommendations.length).toBe(2);
  });

  it('is for the staff only', async () => {
    const applicant = await token(t.app, 'applicant1');
    expect((await api(t.app, applicant, 'GET', `/api/programmes/${PAST_PROGRAMME}/report`)).status).toBe(403);
    expect((await api(t.app, bearer, 'GET', '/api/programmes/999/report')).status).toBe(404);
  });
});

describe('the analytical report’s XLSX', () => {
  it('opens in a real reader: its sheets, headers, totals as formulas and roubles as numbers', async () => {
    const browser = await login(t.app, 'coordinator1');
    const response = await browser.get(`/programmes/${PAST_PROGRAMME}/report.xlsx`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-disposition']).toMatch(/attachment; filename="report-1-\d{4}-\d{2}-\d{2}\.xlsx"/);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(response.rawPayload as unknown as ArrayBuffer);
    expect(workbook.worksheets.map((s) => s.name)).toEqual(['Сводка', 'Типы проектов', 'Муниципалитеты', 'Виды МО', 'Путь заявок', 'Примечания']);
    // Every sheet keeps its header in view.
    for (const sheet of workbook.worksheets) expect(sheet.views[0], sheet.name).toMatchObject({ state: 'frozen', ySplit: 1 });
    // The notes, numbered as on the page, say how each figure is computed.
    const notes = workbook.getWorksheet('Примечания')!;
    expect(notes.getRow(1).values).toEqual([undefined, '№', 'Как рассчитаны показатели']);
    expect(notes.rowCount).toBeGreaterThanOrEqual(9);
    expect(String(notes.getRow(2).getCell(2).value)).toContain('В заявках');
    expect(String(notes.getRow(notes.rowCount).getCell(2).value)).toContain('в целых рублях');
    const report = (await api(t.app, bearer, 'GET', `/api/programmes/${PAST_PROGRAMME}/report`)).body.current;
    const summary = workbook.getWorksheet('Сводка')!;
    expect(summary.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(summary.getRow(1).values).toEqual([undefined, 'Источник', 'В заявках', 'В заявках победителей', 'По соглашениям', 'Поступило', 'Израсходовано']);
    expect(summary.getRow(2).getCell(1).value).toBe('Субсидия');
    expect(summary.getRow(2).getCell(3).value).toBe(report.plannedAwarded.subsidy / 100);
    // Whole roubles shown, as on the page; the cell keeps the exact sum with its kopecks.
    expect(summary.getRow(2).getCell(3).numFmt).toBe('#,##0 "₽"');
    const total = summary.getRow(6);
    expect(total.getCell(1).value).toBe('Всего');
    expect(total.getCell(4).value).toEqual({ formula: 'SUM(D2:D5)', result: report.agreed.total / 100 });
    expect(total.getCell(5).value).toEqual({ formula: 'SUM(E2:E5)', result: report.received.total / 100 });
    expect(total.getCell(6).numFmt).toBe('#,##0 "₽"');
    const municipalities = workbook.getWorksheet('Муниципалитеты')!;
    expect(municipalities.getRow(1).getCell(1).value).toBe('Муниципалитет');
    const last = municipalities.getRow(report.byMunicipality.length + 2);
    expect(last.getCell(1).value).toBe('Всего');
    expect(last.getCell(2).value).toMatchObject({ formula: `SUM(B2:B${report.byMunicipality.length + 1})`, result: report.funnel.submitted });
    expect(municipalities.autoFilter).toBeDefined();
  });
});

describe('the registration number names the application (issue 13)', () => {
  it('in the commission’s ranking, the protocol, the journal and the notifications', async () => {
    const winner = t.db.$client
      .prepare<[number], { id: number; no: string }>('SELECT id, registration_no AS no FROM applications WHERE programme_id = ? AND awarded_kopecks IS NOT NULL AND registration_no IS NOT NULL ORDER BY id LIMIT 1')
      .get(PAST_PROGRAMME)!;
    const coordinator = await login(t.app, 'coordinator1');
    for (const url of [`/programmes/${PAST_PROGRAMME}/protocol`, `/programmes/${PAST_PROGRAMME}/commission`]) {
      const page = await coordinator.get(url);
      expect(page.statusCode).toBe(200);
      expect(page.body, url).toContain(`Заявка № ${winner.no}`);
      expect(page.body, url).not.toContain(`Заявка № ${winner.id}<`);
    }
    const linked = t.db.$client.prepare<[], { applicationId: number; no: string }>(
      "SELECT e.application_id AS applicationId, a.registration_no AS no FROM journal_entries e JOIN applications a ON a.id = e.application_id WHERE a.registration_no IS NOT NULL LIMIT 1",
    ).get();
    if (linked) {
      const journal = await coordinator.get(`/programmes/${CURRENT_PROGRAMME}/journal`);
      const past = await coordinator.get(`/programmes/${PAST_PROGRAMME}/journal`);
      expect(journal.body + past.body).toContain(`Заявка № ${linked.no}`);
    }
    // A notification written after the number was given names the application by it.
    const noticed = t.db.$client
      .prepare<[], { userId: number; no: string }>("SELECT n.user_id AS userId, a.registration_no AS no FROM notifications n JOIN applications a ON a.id = n.application_id JOIN users u ON u.id = n.user_id WHERE a.registration_no IS NOT NULL AND u.login = 'applicant1' AND json_extract(n.params, '$.number') IS NOT NULL LIMIT 1")
      .get()!;
    expect(noticed).toBeDefined();
    const applicant = await login(t.app, 'applicant1');
    const inbox = await applicant.get('/notifications');
    expect(inbox.body).toContain(`№ ${noticed.no}`);
  });
});

describe('the programme’s open data', () => {
  it('serves the register as CSV and the report as XLSX without signing in, with no person in either', async () => {
    const csv = await t.app.inject({ url: `/api/programmes/${PAST_PROGRAMME}/register.csv` });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.body.charCodeAt(0)).toBe(0xfeff);
    const lines = csv.body.slice(1).trim().split(/\r?\n/);
    const report = (await api(t.app, bearer, 'GET', `/api/programmes/${PAST_PROGRAMME}/report`)).body.current;
    // A header, one line per submitted application, the totals.
    expect(lines.length).toBe(report.funnel.submitted + 2);
    const xlsx = await t.app.inject({ url: `/api/programmes/${PAST_PROGRAMME}/report.xlsx?lang=en` });
    expect(xlsx.statusCode).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    expect(workbook.worksheets.map((s) => s.name)).toEqual(['Summary', 'Project types', 'Municipalities', 'Kinds of municipality', 'Path of applications', 'Notes']);
    // Nobody's name: not the applicants', the reviewers', the coordinator's or the commission's.
    const names = t.db.$client.prepare<[], { name: string }>('SELECT name FROM users').all().map((u) => u.name);
    const cells: string[] = [];
    workbook.eachSheet((sheet) => sheet.eachRow((row) => row.eachCell((cell) => cells.push(String(cell.text)))));
    for (const name of names) {
      expect(csv.body).not.toContain(name);
      expect(cells.join('\n')).not.toContain(name);
    }
    expect((await t.app.inject({ url: '/api/programmes/999/register.csv' })).statusCode).toBe(404);
  });
});

describe('the analytical report’s page', () => {
  it('renders in Russian and in English, with its figures, charts, footnotes and the ledger head', async () => {
    const browser = await login(t.app, 'coordinator1');
    const report = (await api(t.app, bearer, 'GET', `/api/programmes/${CURRENT_PROGRAMME}/report`)).body;
    for (const [lang, words] of [
      ['ru', ['Аналитический отчёт', 'Средства по источникам', 'Привлечённые средства', 'Как рассчитаны показатели', 'Предыдущая программа']],
      ['en', ['Analytical report', 'Funds by source', 'Money drawn in', 'How the figures are computed', 'Previous programme']],
    ] as const) {
      const page = await browser.get(`/programmes/${CURRENT_PROGRAMME}/report?lang=${lang}`);
      expect(page.statusCode).toBe(200);
      for (const word of words) expect(page.body, `${lang}: ${word}`).toContain(word);
      expect(page.body).toContain(report.ledger.head);
      expect(page.body).toContain('class="funds-chart"');
      expect(page.body).toContain('class="funnel-chart"');
      // No catalogue key and no kopecks shown: money in roubles with ₽ after the number.
      expect(page.body).not.toMatch(/>\s*report\.[a-z]/);
      expect(page.body).toMatch(/\d\u00a0₽</);
      // Money cells show whole roubles; only the leverage (roubles per rouble of subsidy) has a fraction.
      const moneyCells = [...page.body.matchAll(/data-kind="money" data-value="\d*">([^<]*)</g)].map((m) => m[1]!);
      expect(moneyCells.length).toBeGreaterThan(20);
      for (const text of moneyCells) expect(text).toMatch(/^(—|-?\d{1,3}([\u00a0,]\d{3})*\u00a0₽)$/);
      // The planned total in whole roubles, rounded half up, grouped by thin spaces in Russian and commas in English.
      const whole = Math.floor((report.current.planned.total + 50) / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, lang === 'ru' ? '\u00a0' : ',');
      expect(page.body).toContain(`${whole}\u00a0₽`);
      expect(page.body).toContain(lang === 'ru' ? 'в целых рублях' : 'in whole roubles');
      // Every footnote is referenced from a figure, and every reference leads to a footnote.
      const notes = [...page.body.matchAll(/<li id="note-([a-z]+)">/g)].map((m) => m[1]!);
      const refs = new Set([...page.body.matchAll(/href="#note-([a-z]+)"/g)].map((m) => m[1]!));
      expect(notes.length).toBeGreaterThanOrEqual(8);
      expect([...refs].sort()).toEqual([...notes].sort());
      expect(page.body).toContain(`data-value="${report.current.planned.total}"`);
    }
  });

  it('takes the coordinator’s recommendations as an event of the closing stage, keeps the earlier version, and refuses an empty text beside the field', async () => {
    const browser = await login(t.app, 'coordinator1');
    const page = await browser.get(`/programmes/${PAST_PROGRAMME}/report`);
    const version = /name="expectedVersion" value="(\d+)"/.exec(page.body)![1]!;
    const before = eventCount(t.db);
    const empty = await browser.post(`/programmes/${PAST_PROGRAMME}/report/recommendations`, { text: '   ', expectedVersion: version });
    expect(empty.statusCode).toBe(422);
    expect(empty.body).toContain('id="recommendations-error"');
    expect(empty.body).toContain('Напишите текст рекомендаций.');
    expect(eventCount(t.db)).toBe(before);
    const text = 'Рекомендация <b>из теста</b>: сохранить обучение групп.';
    const saved = await browser.post(`/programmes/${PAST_PROGRAMME}/report/recommendations`, { text, expectedVersion: version });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe(`/programmes/${PAST_PROGRAMME}/report?done=recommendations#recommendations`);
    expect(eventCount(t.db)).toBe(before + 1);
    const event = t.db.$client.prepare<[], { type: string; payload: string; streamId: string }>('SELECT type, payload, stream_id AS streamId FROM events ORDER BY position DESC LIMIT 1').get()!;
    expect(event).toEqual({ type: 'record-recommendations', payload: JSON.stringify({ text }), streamId: `stage-${PAST_PROGRAMME}-12` });
    const shown = await browser.get(`/programmes/${PAST_PROGRAMME}/report?done=recommendations`);
    expect(shown.body).toContain('Рекомендации записаны в журнал.');
    expect(shown.body).toContain('Рекомендация &lt;b&gt;из теста&lt;/b&gt;');
    expect(shown.body).toContain('Прежние редакции (2)');
    // The same form again from the page before: a stale version is a conflict, with the fresh text shown.
    const stale = await browser.post(`/programmes/${PAST_PROGRAMME}/report/recommendations`, { text: 'Поздно.', expectedVersion: version, _csrf: csrfOf(shown.body) });
    expect(stale.statusCode).toBe(409);
    expect(eventCount(t.db)).toBe(before + 1);
  });

  it('lets only the coordinator record them, and checks the form’s CSRF token', async () => {
    const member = await login(t.app, 'commission1');
    expect((await member.get(`/programmes/${PAST_PROGRAMME}/report`)).statusCode).toBe(200);
    const before = eventCount(t.db);
    expect((await member.post(`/programmes/${PAST_PROGRAMME}/report/recommendations`, { text: 'Не моё.', expectedVersion: '1' })).statusCode).toBe(403);
    const applicant = await login(t.app, 'applicant1');
    expect((await applicant.get(`/programmes/${PAST_PROGRAMME}/report`)).statusCode).toBe(403);
    const coordinator = await login(t.app, 'coordinator1');
    await coordinator.get(`/programmes/${PAST_PROGRAMME}/report`);
    expect((await coordinator.post(`/programmes/${PAST_PROGRAMME}/report/recommendations`, { text: 'Без токена.', expectedVersion: '1', _csrf: 'forged' })).statusCode).toBe(403);
    expect(eventCount(t.db)).toBe(before);
  });
});
