import ExcelJS from 'exceljs';
import { recordSetting } from '../../src/engine/settings-log.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CURRENT_PROGRAMME, api, eventCount, login, startApp, token, type Browser, type TestApp } from './http-helpers.ts';
import { verifyLedger } from '../../src/engine/verify.ts';

/**
 * The commission's journey over HTTP (issue 5): the admin sets the criteria, the coordinator opens
 * stage 7, the members score from the commission page and watch the ranking move, the decision is
 * recorded, the protocol opens, the CSV and the XLSX download, and the XLSX read back says what
 * the ranking says. No other role may score or decide.
 */

const P = CURRENT_PROGRAMME;
let t: TestApp;
let members: Browser[];
let bearer: Record<string, string>;

interface ApiRow {
  rank: number;
  applicationId: number;
  title: string;
  scores: { total: number; totalCenti: number; criteria: Record<string, number>; members: { memberId: number; significance: number }[] };
  requestedKopecks: number;
  allocatedKopecks: number;
  fundLeftKopecks: number;
  outcome: string;
  why: string | null;
}

const ranking = async (who = 'commission1') => (await api<{ rows: ApiRow[]; decided: boolean; fundLeftKopecks: number; quorum: number }>(t.app, bearer[who]!, 'GET', `/api/programmes/${P}/ranking`)).body;
const memberId = (login: string) => t.db.$client.prepare<[string], { id: number }>('SELECT id FROM users WHERE login = ?').get(login)!.id;
const versionOf = (id: number) => t.db.$client.prepare<[number], { version: number }>('SELECT version FROM applications WHERE id = ?').get(id)!.version;

beforeAll(async () => {
  t = await startApp();
  bearer = {};
  for (const who of ['commission1', 'coordinator1', 'admin1', 'applicant1', 'reviewer1', 'auditor1']) bearer[who] = await token(t.app, who);
  members = [await login(t.app, 'commission1'), await login(t.app, 'commission2'), await login(t.app, 'commission3')];
});

afterAll(async () => {
  await t.close();
});

