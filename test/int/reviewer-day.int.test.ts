import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ru } from '../../src/i18n/ru.ts';
import { queueSorts, queueStatementText, queueTabs, reviewQueueReads, type QueueSort, type QueueTab } from '../../src/read/review-queue.ts';
import { applicationStreamId } from '../../src/workflows/application/reads.ts';
import { completeHtmlForm, CURRENT_PROGRAMME, login, startApp, type TestApp } from './http-helpers.ts';
import { userId } from './security-helpers.ts';

/**
 * The reviewer's working day over HTTP (issue 16), on one demo: the queue's tabs, counts, sorts,
 * keyset pages, "next", bulk assignment, conflicts of interest, accepting every document at once,
 * the re-review, and the defects a new user met first — each of which fails on the code before it.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  await t.close();
});

const sqlite = () => t.db.$client;
const one = <T>(sql: string, ...params: unknown[]) => sqlite().prepare<unknown[], T>(sql).get(...params)!;
const all = <T>(sql: string, ...params: unknown[]) => sqlite().prepare<unknown[], T>(sql).all(...params);
/** The application ids of the queue's table, in the order shown. */
// The first cell names the application by its registration number (issue 13); its link carries the id.
const idsShown = (html: string) => [...html.matchAll(/<td class="col-title"><a href="\/applications\/(\d+)[?"]/g)].map((m) => Number(m[1]));
const decode = (html: string) => html.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
/** The error shown beside a form field, by the field's input id. */
const errorOf = (html: string, id: string) => new RegExp(`id="${id}-error">([^<]*)<`).exec(html)?.[1];

