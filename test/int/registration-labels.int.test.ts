import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CURRENT_PROGRAMME, csrfOf, eventCount, login, startApp, type TestApp } from './http-helpers.ts';

/**
 * The registration number names the application in the journal's notice (issue 13.1): linking a
 * final meeting to an application through the entry's form says "linked to application № НИ-…",
 * the number its choices list, not the database id.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t.close());

describe('the journal’s link notice', () => {
  it('names the linked application by its registration number', async () => {
    const entry = t.db.$client
      .prepare<[number], { id: number; municipalityId: number }>("SELECT id, municipality_id AS municipalityId FROM journal_entries WHERE programme_id = ? AND kind = 'final-meeting' AND application_id IS NULL ORDER BY id LIMIT 1")
      .get(CURRENT_PROGRAMME)!;
    expect(entry).toBeDefined();
    const coordinator = await login(t.app, 'coordinator1');
    const page = await coordinator.get(`/programmes/${CURRENT_PROGRAMME}/journal/${entry.id}`);
    expect(page.statusCode).toBe(200);
    const choices = [...page.body.matchAll(/<option value="(\d+)">Заявка № ([^<]+)<\/option>/g)].map((m) => ({ id: Number(m[1]), label: m[2]! }));
    const numbered = choices.find((choice) => choice.label !== String(choice.id));
    expect(numbered, 'a numbered application among the choices').toBeDefined();
    const no = t.db.$client.prepare<[number], { no: string }>('SELECT registration_no AS no FROM applications WHERE id = ?').get(numbered!.id)!.no;
    expect(numbered!.label).toBe(no);
    const version = /name="expectedVersion" value="(\d+)"/.exec(page.body.slice(page.body.indexOf('entry-link-title')))![1]!;
    const before = eventCount(t.db);
    const linked = await coordinator.post(
      `/programmes/${CURRENT_PROGRAMME}/journal/${entry.id}/link`,
      { applicationId: String(numbered!.id), expectedVersion: version, _csrf: csrfOf(page.body) },
      { headers: { 'hx-request': 'true' } },
    );
    expect(linked.statusCode, linked.body.slice(0, 400)).toBe(200);
    expect(eventCount(t.db)).toBe(before + 1);
    expect(linked.body).toContain(`Запись связана с заявкой № ${no}.`);
    expect(linked.body).not.toContain(`заявкой № ${numbered!.id}.`);
    // The entry's fields and its history name it by the number as well.
    const after = await coordinator.get(`/programmes/${CURRENT_PROGRAMME}/journal/${entry.id}`);
    const history = after.body.slice(after.body.indexOf('id="history-title"'));
    expect(history).toContain(`<div>Заявка № ${no}</div>`);
    expect(after.body).not.toContain(`Заявка № ${numbered!.id}<`);
  });

  it('titles the audit replay of a numbered application with its number', async () => {
    const row = t.db.$client.prepare<[number], { id: number; no: string }>('SELECT id, registration_no AS no FROM applications WHERE programme_id = ? AND registration_no IS NOT NULL ORDER BY id LIMIT 1').get(CURRENT_PROGRAMME)!;
    const auditor = await login(t.app, 'auditor1');
    const page = await auditor.get(`/audit/applications/${row.id}/replay?seq=1`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`<h1 id="replay-title">Воспроизведение: заявка № ${row.no}</h1>`);
  });
});
