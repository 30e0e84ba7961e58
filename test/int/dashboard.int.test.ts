import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CURRENT_PROGRAMME, api, login, startApp, token, type TestApp } from './http-helpers.ts';

/**
 * The coordinator's dashboard (issue 13), on a copy of the demo: its figures against a separate
 * computation from the event log itself (the events table read here, folded here), the backfill
 * of the stays against the write path's, the page in Russian and English, and who may open it.
 */

let t: TestApp;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  t = await startApp();
  for (const user of ['coordinator1', 'admin1', 'auditor1', 'reviewer1', 'commission1', 'applicant1']) tokens[user] = await token(t.app, user);
});

afterAll(async () => {
  await t.close();
});

/** The states nothing leaves (DESIGN §3): no waiting is measured in them. */
const FINAL = new Set(['withdrawn', 'rejected', 'not-awarded', 'closed', 'terminated']);
const NOT_REQUESTING = new Set(['draft', 'withdrawn', 'rejected']);

interface LogRow {
  streamId: string;
  seq: number;
  type: string;
  payload: string;
  at: string;
  fromState: string | null;
  toState: string;
}

interface Folded {
  id: number;
  programmeId: number;
  municipalityId: number;
  state: string;
  subsidy: number;
  awarded: number | null;
  /** Finished stays: [state, ms]; and the running one. */
  stays: [string, number][];
  running: { state: string; since: string };
}

/** Every application folded from its events alone: where it is, what it asks, what it got, how long it stayed in each state. */
function foldLog(): Folded[] {
  const rows = t.db.$client
    .prepare<[], LogRow>(
      "SELECT stream_id AS streamId, seq, type, payload, at, from_state AS fromState, to_state AS toState FROM events WHERE machine_id = 'application' ORDER BY stream_id, seq",
    )
    .all();
  const byStream = new Map<string, LogRow[]>();
  for (const row of rows) byStream.set(row.streamId, [...(byStream.get(row.streamId) ?? []), row]);
  return [...byStream.entries()].map(([streamId, events]) => {
    const created = JSON.parse(events[0]!.payload) as { programmeId: number; municipalityId: number; form: { costs?: { subsidy?: number } } };
    let subsidy = created.form.costs?.subsidy ?? 0;
    let awarded: number | null = null;
    const stays: [string, number][] = [];
    let running = { state: events[0]!.toState, since: events[0]!.at };
    for (const event of events.slice(1)) {
      const payload = JSON.parse(event.payload) as { costs?: { subsidy?: number }; amountKopecks?: number };
      if (event.type === 'update' && payload.costs?.subsidy !== undefined) subsidy = payload.costs.subsidy;
      if (event.type === 'award') awarded = payload.amountKopecks ?? null;
      if (event.toState !== running.state) {
        stays.push([running.state, Date.parse(event.at) - Date.parse(running.since)]);
        running = { state: event.toState, since: event.at };
      }
    }
    return { id: Number(streamId.slice('application-'.length)), programmeId: created.programmeId, municipalityId: created.municipalityId, state: events.at(-1)!.toState, subsidy, awarded, stays, running };
  });
}

const nearestRank = (sorted: number[], p: number) => sorted[Math.ceil((p / 100) * sorted.length) - 1]!;