describe('the review queue', () => {
  it('shows a reviewer their own tab first, and every tab counts what it lists, from the counter table', async () => {
    const reviewer = await login(t.app, 'reviewer1');
    const me = userId(t.db, 'reviewer1');
    const page = await reviewer.get('/queue');
    expect(page.statusCode).toBe(200);
    const lanes = Object.fromEntries(all<{ lane: string; n: number }>('SELECT lane, count(*) AS n FROM review_queue WHERE programme_id = ? AND lane IS NOT NULL GROUP BY lane', CURRENT_PROGRAMME).map((r) => [r.lane, r.n]));
    const expected: Record<QueueTab, number> = { mine: lanes[`r:${me}`] ?? 0, unassigned: lanes['r:0'] ?? 0, applicant: lanes.a ?? 0, all: Object.values(lanes).reduce((a, b) => a + b, 0) };
    expect(expected.mine).toBeGreaterThanOrEqual(5);
    for (const tab of queueTabs) {
      expect(page.body).toContain(`${ru[`queue.tab.${tab}`]} <span class="count">${expected[tab]}</span>`);
      const listed = await reviewer.get(`/queue?tab=${tab}`);
      expect(idsShown(listed.body).length, tab).toBe(expected[tab]);
    }
    // "Mine" is the reviewer's default, and holds only what is assigned to them and waits for review.
    const mine = idsShown(page.body);
    const rows = all<{ id: number; assignee: number | null; state: string }>(`SELECT application_id AS id, assignee_id AS assignee, state FROM review_queue WHERE application_id IN (${mine.join(',')})`);
    expect(rows.every((row) => row.assignee === me && ['submitted', 'under-review'].includes(row.state))).toBe(true);
    // Oldest waiting first by default.
    const waiting = mine.map((id) => one<{ w: string }>('SELECT waiting_since AS w FROM review_queue WHERE application_id = ?', id).w);
    expect(waiting).toEqual([...waiting].sort());
  });

  it('sorts by every column, both ways, exactly as the projection orders it', async () => {
    const coordinator = await login(t.app, 'coordinator1');
    const keyOf: Record<QueueSort, string> = { ...queueSorts };
    for (const sort of Object.keys(queueSorts) as QueueSort[]) {
      for (const dir of ['asc', 'desc'] as const) {
        const page = await coordinator.get(`/queue?tab=all&sort=${sort}&dir=${dir}`);
        const order = dir === 'asc' ? 'ASC' : 'DESC';
        const expected = all<{ id: number }>(
          `SELECT application_id AS id FROM review_queue WHERE programme_id = ? AND lane IS NOT NULL ORDER BY ${keyOf[sort]} ${order}, application_id ${order}`,
          CURRENT_PROGRAMME,
        ).map((r) => r.id);
        expect(idsShown(page.body), `${sort} ${dir}`).toEqual(expected);
      }
    }
  });

  it('pages by keyset after and before a row, the same rows in the same order as one long page', () => {
    const reads = reviewQueueReads(t.db);
    for (const sort of ['waiting', 'title', 'deadline', 'assignee'] as QueueSort[]) {
      for (const dir of ['asc', 'desc'] as const) {
        const whole = reads.page(CURRENT_PROGRAMME, 'all', 0, { sort, dir }, 1000).rows.map((r) => r.id);
        const walked: number[] = [];
        let page = reads.page(CURRENT_PROGRAMME, 'all', 0, { sort, dir }, 3);
        walked.push(...page.rows.map((r) => r.id));
        while (page.nextAfter) {
          page = reads.page(CURRENT_PROGRAMME, 'all', 0, { sort, dir, after: page.nextAfter }, 3);
          walked.push(...page.rows.map((r) => r.id));
        }
        expect(walked, `${sort} ${dir}`).toEqual(whole);
        // And back: the page before the last one is the three rows before it.
        const back = reads.page(CURRENT_PROGRAMME, 'all', 0, { sort, dir, before: page.rows[0]!.id }, 3);
        expect(back.rows.map((r) => r.id)).toEqual(whole.slice(Math.max(0, whole.indexOf(page.rows[0]!.id) - 3), whole.indexOf(page.rows[0]!.id)));
      }
    }
  });

  it('reads every tab, sort, direction and seek through an index: no scan, no sort of its own', () => {
    for (const lane of [true, false]) {
      for (const sort of Object.keys(queueSorts) as QueueSort[]) {
        for (const dir of ['asc', 'desc'] as const) {
          for (const seek of ['none', 'after', 'before'] as const) {
            const text = queueStatementText({ lane, sort, dir, seek });
            const plan = all<{ detail: string }>(`EXPLAIN QUERY PLAN ${text}`, { programmeId: CURRENT_PROGRAMME, lane: 'a', key: 'x', id: 1, limit: 51 }).map((row) => row.detail);
            const where = `${lane ? 'lane' : 'all'} ${sort} ${dir} ${seek}: ${plan.join(' | ')}`;
            expect(plan.some((detail) => /^SEARCH review_queue USING (COVERING )?INDEX review_queue_/.test(detail)), where).toBe(true);
            expect(plan.some((detail) => /SCAN|TEMP B-TREE/.test(detail)), where).toBe(false);
          }
        }
      }
    }
    // The tabs' counts come from the counter table by its key.
    expect(all<{ detail: string }>('EXPLAIN QUERY PLAN SELECT lane, count FROM review_queue_counts WHERE programme_id = ?', 2).map((r) => r.detail).join()).toMatch(/SEARCH review_queue_counts/);
  });

  it('opens the next application of the same tab, and says so at the end of it', async () => {
    const reviewer = await login(t.app, 'reviewer1');
    const mine = idsShown((await reviewer.get('/queue?tab=mine&sort=number&dir=asc')).body);
    const next = await reviewer.get(`/queue/next?tab=mine&sort=number&dir=asc&from=${mine[0]}`);
    expect(next.statusCode).toBe(303);
    expect(next.headers.location).toBe(`/applications/${mine[1]}?tab=mine&sort=number&dir=asc`);
    // The application page links "next" with the tab it was opened from.
    const page = await reviewer.get(`/applications/${mine[1]}?tab=mine&sort=number&dir=asc`);
    expect(decode(page.body)).toContain(`href="/queue/next?tab=mine&sort=number&dir=asc&from=${mine[1]}"`);
    const end = await reviewer.get(`/queue/next?tab=mine&sort=number&dir=asc&from=${mine.at(-1)}`);
    expect(end.statusCode).toBe(303);
    expect(String(end.headers.location)).toMatch(/^\/queue\?.*done=end/);
    expect((await reviewer.get(String(end.headers.location))).body).toContain(ru['queue.done.end']);
  });

  it('lets the coordinator assign in bulk, one event per application, and names what it refused', async () => {
    const coordinator = await login(t.app, 'coordinator1');
    const reviewer2 = userId(t.db, 'reviewer2');
    const page = await coordinator.get('/queue?tab=unassigned');
    const ticks = [...page.body.matchAll(/name="applications" value="(\d+:\d+)"/g)].map((m) => m[1]!);
    expect(ticks.length).toBeGreaterThan(0);
    const eventsBefore = one<{ n: number }>("SELECT count(*) AS n FROM events WHERE type = 'assign'").n;
    // One ticked twice: the second is stale by then and is refused by name, the first goes through.
    const response = await coordinator.post('/queue/assign', { reviewerId: String(reviewer2), applications: [ticks[0]!, ticks[0]!] });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain(ru['queue.assign.changed']);
    expect(one<{ n: number }>("SELECT count(*) AS n FROM events WHERE type = 'assign'").n).toBe(eventsBefore + 1);
    const [id] = ticks[0]!.split(':').map(Number);
    expect(one<{ assignee: number }>('SELECT assignee_id AS assignee FROM review_queue WHERE application_id = ?', id).assignee).toBe(reviewer2);
    // The tick box and the refusal name the application by its registration number (issue 13).
    const no = one<{ no: string | null }>('SELECT registration_no AS no FROM applications WHERE id = ?', id).no;
    expect(no).toMatch(/^[^-]+-\d{4}-\d{4}$/);
    expect(page.body).toContain(`aria-label="Отметить заявку № ${no}"`);
    expect(response.body).toContain(`Заявка № ${no}: `);
    // Nothing ticked, or no reviewer: told beside the form, nothing written.
    expect((await coordinator.post('/queue/assign', { reviewerId: String(reviewer2) })).statusCode).toBe(422);
    expect((await coordinator.post('/queue/assign', { reviewerId: '', applications: ticks.slice(1) })).statusCode).toBe(422);
    expect(one<{ n: number }>("SELECT count(*) AS n FROM events WHERE type = 'assign'").n).toBe(eventsBefore + 1);
    // A reviewer may not assign.
    expect((await (await login(t.app, 'reviewer1')).post('/queue/assign', { reviewerId: String(reviewer2), applications: ticks.slice(1) })).statusCode).toBe(403);
  });

  it('records a reviewer’s conflict of interest as an event and keeps them off that municipality', async () => {
    // An application nobody has: the coordinator returns one of reviewer2's to the common queue.
    const coordinator = await login(t.app, 'coordinator1');
    const theirs = one<{ id: number; version: number }>("SELECT application_id AS id, version FROM review_queue WHERE programme_id = ? AND lane = ? ORDER BY application_id LIMIT 1", CURRENT_PROGRAMME, `r:${userId(t.db, 'reviewer2')}`);
    await coordinator.get(`/applications/${theirs.id}`);
    expect((await coordinator.post(`/applications/${theirs.id}/events`, { type: 'release', expectedVersion: String(theirs.version) })).statusCode).toBe(303);
    const reviewer = await login(t.app, 'reviewer1');
    await reviewer.get('/account/conflicts');
    const unassigned = one<{ id: number; municipality: number; version: number }>(
      "SELECT application_id AS id, municipality_id AS municipality, version FROM review_queue WHERE application_id = ?",
      theirs.id,
    );
    const declared = await reviewer.post('/account/conflicts', { municipalityId: String(unassigned.municipality), reason: 'Сестра — глава поселения.', expectedVersion: '0' });
    expect(declared.statusCode, declared.body).toBe(303);
    expect(one<{ n: number }>("SELECT count(*) AS n FROM events WHERE type = 'declare-conflict' AND actor LIKE '%reviewer1%'").n).toBe(1);
    const again = await reviewer.post('/account/conflicts', { municipalityId: String(unassigned.municipality), reason: 'Ещё раз.', expectedVersion: '2' });
    expect(again.statusCode).toBe(422);
    expect(errorOf(decode(again.body), 'c-municipality')).toBe(ru['problem.conflict-declared']);
    // Taking an application of that municipality is refused in words.
    const take = await reviewer.post(`/applications/${unassigned.id}/events`, { type: 'take', expectedVersion: String(unassigned.version) });
    expect(take.statusCode).toBe(422);
    expect(decode(take.body)).toContain(ru['assignment.refused.conflict']);
    // Withdrawn, the bar is lifted.
    expect((await reviewer.post(`/account/conflicts/${unassigned.municipality}/withdraw`, { expectedVersion: '2' })).statusCode).toBe(303);
    expect((await reviewer.post(`/applications/${unassigned.id}/events`, { type: 'take', expectedVersion: String(unassigned.version) })).statusCode).toBe(303);
  });
});

