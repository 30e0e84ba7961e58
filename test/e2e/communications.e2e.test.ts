import { describe, expect, it } from 'vitest';
import { hasChromium, signIn, useDemoBrowser, watchedPage, type DemoServer } from './browser.ts';

/**
 * Answers to remarks in a real browser (issue 12): the applicant answers a remark beside its
 * field; the reviewer, whose page is open, sees the answer appear beside the same field and the
 * unread count go up, without the page being loaded again.
 */

let applicationId = 0;
let remarkId = '';
let reviewerLogin = 'reviewer1';

async function prepare(server: DemoServer) {
  const api = async (login: string) => {
    const response = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password: 'demo' }) });
    return ((await response.json()) as { token: string }).token;
  };
  const sqlite = server.db.$client;
  const row = sqlite
    .prepare<[], { id: number; version: number; assignee: string | null }>(
      `SELECT a.id, a.version, (SELECT login FROM users WHERE id = q.assignee_id) AS assignee FROM applications a JOIN users u ON u.municipality_id = a.municipality_id
       LEFT JOIN review_queue q ON q.application_id = a.id WHERE u.login = 'applicant1' AND a.state = 'submitted' ORDER BY a.id LIMIT 1`,
    )
    .get()!;
  applicationId = row.id;
  // The reviewer it is assigned to (issue 16), or anyone while nobody has it.
  reviewerLogin = row.assignee ?? 'reviewer1';
  const reviewer = await api(reviewerLogin);
  const send = async (body: Record<string, unknown>) => {
    const response = await fetch(`${server.url}/api/applications/${row.id}/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${reviewer}` }, body: JSON.stringify(body) });
    expect(response.status, await response.clone().text()).toBe(200);
    return ((await response.json()) as { version: number }).version;
  };
  const version = await send({ type: 'start-review', expectedVersion: row.version });
  await send({ type: 'return-for-revision', expectedVersion: version, remarks: [{ field: 'costs.subsidy', text: 'Субсидия не совпадает со сметой.' }] });
  const seq = sqlite.prepare<[string], { seq: number }>("SELECT seq FROM events WHERE stream_id = ? AND type = 'return-for-revision' ORDER BY seq DESC LIMIT 1").get(`application-${row.id}`)!.seq;
  remarkId = `remark:${seq}:0`;
}

describe.skipIf(!hasChromium)('answers to remarks in a real browser', () => {
  const demo = useDemoBrowser(prepare, { communications: { pollSeconds: 1 } });

  it('the applicant answers a remark; the reviewer sees it beside the field and the unread count without a reload', async () => {
    const reviewer = await watchedPage(demo.browser);
    await signIn(reviewer.page, demo.server, reviewerLogin);
    await reviewer.page.goto(`${demo.server.url}/applications/${applicationId}`);
    const count = async () => Number((await reviewer.page.locator('#unread-count').textContent())?.trim());
    const before = await count();
    await reviewer.page.evaluate(() => ((window as unknown as { marker: string }).marker = 'still here'));

    const applicant = await watchedPage(demo.browser);
    await signIn(applicant.page, demo.server, 'applicant1');
    await applicant.page.goto(`${demo.server.url}/applications/${applicationId}`);
    const form = applicant.page.locator('form.remark-answer-form').filter({ has: applicant.page.locator(`input[name="replyTo"][value="${remarkId}"]`) });
    await form.getByLabel('Ответ на замечание').fill('Исправили: субсидия приведена в соответствие со сметой, см. страницу 3.');
    await form.getByRole('button', { name: 'Ответить на замечание' }).click();
    await applicant.page.locator('#answers-costs-subsidy .remark-answer').filter({ hasText: 'см. страницу 3' }).waitFor({ state: 'visible' });

    await reviewer.page.locator('#answers-costs-subsidy .remark-answer').filter({ hasText: 'см. страницу 3' }).waitFor({ state: 'visible', timeout: 15_000 });
    await expect.poll(count, { timeout: 15_000 }).toBe(before + 1);
    expect(await reviewer.page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('still here');
    expect(reviewer.errors).toEqual([]);
    expect(applicant.errors).toEqual([]);
  });
});