describe('the commission journey', () => {
  it('lets the admin set the criteria before stage 7, then the coordinator opens it and they are fixed', async () => {
    const admin = await login(t.app, 'admin1');
    const page = await admin.get(`/programmes/${P}/criteria`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="weight.residents-share"');
    const form: Record<string, string> = { quorum: '3', partialAward: 'yes' };
    for (const [key, weight, full] of [
      ['residents-share', '20', '10'],
      ['business-share', '10', '10'],
      ['local-share-above-minimum', '10', '10'],
      ['beneficiaries-share', '15', '100'],
      ['attendance-share', '10', '10'],
      ['non-monetary-share', '10', '10'],
      ['social-significance', '25', ''],
    ] as const) {
      form[`weight.${key}`] = weight;
      if (full) form[`fullAt.${key}`] = full;
    }
    expect((await admin.post(`/programmes/${P}/criteria`, { ...form, 'weight.business-share': 'много' })).statusCode).toBe(422);
    const saved = await admin.post(`/programmes/${P}/criteria`, form);
    expect(saved.statusCode, saved.body).toBe(303);
    const settings = (await api(t.app, bearer.admin1!, 'GET', `/api/programmes/${P}/criteria`)).body;
    expect(settings).toMatchObject({ quorum: 3, partialAward: true, fixed: false });
    // The API saves what the page saved, and says so.
    const again = await api(t.app, bearer.admin1!, 'PUT', `/api/programmes/${P}/criteria`, { criteria: settings.criteria, quorum: settings.quorum, partialAward: settings.partialAward });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toEqual(settings);

    // The fund of this year's demo is generous; make it tight so that the ranking decides something.
    t.db.$client.prepare('UPDATE programmes SET fund_kopecks = 450000000 WHERE id = ?').run(P);
    // Entered in the settings log, as any change of a programme's settings is: verify re-derives the table from it.
    recordSetting(t.db.$client, 'programmes', P, new Date(), null);

    const stage = (await api<{ stages: { no: number; version: number }[] }>(t.app, bearer.coordinator1!, 'GET', `/api/programmes/${P}`)).body.stages.find((s) => s.no === 7)!;
    const started = await api(t.app, bearer.coordinator1!, 'POST', `/api/programmes/${P}/stages/7/events`, { type: 'start', expectedVersion: stage.version });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const fixed = await api(t.app, bearer.admin1!, 'PUT', `/api/programmes/${P}/criteria`, { criteria: [], quorum: 1, partialAward: false });
    expect(fixed.status).toBe(422);
    const refused = await admin.post(`/programmes/${P}/criteria`, form);
    expect(refused.statusCode).toBe(422);
    expect(refused.body).toContain('notice--error');
  });

  it('shows each member the applications they have not scored, and the ranking moves as a score arrives (htmx)', async () => {
    const page = await members[0]!.get(`/programmes/${P}/commission`);
    expect(page.statusCode).toBe(200);
    const before = await ranking();
    expect(before.decided).toBe(false);
    expect(before.rows.length).toBeGreaterThan(3);
    expect(page.body).toContain(`Не оценено вами: ${before.rows.length}`);
    expect(page.body).toContain('hx-trigger="every 20s"');
    for (const row of before.rows) expect(page.body).toContain(`id="score-${row.applicationId}"`);

    const last = before.rows.at(-1)!;
    const scored = await members[0]!.post(
      `/programmes/${P}/commission/scores`,
      { applicationId: String(last.applicationId), expectedVersion: String(versionOf(last.applicationId)), significance: '5', comment: 'Очень нужно' },
      { headers: { 'hx-request': 'true' } },
    );
    expect(scored.statusCode, scored.body.slice(0, 400)).toBe(200);
    expect(scored.body).not.toContain('<html');
    // The notice names the application by its registration number (issue 13), as the ranking does.
    const number = t.db.$client.prepare<[number], { no: string | null }>('SELECT registration_no AS no FROM applications WHERE id = ?').get(last.applicationId)!.no;
    expect(number).toMatch(/^[^-]+-\d{4}-\d{4}$/);
    expect(scored.body).toContain(`Оценка заявки № ${number} сохранена`);
    expect(scored.body).toContain(`Не оценено вами: ${before.rows.length - 1}`);
    const after = await ranking();
    const moved = after.rows.find((r) => r.applicationId === last.applicationId)!;
    // Five of five from one member is the whole 25 points of significance: it climbs from the bottom.
    expect(moved.scores.criteria['social-significance']).toBe(25);
    expect(moved.scores.totalCenti).toBe(last.scores.totalCenti + 2500);
    expect(moved.rank).toBeLessThan(last.rank);
    expect(after.rows.filter((r) => r.scores.totalCenti > moved.scores.totalCenti).length).toBe(moved.rank - 1);

    // The fragment the page polls holds the ranking only.
    const fragment = await members[1]!.get(`/programmes/${P}/commission/ranking`, { 'hx-request': 'true' });
    expect(fragment.statusCode).toBe(200);
    expect(fragment.body.trim().startsWith('<div id="ranking"')).toBe(true);
    expect(fragment.body).toContain(`id="rank-${last.applicationId}"`);

    // A stale version is refused, never silently applied.
    await members[1]!.get(`/programmes/${P}/commission`);
    const stale = await members[1]!.post(`/programmes/${P}/commission/scores`, { applicationId: String(last.applicationId), expectedVersion: '1', significance: '1' });
    expect(stale.statusCode).toBe(409);
  });

  it('offers no award button on an application: its page points to the decision on the commission page', async () => {
    const accepted = (await ranking()).rows[0]!;
    const page = await members[0]!.get(`/applications/${accepted.applicationId}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('value="award"');
    expect(page.body).not.toContain('value="not-award"');
    expect(page.body).toContain(`решением комиссии сразу по всем принятым заявкам, по рейтингу: <a href="/programmes/${P}/commission"`);
    // Sent anyway, one by one: refused with the reason, nothing written.
    const events = eventCount(t.db);
    const forced = await api(t.app, bearer.commission1!, 'POST', `/api/applications/${accepted.applicationId}/events`, {
      type: 'award',
      expectedVersion: versionOf(accepted.applicationId),
      amountKopecks: accepted.requestedKopecks,
    });
    expect(forced.status).toBe(422);
    expect(forced.body).toMatchObject({ reason: 'commission.refused.decisionOnly' });
    expect(eventCount(t.db)).toBe(events);
  });

  it('refuses the decision without the quorum, then takes it once every member has scored', async () => {
    const short = await members[0]!.post(`/programmes/${P}/commission/decision`, { membersPresent: [String(memberId('commission1'))], confirm: 'yes' });
    expect(short.statusCode).toBe(422);
    expect(short.body).toContain('оценок членов комиссии');

    for (const [i, browser] of members.entries()) {
      await browser.get(`/programmes/${P}/commission`);
      for (const row of (await ranking()).rows) {
        if (row.scores.members.some((m) => m.memberId === memberId(`commission${i + 1}`))) continue;
        const response = await browser.post(`/programmes/${P}/commission/scores`, {
          applicationId: String(row.applicationId),
          expectedVersion: String(versionOf(row.applicationId)),
          significance: String(((row.applicationId * 7 + i) % 11) / 2),
        });
        expect(response.statusCode, response.body.slice(0, 300)).toBe(303);
      }
    }
    const page = await members[2]!.get(`/programmes/${P}/commission`);
    expect(page.body).toContain('Вы оценили все заявки');
    const scoredRanking = await ranking();
    expect(scoredRanking.rows.every((r) => r.scores.members.length === 3)).toBe(true);
    expect(scoredRanking.rows.some((r) => r.allocatedKopecks === 0)).toBe(true);

    const events = eventCount(t.db);
    const decided = await members[0]!.post(`/programmes/${P}/commission/decision`, {
      membersPresent: ['commission1', 'commission2', 'commission3'].map((l) => String(memberId(l))),
      confirm: 'yes',
    });
    expect(decided.statusCode, decided.body.slice(0, 500)).toBe(303);
    expect(decided.headers.location).toBe(`/programmes/${P}/protocol`);
    expect(eventCount(t.db)).toBe(events + scoredRanking.rows.length);

    const final = await ranking();
    expect(final.decided).toBe(true);
    expect(final.rows.map((r) => [r.applicationId, r.allocatedKopecks])).toEqual(scoredRanking.rows.map((r) => [r.applicationId, r.allocatedKopecks]));
    for (const row of final.rows) {
      const app = await api<{ state: string }>(t.app, bearer.commission1!, 'GET', `/api/applications/${row.applicationId}`);
      expect(app.body.state).toBe(row.allocatedKopecks > 0 ? 'awarded' : 'not-awarded');
    }
    const again = await api(t.app, bearer.commission1!, 'POST', `/api/programmes/${P}/decision`, { membersPresent: [memberId('commission1')] });
    expect(again.status).toBe(422);
    expect(again.body).toMatchObject({ reason: 'commission.refused.decided' });
  });

  it('opens the protocol with the date, members, criteria, ranking, decision and the ledger head', async () => {
    const page = await members[1]!.get(`/programmes/${P}/protocol`);
    expect(page.statusCode).toBe(200);
    const decision = (await api<{ ledgerHead: string; ledgerEvents: number; recordHash: string }>(t.app, bearer.auditor1!, 'GET', `/api/programmes/${P}/decision`)).body;
    expect(page.body).toContain('Протокол заседания конкурсной комиссии');
    expect(page.body).toContain(decision.ledgerHead);
    expect(page.body).toContain(decision.recordHash);
    for (const name of ['Елена Кузнецова', 'Алексей Бабинцев', 'Наталья Шкляева']) expect(page.body).toContain(name);
    expect(page.body).toContain('Доля средств населения');
    expect(page.body).toContain('ledger-check');
    expect(page.body).toContain('журнал с момента решения не изменён');
    expect(page.body).toContain('/static/commission.css');
    // The ledger has grown since (verify's head moved on), yet the head printed then is still a prefix of it.
    expect(verifyLedger(t.db, t.app.engine.registry, { expectedHead: decision.ledgerHead }).ok).toBe(true);
    const css = await t.app.inject({ method: 'GET', url: '/static/commission.css' });
    expect(css.statusCode).toBe(200);
    expect(css.body).toMatch(/@media print/);
    expect(css.body).toMatch(/@page[^{]*\{[^}]*A4/);
  });

  it('downloads the ranking as CSV (BOM, safe from formulas) and XLSX, and the XLSX says what the ranking says', async () => {
    const rows = (await ranking()).rows;
    const csv = await members[0]!.get(`/programmes/${P}/ranking.csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename="ranking-2-protocol-.*\.csv"/);
    expect(csv.body.charCodeAt(0)).toBe(0xfeff);
    const lines = csv.body.slice(1).trimEnd().split('\r\n');
    expect(lines.length).toBe(rows.length + 1);
    expect(lines[1]!.split(';').slice(0, 2)).toEqual(['1', String(rows[0]!.applicationId)]);

    const xlsx = await t.app.inject({ method: 'GET', url: `/programmes/${P}/ranking.xlsx`, headers: { cookie: [...members[0]!.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    expect(xlsx.statusCode).toBe(200);
    expect(xlsx.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1) as string[];
    const col = (name: string) => header.indexOf(name) + 1;
    expect(sheet.rowCount).toBe(rows.length + 1);
    rows.forEach((row, i) => {
      const cells = sheet.getRow(i + 2);
      expect(cells.getCell(col('Место')).value).toBe(row.rank);
      expect(cells.getCell(col('Номер заявки')).value).toBe(row.applicationId);
      expect(cells.getCell(col('Заявка')).value).toBe(row.title);
      expect(Math.round((cells.getCell(col('Итого баллов')).value as number) * 100)).toBe(row.scores.totalCenti);
      expect(Math.round((cells.getCell(col('Запрошено, ₽')).value as number) * 100)).toBe(row.requestedKopecks);
      expect(Math.round((cells.getCell(col('Выделено, ₽')).value as number) * 100)).toBe(row.allocatedKopecks);
      expect(Math.round((cells.getCell(col('Остаток фонда, ₽')).value as number) * 100)).toBe(row.fundLeftKopecks);
    });
    expect(workbook.worksheets.map((w) => w.name)).toEqual(['Рейтинг', 'Критерии', 'Сводка']);
  });

  it('publishes the decided ranking to applicants, who may not see the commission page', async () => {
    expect((await api(t.app, bearer.applicant1!, 'GET', `/api/programmes/${P}/ranking`)).status).toBe(200);
    const applicant = await login(t.app, 'applicant1');
    expect((await applicant.get(`/programmes/${P}/protocol`)).statusCode).toBe(200);
    expect((await applicant.get(`/programmes/${P}/commission`)).statusCode).toBe(403);
  });
});

describe('no other role scores or decides', () => {
  it('refuses scores and decisions from every role but the commission, changing nothing', async () => {
    const open = (await api<{ rows: ApiRow[] }>(t.app, bearer.coordinator1!, 'GET', `/api/programmes/1/ranking`)).body;
    expect(open.rows.length).toBeGreaterThan(0);
    const someone = open.rows[0]!.applicationId;
    for (const who of ['reviewer1', 'coordinator1', 'auditor1', 'admin1', 'applicant1']) {
      const browser = await login(t.app, who);
      await browser.get('/programmes');
      const events = eventCount(t.db);
      const score = await browser.post(`/programmes/${P}/commission/scores`, { applicationId: String(someone), expectedVersion: String(versionOf(someone)), significance: '5' });
      expect(score.statusCode, who).toBe(403);
      const decide = await browser.post(`/programmes/${P}/commission/decision`, { membersPresent: [String(memberId('commission1'))], confirm: 'yes' });
      expect(decide.statusCode, who).toBe(403);
      const viaApi = await api(t.app, bearer[who] ?? (await token(t.app, who)), 'POST', `/api/programmes/${P}/decision`, { membersPresent: [memberId('commission1')] });
      expect(viaApi.status, who).toBe(403);
      const scoreViaApi = await api(t.app, bearer[who] ?? (await token(t.app, who)), 'POST', `/api/applications/${someone}/events`, { type: 'score', expectedVersion: versionOf(someone), significance: 5 });
      // An applicant of another municipality does not learn that the application exists.
      const own = t.db.$client.prepare<[number, string], { n: number }>('SELECT count(*) AS n FROM applications a JOIN users u ON u.municipality_id = a.municipality_id WHERE a.id = ? AND u.login = ?').get(someone, who)!.n > 0;
      expect(scoreViaApi.status, who).toBe(who === 'applicant1' && !own ? 404 : 403);
      expect(eventCount(t.db), who).toBe(events);
    }
  });

  it('lets staff read the live ranking of a programme, but not applicants before the decision', async () => {
    // A new programme: nothing decided yet.
    const created = await api<{ id: number }>(t.app, bearer.admin1!, 'POST', '/api/programmes', {
      title: 'Новая программа', year: 2031, region: 'Удмуртская Республика', timeZone: 'Europe/Samara', fundKopecks: 100_000_000_00, capKopecks: 1_000_000_00, minLocalShareBp: 500, minResidentsShareBp: 300,
    });
    expect(created.status).toBe(201);
    expect((await api(t.app, bearer.reviewer1!, 'GET', `/api/programmes/${created.body.id}/ranking`)).status).toBe(200);
    expect((await api(t.app, bearer.applicant1!, 'GET', `/api/programmes/${created.body.id}/ranking`)).status).toBe(404);
    expect((await api(t.app, bearer.applicant1!, 'GET', `/api/programmes/${created.body.id}/criteria`)).body).toMatchObject({ quorum: 3, fixed: false });
  });
});