describe('the application page for the reviewer', () => {
  it('accepts every pending document in one action, each as its own event', async () => {
    const reviewer = await login(t.app, 'reviewer1');
    const me = userId(t.db, 'reviewer1');
    const candidate = all<{ id: number; snapshot: string; version: number }>(
      `SELECT a.id, s.snapshot, a.version FROM applications a JOIN streams s ON s.id = a.stream_id WHERE a.state = 'under-review' AND a.programme_id = ? ORDER BY a.id`,
      CURRENT_PROGRAMME,
    )
      .map((row) => ({ ...row, context: (JSON.parse(row.snapshot) as { context: { assigneeId: number | null; documents: Record<string, { file: unknown; verdict: string }> } }).context }))
      .find((row) => row.context.assigneeId === me && Object.values(row.context.documents ?? {}).some((d) => d.file && d.verdict === 'pending'))!;
    expect(candidate).toBeDefined();
    const pending = Object.values(candidate.context.documents).filter((d) => d.file && d.verdict === 'pending').length;
    const page = await reviewer.get(`/applications/${candidate.id}`);
    expect(page.body).toContain(`data-shortcut="accept-documents"`);
    const before = one<{ n: number }>('SELECT count(*) AS n FROM events WHERE stream_id = ?', applicationStreamId(candidate.id)).n;
    const done = await reviewer.post(`/applications/${candidate.id}/documents/accept-all`, { expectedVersion: String(candidate.version) }, { headers: { 'hx-request': 'true', 'hx-target': 'application' } });
    expect(done.statusCode).toBe(200);
    const events = all<{ type: string; payload: string }>('SELECT type, payload FROM events WHERE stream_id = ? ORDER BY seq', applicationStreamId(candidate.id)).slice(before);
    expect(events.length).toBe(pending);
    expect(events.every((e) => e.type === 'review-document' && JSON.parse(e.payload).verdict === 'accepted')).toBe(true);
    // Nothing left to accept: the button is gone, and a stale second click is refused and writes nothing.
    expect(done.body).not.toContain('data-shortcut="accept-documents"');
    expect((await reviewer.post(`/applications/${candidate.id}/documents/accept-all`, { expectedVersion: String(candidate.version) })).statusCode).toBe(409);
    expect(one<{ n: number }>('SELECT count(*) AS n FROM events WHERE stream_id = ?', applicationStreamId(candidate.id)).n).toBe(before + pending);
  });

  it('shows at re-review the remark each field had, its value then and now, the replaced documents, and can show only what changed', async () => {
    const reviewer = await login(t.app, 'reviewer1');
    const resubmitted = one<{ id: number }>(
      `SELECT a.id FROM applications a WHERE a.state = 'submitted' AND EXISTS (SELECT 1 FROM events e WHERE e.stream_id = a.stream_id AND e.type = 'return-for-revision') ORDER BY a.id LIMIT 1`,
    ).id;
    const events = all<{ type: string; payload: string }>('SELECT type, payload FROM events WHERE stream_id = ? ORDER BY seq', applicationStreamId(resubmitted));
    const returned = events.findIndex((e) => e.type === 'return-for-revision');
    const update = events.slice(returned).find((e) => e.type === 'update')!;
    const changedField = Object.keys(JSON.parse(update.payload))[0]!;
    const page = decode((await reviewer.get(`/applications/${resubmitted}`)).body);
    expect(page).toContain('class="notice notice--info rereview"');
    expect(page).toContain(ru['rereview.then']);
    expect(page).toContain(`${ru['rereview.now']}:</span> <ins>`);
    expect(page).toContain(ru['rereview.documentReplaced'].split(':')[0]!);
    const remark = JSON.parse(events[returned]!.payload).remarks[0];
    expect(page).toContain(remark.text);
    // Only the fields changed since the return.
    const only = decode((await reviewer.get(`/applications/${resubmitted}?changed=1`)).body);
    const shownFields = [...only.matchAll(/<dt id="dt-([\w.]+)"/g)].map((m) => m[1]);
    expect(shownFields).toEqual(changedField.includes('.') ? [] : [changedField]);
    expect(only).toContain(ru['rereview.showAll']);
  });
});

