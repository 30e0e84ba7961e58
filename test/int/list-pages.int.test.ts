import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicationQueries, listFilterSchema } from '../../src/read/applications.ts';
import { workflowEngine } from '../../src/workflows/index.ts';
import { createApplication } from '../../src/workflows/application/commands.ts';
import { applicationStates } from '../../machines/application.ts';
import type { Actor } from '../../src/domain/roles.ts';
import { login, startApp, type TestApp } from './http-helpers.ts';

/**
 * The applications list in keyset pages (issue 18.3): walking "next" from the first page, then
 * "previous" back, shows every application once, in the order of the whole list; the tabs' counts
 * from the counter table are what counting the rows gives.
 */
describe('the applications list, page by page', () => {
  let t: TestApp;
  let coordinator: Actor;
  beforeAll(async () => {
    t = await startApp();
    const row = t.db.$client.prepare<[], { id: number; login: string; name: string; role: string; municipalityId: number | null }>(
      "SELECT id, login, name, role, municipality_id AS municipalityId FROM users WHERE login = 'applicant1'",
    ).get()!;
    const applicant = { ...row } as Actor;
    // More than two pages of one programme: drafts made through the engine.
    const engine = workflowEngine(t.db);
    for (let i = 0; i < 110; i += 1) createApplication(engine, applicant, { programmeId: 2, form: { title: `Страница ${i}` } });
    const c = t.db.$client.prepare<[], typeof row>("SELECT id, login, name, role, municipality_id AS municipalityId FROM users WHERE login = 'coordinator1'").get()!;
    coordinator = { ...c } as Actor;
  });
  afterAll(() => t.close());

  const whole = (where: string, ...params: unknown[]) =>
    t.db.$client.prepare<unknown[], { id: number }>(`SELECT id FROM applications WHERE ${where} ORDER BY updated_at DESC, id DESC`).all(...params).map((r) => r.id);

  it('walks every application once forwards and backwards, in the order of the whole list', () => {
    const queries = applicationQueries(t.db);
    for (const [query, expected] of [
      [{}, whole('1')],
      [{ programmeId: '2' }, whole('programme_id = 2')],
      [{ programmeId: '2', state: 'draft' }, whole("programme_id = 2 AND state = 'draft'")],
    ] as const) {
      expect(expected.length).toBeGreaterThan(100);
      const seen: number[][] = [];
      let page = queries.page(coordinator, listFilterSchema.parse(query));
      expect(page.prevBefore).toBeNull();
      seen.push(page.rows.map((r) => r.id));
      while (page.nextAfter !== null) {
        page = queries.page(coordinator, listFilterSchema.parse({ ...query, after: String(page.nextAfter) }));
        seen.push(page.rows.map((r) => r.id));
      }
      expect(seen.flat()).toEqual(expected);
      expect(seen.every((rows) => rows.length === 50 || rows === seen.at(-1))).toBe(true);
      // And back from the last page to the first, the same pages.
      const back: number[][] = [seen.at(-1)!];
      while (page.prevBefore !== null) {
        page = queries.page(coordinator, listFilterSchema.parse({ ...query, before: String(page.prevBefore) }));
        back.unshift(page.rows.map((r) => r.id));
      }
      expect(back).toEqual(seen);
      // The API's page numbers read the same pages by offset.
      expect(queries.list(coordinator, listFilterSchema.parse({ ...query, page: '2' })).map((r) => r.id)).toEqual(seen[1]);
    }
  });

  it('counts every tab from the counter table as counting the rows does, under each filter', () => {
    const queries = applicationQueries(t.db);
    const counted = (where: string) =>
      Object.fromEntries(t.db.$client.prepare<[], { state: string; n: number }>(`SELECT state, count(*) AS n FROM applications WHERE ${where} GROUP BY state`).all().map((r) => [r.state, r.n]));
    const municipality = t.db.$client.prepare<[], { m: number }>('SELECT municipality_id AS m FROM applications GROUP BY 1 ORDER BY count(*) DESC LIMIT 1').get()!.m;
    expect(queries.countsByState(coordinator, listFilterSchema.parse({}))).toEqual(counted('1'));
    expect(queries.countsByState(coordinator, listFilterSchema.parse({ programmeId: '2', state: 'draft' }))).toEqual(counted('programme_id = 2'));
    expect(queries.countsByState(coordinator, listFilterSchema.parse({ municipalityId: String(municipality) }))).toEqual(counted(`municipality_id = ${municipality}`));
    expect(queries.countsByState(coordinator, listFilterSchema.parse({ projectType: 'roads' }))).toEqual(counted("project_type = 'roads'"));
    const queue: string[] = applicationStates.filter((s) => s === 'submitted' || s === 'under-review');
    expect(queries.countsByState(coordinator, listFilterSchema.parse({ programmeId: '2' }), queue)).toEqual(
      Object.fromEntries(Object.entries(counted('programme_id = 2')).filter(([state]) => (queue as readonly string[]).includes(state))),
    );
  });

  it('links the next and the previous page of the list page by the rows they start from', async () => {
    const browser = await login(t.app, 'coordinator1');
    const first = await browser.get('/applications?programmeId=2');
    expect(first.statusCode).toBe(200);
    const next = /href="\/applications\?programmeId=2&amp;after=(\d+)" rel="next"/.exec(first.body);
    expect(next, 'a next link').not.toBeNull();
    expect(first.body).not.toContain('rel="prev"');
    const second = await browser.get(`/applications?programmeId=2&after=${next![1]}`);
    expect(second.statusCode).toBe(200);
    expect(second.body).toMatch(/href="\/applications\?programmeId=2&amp;before=\d+" rel="prev"/);
    // A cursor that names no application is the first page, not an error.
    expect((await browser.get('/applications?after=999999999')).statusCode).toBe(200);
    expect((await browser.get('/applications?after=abc')).statusCode).toBe(200);
  });
});