describe('the dashboard’s figures', () => {
  it('match a separate computation from the event log: the matrix, the fund and the waiting times', async () => {
    const answer = await api(t.app, tokens.coordinator1!, 'GET', `/api/programmes/${CURRENT_PROGRAMME}/dashboard`);
    expect(answer.status).toBe(200);
    const dashboard = answer.body;
    const apps = foldLog().filter((a) => a.programmeId === CURRENT_PROGRAMME);
    expect(apps.length).toBeGreaterThan(20);

    // The matrix: municipality × state, with its totals.
    const cells = new Map<string, number>();
    for (const a of apps) cells.set(`${a.municipalityId}|${a.state}`, (cells.get(`${a.municipalityId}|${a.state}`) ?? 0) + 1);
    const fromApi = new Map<string, number>();
    for (const row of dashboard.matrix.rows) for (const [state, n] of Object.entries(row.counts)) fromApi.set(`${row.municipalityId}|${state}`, n as number);
    expect(Object.fromEntries(fromApi)).toEqual(Object.fromEntries(cells));
    expect(dashboard.matrix.total).toBe(apps.length);
    for (const row of dashboard.matrix.rows) expect(row.total).toBe(apps.filter((a) => a.municipalityId === row.municipalityId).length);
    const states = new Set(apps.map((a) => a.state));
    for (const state of states) expect(dashboard.matrix.totals[state]).toBe(apps.filter((a) => a.state === state).length);
    expect(new Set(dashboard.matrix.states)).toEqual(states);

    // The fund: requested by the applications still asking, awarded by the commission, and what is left.
    const fund = t.db.$client.prepare<[number], { fund: number }>('SELECT fund_kopecks AS fund FROM programmes WHERE id = ?').get(CURRENT_PROGRAMME)!.fund;
    const requested = apps.filter((a) => !NOT_REQUESTING.has(a.state)).reduce((s, a) => s + a.subsidy, 0);
    const awarded = apps.reduce((s, a) => s + (a.awarded ?? 0), 0);
    expect(requested).toBeGreaterThan(0);
    expect(dashboard.fund).toEqual({
      fundKopecks: fund,
      requestedKopecks: requested,
      awardedKopecks: awarded,
      leftKopecks: fund - awarded,
      requestingCount: apps.filter((a) => !NOT_REQUESTING.has(a.state)).length,
      awardedCount: apps.filter((a) => a.awarded !== null).length,
    });

    // Waiting times: median and 90th percentile (nearest rank) of the finished stays in each state that is not final.
    const finished = new Map<string, number[]>();
    for (const a of apps) for (const [state, ms] of a.stays) finished.set(state, [...(finished.get(state) ?? []), ms]);
    const expected = [...new Set([...finished.keys(), ...apps.map((a) => a.running.state)])]
      .filter((state) => !FINAL.has(state))
      .map((state) => {
        const sorted = [...(finished.get(state) ?? [])].sort((x, y) => x - y);
        const now = apps.filter((a) => a.running.state === state);
        return {
          state,
          finished: sorted.length,
          medianMs: sorted.length ? nearestRank(sorted, 50) : null,
          p90Ms: sorted.length ? nearestRank(sorted, 90) : null,
          now: now.length,
          longestSince: now.length ? now.map((a) => a.running.since).sort()[0] : null,
        };
      })
      .sort((x, y) => x.state.localeCompare(y.state));
    const waiting = [...dashboard.waiting].sort((x: { state: string }, y: { state: string }) => x.state.localeCompare(y.state));
    expect(waiting).toEqual(expected);
    // The demo has reviews that took days: the figures are not trivially zero.
    const submitted = waiting.find((w: { state: string }) => w.state === 'submitted');
    expect(submitted.finished).toBeGreaterThan(10);
    expect(submitted.p90Ms).toBeGreaterThanOrEqual(submitted.medianMs);
    expect(submitted.medianMs).toBeGreaterThan(0);
  });

  it('counts every application waiting for a reviewer in exactly one reviewer’s line, and the idle municipalities', async () => {
    const { body } = await api(t.app, tokens.coordinator1!, 'GET', `/api/programmes/${CURRENT_PROGRAMME}/dashboard`);
    const apps = foldLog().filter((a) => a.programmeId === CURRENT_PROGRAMME);
    const reviewing = apps.filter((a) => a.state === 'submitted' || a.state === 'under-review');
    const sum = (pick: (r: { assigned: number; underReview: number }) => number) => body.reviewers.reduce((s: number, r: { assigned: number; underReview: number }) => s + pick(r), 0);
    expect(sum((r) => r.assigned)).toBe(reviewing.length);
    expect(sum((r) => r.underReview)).toBe(apps.filter((a) => a.state === 'under-review').length);
    // The oldest waiting item of each line is one of the line's, and nothing in the queue waits longer.
    for (const load of body.reviewers) {
      if (load.assigned === 0) expect(load.oldest).toBeNull();
      else expect(reviewing.map((a) => a.id)).toContain(load.oldest.applicationId);
    }
    const withApplications = new Set(apps.map((a) => a.municipalityId));
    const all = t.db.$client.prepare<[], { id: number }>('SELECT id FROM municipalities').all();
    expect(body.idleMunicipalities.map((m: { id: number }) => m.id).sort()).toEqual(all.map((m) => m.id).filter((id) => !withApplications.has(id)).sort());
    expect(body.idleMunicipalities.length).toBeGreaterThan(0);
    // The late stages: the demo's documentation stage ran past its planned end.
    expect(body.stages.filter((s: { overdue: boolean }) => s.overdue).map((s: { key: string }) => s.key)).toEqual(['documentation']);
    expect(body.stages.filter((s: { running: boolean }) => s.running).map((s: { key: string }) => s.key)).toEqual(['documentation', 'intake']);
  });

  it('finds the exact percentiles among many stays of one hour, negative ones too (a clock set back)', async () => {
    const sqlite = t.db.$client;
    const application = sqlite.prepare<[number], { id: number }>("SELECT id FROM applications WHERE programme_id = ? ORDER BY id LIMIT 1").get(CURRENT_PROGRAMME)!.id;
    const insert = sqlite.prepare(
      "INSERT INTO application_state_spells (application_id, seq, programme_id, state, entered_at, left_at, duration_ms) VALUES (?, ?, ?, 'returned', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', ?)",
    );
    // 700 stays: 400 within the same hour, some below zero, the rest spread over days.
    sqlite.transaction(() => {
      for (let i = 0; i < 700; i++) insert.run(application, 100_000 + i, CURRENT_PROGRAMME, i < 400 ? 7_200_000 + ((i * 7919) % 3_600_000) : i < 450 ? -((i * 104729) % 5_000_000) : (i * 15_485_863) % 900_000_000);
    })();
    const { body } = await api(t.app, tokens.coordinator1!, 'GET', `/api/programmes/${CURRENT_PROGRAMME}/dashboard`);
    const all = sqlite
      .prepare<[number], { ms: number }>("SELECT duration_ms AS ms FROM application_state_spells WHERE programme_id = ? AND state = 'returned' AND left_at IS NOT NULL ORDER BY duration_ms")
      .all(CURRENT_PROGRAMME)
      .map((row) => row.ms);
    const returned = body.waiting.find((w: { state: string }) => w.state === 'returned');
    expect(returned.finished).toBe(all.length);
    expect(returned.medianMs).toBe(nearestRank(all, 50));
    expect(returned.p90Ms).toBe(nearestRank(all, 90));
    sqlite.prepare('DELETE FROM application_state_spells WHERE application_id = ? AND seq >= 100000').run(application);
  });

  it('keeps the stays and the counts with every event, as the migrations’ backfills read them from the log and the list', () => {
    const sqlite = t.db.$client;
    const read = (table: string, order: string) => sqlite.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all();
    const kept = {
      stays: read('application_state_spells', 'application_id, seq'),
      counts: read('state_spell_counts WHERE finished > 0 OR running > 0', 'programme_id, state'),
      hours: read('state_spell_hours WHERE count > 0', 'programme_id, state, hour'),
      applications: read('application_counts WHERE count > 0', 'programme_id, municipality_id, state'),
    };
    expect(kept.stays.length).toBeGreaterThan(100);
    // The counts the triggers kept through the demo's every event are the list's own.
    expect(kept.applications).toEqual(
      sqlite
        .prepare(
          `SELECT programme_id, municipality_id, state, count(*) AS count, sum(subsidy_kopecks) AS subsidy_kopecks, COALESCE(sum(awarded_kopecks), 0) AS awarded_kopecks,
             count(awarded_kopecks) AS awarded_count FROM applications GROUP BY programme_id, municipality_id, state ORDER BY programme_id, municipality_id, state`,
        )
        .all(),
    );
    sqlite.exec('DELETE FROM application_state_spells; DELETE FROM state_spell_counts; DELETE FROM state_spell_hours');
    const backfill = readFileSync(new URL('../../migrations/0016_backfill_state_spells.sql', import.meta.url), 'utf8');
    for (const statement of backfill.split('--> statement-breakpoint')) sqlite.exec(statement);
    expect(read('application_state_spells', 'application_id, seq')).toEqual(kept.stays);
    expect(read('state_spell_counts WHERE finished > 0 OR running > 0', 'programme_id, state')).toEqual(kept.counts);
    expect(read('state_spell_hours WHERE count > 0', 'programme_id, state, hour')).toEqual(kept.hours);
  });
});

