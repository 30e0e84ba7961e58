import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, csrfOf, eventCount, expectedVersionOf, login, startApp, token, type TestApp } from './http-helpers.ts';

/**
 * The coordinator's recommendations of the analytical report (issue 13) are an event of the
 * closing stage: recorded through HTTP they show in that stage's history with who wrote them,
 * and everyone who may read the report sees them; an applicant — the municipality's own user —
 * can neither read the report nor record them, through the page or the API.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t.close());

const PAST_PROGRAMME = 1;
const CLOSING_STAGE = 12;

describe('the report’s recommendations in the history', () => {
  it('shows the demo’s two records in the closing stage’s history, with the coordinator and the text’s opening', async () => {
    const auditor = await login(t.app, 'auditor1');
    const stage = await auditor.get(`/programmes/${PAST_PROGRAMME}/stages/${CLOSING_STAGE}`);
    expect(stage.statusCode).toBe(200);
    const rows = [...stage.body.matchAll(/<tr>\s*<td class="num">\d+<\/td>[\s\S]*?<\/tr>/g)].map((m) => m[0]).filter((row) => row.includes('Записать рекомендации'));
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toContain('Сергей Иванов');
      expect(row).toContain('Текст рекомендаций: ');
    }
    // The revised text begins with its numbered list; a long text is cut with an ellipsis on one line.
    expect(rows[1]).toContain('Текст рекомендаций: 1. Проводить обучение инициативных групп');
    expect(rows[1]).toMatch(/…<\/div>/);
  });

  it('records a new one through the report’s form and shows it in the stage’s history in Russian and English', async () => {
    const coordinator = await login(t.app, 'coordinator1');
    const page = await coordinator.get(`/programmes/${PAST_PROGRAMME}/report`);
    const before = eventCount(t.db);
    const text = 'Короткая рекомендация из теста истории.';
    const saved = await coordinator.post(`/programmes/${PAST_PROGRAMME}/report/recommendations`, { text, expectedVersion: expectedVersionOf(page.body), _csrf: csrfOf(page.body) });
    expect(saved.statusCode).toBe(303);
    expect(eventCount(t.db)).toBe(before + 1);
    const auditor = await login(t.app, 'auditor1');
    const ru = await auditor.get(`/programmes/${PAST_PROGRAMME}/stages/${CLOSING_STAGE}`);
    expect(ru.body).toContain(`<div>Текст рекомендаций: ${text}</div>`);
    const en = await auditor.get(`/programmes/${PAST_PROGRAMME}/stages/${CLOSING_STAGE}?lang=en`);
    expect(en.body).toContain('Record the recommendations');
    expect(en.body).toContain(`<div>Recommendations: ${text}</div>`);
    // The report names the author and shows the text to the auditor, who cannot record one.
    const report = await auditor.get(`/programmes/${PAST_PROGRAMME}/report`);
    expect(report.statusCode).toBe(200);
    expect(report.body).toContain(text);
    expect(report.body).toContain('Сергей Иванов');
    expect(report.body).not.toContain('action="/programmes/1/report/recommendations"');
    const refused = await auditor.post(`/programmes/${PAST_PROGRAMME}/report/recommendations`, { text: 'Аудитор не пишет.', expectedVersion: expectedVersionOf(page.body) });
    expect(refused.statusCode).toBe(403);
    expect(eventCount(t.db)).toBe(before + 1);
  });

  it('refuses the municipality’s applicant the report, its API and the form', async () => {
    const applicant = await login(t.app, 'applicant1');
    const before = eventCount(t.db);
    expect((await applicant.get(`/programmes/${PAST_PROGRAMME}/report`)).statusCode).toBe(403);
    expect((await applicant.get(`/programmes/${PAST_PROGRAMME}/report.xlsx`)).statusCode).toBe(403);
    expect((await applicant.post(`/programmes/${PAST_PROGRAMME}/report/recommendations`, { text: 'Не моё.', expectedVersion: '1' })).statusCode).toBe(403);
    const bearer = await token(t.app, 'applicant1');
    expect((await api(t.app, bearer, 'GET', `/api/programmes/${PAST_PROGRAMME}/report`)).status).toBe(403);
    expect(eventCount(t.db)).toBe(before);
  });
});