describe('the defects a new user met first', () => {
  it('a refused htmx submit answers with the form in place of the main content, errors beside the fields, instead of a blank page', async () => {
    const applicant = await login(t.app, 'applicant1');
    const draft = one<{ id: number; version: number }>(`SELECT id, version FROM applications WHERE state = 'draft' AND municipality_id = (SELECT municipality_id FROM users WHERE login = 'applicant1') ORDER BY id LIMIT 1`);
    await applicant.get(`/applications/${draft.id}/edit`);
    const saved = await applicant.post(`/applications/${draft.id}/edit`, { ...completeHtmlForm(), 'costs.localBudget': '1,00', expectedVersion: String(draft.version), intent: 'save' });
    expect(saved.statusCode).toBe(303);
    const page = await applicant.get(`/applications/${draft.id}`);
    const version = /name="type" value="submit">\s*<input type="hidden" name="expectedVersion" value="(\d+)"/.exec(page.body)![1]!;
    const response = await applicant.post(`/applications/${draft.id}/events`, { type: 'submit', expectedVersion: version }, { headers: { 'hx-request': 'true', 'hx-target': 'application' } });
    expect(response.statusCode).toBe(422);
    expect(response.headers['hx-retarget']).toBe('#main');
    expect(response.headers['hx-reselect']).toBe('#swapped-page');
    expect(response.body).toContain('<div id="swapped-page">');
    expect(errorOf(decode(response.body), 'f-costs-localBudget')).toBe('Доля ниже минимальной по программе (5 % от стоимости).');
  });

  it('says what is allowed, in the catalogue’s words and in roubles, for every kind of field', async () => {
    const applicant = await login(t.app, 'applicant1');
    const draft = one<{ id: number; version: number }>(`SELECT id, version FROM applications WHERE state = 'draft' AND municipality_id = (SELECT municipality_id FROM users WHERE login = 'applicant1') ORDER BY id DESC LIMIT 1`);
    await applicant.get(`/applications/${draft.id}/edit`);
    const response = await applicant.post(`/applications/${draft.id}/edit`, {
      ...completeHtmlForm(),
      durationMonths: '61',
      population: '−5',
      'costs.subsidy': '200000000000',
      expectedVersion: String(draft.version),
      intent: 'save',
    });
    expect(response.statusCode).toBe(422);
    const html = decode(response.body);
    expect(errorOf(html, 'f-durationMonths')).toBe('Введите число не больше 60.');
    expect(errorOf(html, 'f-population')).toBe('Введите число не меньше 1.');
    expect(errorOf(html, 'f-costs-subsidy')).toBe('Введите сумму не больше 100\u00a0000\u00a0000\u00a0000,00 ₽.');
    expect(html).not.toMatch(/Too big|Too small|expected number|Invalid/);
  });

  it('answers 403 and 404 in the person’s words, never the developer’s', async () => {
    const coordinator = await login(t.app, 'coordinator1');
    const forbidden = await coordinator.get('/admin/users');
    expect(forbidden.statusCode).toBe(403);
    expect(decode(forbidden.body)).toContain(ru['error.403.text']);
    expect(forbidden.body).not.toMatch(/may not use|allowed:/);
    const missing = await coordinator.get('/applications/99999');
    expect(missing.statusCode).toBe(404);
    expect(decode(missing.body)).toContain(ru['error.404.text']);
    expect(missing.body).not.toMatch(/not found|application 99999/);
  });

  it('offers only programmes open for applications on the new application form', async () => {
    const applicant = await login(t.app, 'applicant1');
    const page = await applicant.get('/applications/new');
    const offered = [...page.body.matchAll(/<option value="(\d+)"[^>]*>Наша инициатива/g)].map((m) => Number(m[1]));
    expect(offered).toEqual([CURRENT_PROGRAMME]);
  });

  it('reports every problem of the admin’s user form in one answer', async () => {
    const admin = await login(t.app, 'admin1');
    await admin.get('/admin/users/new');
    const response = await admin.post('/admin/users', { login: 'x', name: '', role: 'reviewer', password: 'достаточно-длинный-пароль-1', confirmation: 'другой-пароль-совсем-1' });
    expect(response.statusCode).toBe(422);
    const html = decode(response.body);
    expect(errorOf(html, 'u-login')).toBe(ru['admin.problem.login-format']);
    expect(errorOf(html, 'u-name')).toBe(ru['admin.problem.required']);
    expect(errorOf(html, 'u-confirmation')).toBe(ru['admin.problem.password-mismatch']);
  });

  it('words the stage history, periods, amounts, the population and the notices as a person would', async () => {
    const coordinator = await login(t.app, 'coordinator1');
    const stage = decode((await coordinator.get(`/programmes/${CURRENT_PROGRAMME}/stages/6`)).body);
    expect(stage).toContain('История этапа');
    expect(stage).not.toContain('История заявки');
    const planned = /<h2 id="dates-title">[^]*?<p>([^<]*)<\/p>/.exec(stage);
    expect(planned?.[1] ?? '').not.toMatch(/\d{4}-\d{2}-\d{2}/);
    const programme = decode((await coordinator.get(`/programmes/${CURRENT_PROGRAMME}`)).body);
    expect(programme).not.toContain('— — …');
    expect(programme).not.toMatch(/₽\s*\d/);
    expect(programme).toMatch(/\d ₽/);
    const reviewer = await login(t.app, 'reviewer1');
    const submitted = one<{ id: number; version: number }>(`SELECT application_id AS id, version FROM review_queue WHERE lane = 'r:${userId(t.db, 'reviewer1')}' AND state = 'submitted' ORDER BY application_id LIMIT 1`);
    const form = await reviewer.get(`/applications/${submitted.id}`);
    expect(decode(form.body)).toContain('Численность населения населённого пункта');
    const started = await reviewer.post(`/applications/${submitted.id}/events`, { type: 'start-review', expectedVersion: String(submitted.version) }, { headers: { 'hx-request': 'true', 'hx-target': 'application' } });
    expect(decode(started.body)).toContain('Заявка взята на проверку. Новый статус — «На проверке».');
    expect(started.body).not.toContain('Готово: Взять на проверку');
    // The history's transition cell is a table cell, its badges in a span of their own; the arrow has no aria-label.
    expect(started.body).toMatch(/<td><span class="transition">/);
    expect(started.body).not.toContain('aria-label="→"');
  });

  it('prints the protocol with the meeting, the membership, the members’ scores for signatures, and Russian typography', async () => {
    const auditor = await login(t.app, 'auditor1');
    const html = decode((await auditor.get('/programmes/1/protocol')).body);
    expect(html).toContain('г. Ижевск, ул. Пастухова, 13, зал заседаний № 2');
    expect(html).toMatch(/Председатель<\/dt><dd>Елена Кузнецова/);
    expect(html).toMatch(/Секретарь<\/dt><dd>Наталья Шкляева/);
    expect(html).toContain('Присутствовали 3 из 3 членов комиссии');
    expect(html).toContain(ru['protocol.annex']);
    expect([...html.matchAll(/<section class="annex-member"/g)].length).toBe(3);
    expect(html).not.toContain('зафиксировал(а)');
    expect(html).not.toMatch(/«[^»]*«/);
    const winners = Number(/<ol class="winners">/.test(html) ? [...html.matchAll(/<ol class="winners">([^]*?)<\/ol>/g)][0]![1]!.match(/<li /g)!.length : 0);
    const line = /(Признать победител[^:]*):/.exec(html)![1]!;
    const plural = new Intl.PluralRules('ru').select(winners);
    expect(line).toContain(`${winners} ${plural === 'one' ? 'заявку' : plural === 'few' ? 'заявки' : 'заявок'}`);
    // The command line is for the screen only.
    expect(html).toMatch(/<p class="hint no-print">[^<]*npm run verify/);
  });

  it('shows the replay’s documents and document events in words, not as stored', async () => {
    const auditor = await login(t.app, 'auditor1');
    const id = one<{ id: number }>(`SELECT a.id FROM applications a WHERE EXISTS (SELECT 1 FROM events e WHERE e.stream_id = a.stream_id AND e.type = 'review-document') ORDER BY a.id LIMIT 1`).id;
    const attach = one<{ seq: number }>(`SELECT seq FROM events WHERE stream_id = ? AND type = 'attach-document' ORDER BY seq LIMIT 1`, applicationStreamId(id)).seq;
    const review = one<{ seq: number }>(`SELECT seq FROM events WHERE stream_id = ? AND type = 'review-document' ORDER BY seq LIMIT 1`, applicationStreamId(id)).seq;
    for (const seq of [attach, review]) {
      const page = decode((await auditor.get(`/audit/applications/${id}/replay?seq=${seq}`)).body);
      const main = page.slice(page.indexOf('<main'), page.indexOf('</main>'));
      expect(main, `step ${seq}`).not.toMatch(/mediaType|sha256:|meeting-minutes|object-photos|: accepted|"file":|\{"/);
      expect(main, `step ${seq}`).toContain(ru['audit.context.documents']);
    }
  });
});