describe('the dashboard page', () => {
  it('is the coordinator’s landing page, in Russian, with the figures and their links', async () => {
    const browser = await login(t.app, 'coordinator1');
    const home = await browser.get('/');
    expect(home.statusCode).toBe(303);
    expect(home.headers.location).toBe('/dashboard');
    const landing = await browser.get('/dashboard');
    expect(landing.headers.location).toBe(`/programmes/${CURRENT_PROGRAMME}/dashboard`);
    const page = await browser.get(`/programmes/${CURRENT_PROGRAMME}/dashboard`);
    expect(page.statusCode).toBe(200);
    const html = page.body;
    expect(html).toContain('<h1 id="dashboard-title">Сводка: Наша инициатива');
    expect(html).toMatch(/<a href="\/dashboard"[^>]*aria-current="page"|aria-current="page"[^>]*href="\/dashboard"/);
    // The old list stays in the menu.
    expect(html).toContain('href="/applications"');
    for (const heading of ['Этапы', 'Заявки по муниципалитетам и статусам', 'Фонд субсидий', 'Сроки ожидания по статусам', 'Нагрузка проверяющих', 'Муниципалитеты без заявок']) expect(html).toContain(heading);
    // The late stage is named; the matrix's cells open the filtered list; captions and row headers.
    expect(html).toMatch(/id="late-stages"[\s\S]*?Этап подготовки конкурсной документации/);
    expect(html).toMatch(/<td class="num" data-state="submitted"><a href="\/applications\?programmeId=2&amp;municipalityId=\d+&amp;state=submitted">\d+<\/a><\/td>/);
    expect(html).toContain('<caption>Число заявок по муниципалитетам');
    expect(html).toMatch(/<th scope="row">город Сарапул<\/th>/);
    // Money and numbers in Russian typography; the pictures titled and described.
    expect(html).toMatch(/\d{1,3}(\u00a0\d{3})+,\d{2} ₽/);
    expect(html).toMatch(/\d+,\d дн\./);
    for (const chart of ['timeline-title', 'fund-chart-title', 'waiting-chart-title', 'fund-chart-desc', 'waiting-chart-desc']) expect(html).toContain(`id="${chart}"`);
    expect(html).toContain('только по завершённым пребываниям');
    expect(html).not.toMatch(/dashboard\.[a-z]+\.[a-zA-Z]+/);
  });

  it('renders in English with every text translated', async () => {
    const browser = await login(t.app, 'coordinator1');
    await browser.get('/lang/en');
    const page = await browser.get(`/programmes/${CURRENT_PROGRAMME}/dashboard`);
    expect(page.statusCode).toBe(200);
    const html = page.body;
    for (const heading of ['Stages', 'Applications by municipality and state', 'Subsidy fund', 'Waiting times by state', 'Reviewers’ workload', 'Municipalities without applications']) expect(html).toContain(heading);
    expect(html).toContain('finished stays only');
    expect(html).toMatch(/\d{1,3}(,\d{3})+\.\d{2} ₽/);
    expect(html).toMatch(/\d+(\.\d)? d</);
    expect(html).not.toMatch(/dashboard\.[a-z]+\.[a-zA-Z]+/);
    // The page's own texts are English (names of places and people stay as they are).
    const ownText = html.replace(/<(th scope="row"|li data-municipality|span class="dashboard-title|title|desc|a href="\/applications\/\d+")[^]*?<\//g, '');
    for (const word of ['Сводка', 'Этапы', 'Фонд', 'Медиана', 'Назначено', 'Просрочен', 'дн.']) expect(ownText).not.toContain(word);
  });

  it('is open to the coordinator, the admin and the auditor only, as a page and as JSON', async () => {
    for (const [user, status] of [['coordinator1', 200], ['admin1', 200], ['auditor1', 200], ['reviewer1', 403], ['commission1', 403], ['applicant1', 403]] as const) {
      const answer = await api(t.app, tokens[user]!, 'GET', `/api/programmes/${CURRENT_PROGRAMME}/dashboard`);
      expect(answer.status, user).toBe(status);
      const page = await (await login(t.app, user)).get(`/programmes/${CURRENT_PROGRAMME}/dashboard`);
      expect(page.statusCode, user).toBe(status);
    }
    expect((await api(t.app, tokens.coordinator1!, 'GET', '/api/programmes/999/dashboard')).status).toBe(404);
    // Only the coordinator lands on it; the others keep their pages.
    expect((await (await login(t.app, 'admin1')).get('/')).headers.location).toBe('/applications');
  });
});
