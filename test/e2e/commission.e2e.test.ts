import { describe, expect, it } from 'vitest';
import { hasChromium, signIn, useDemoBrowser } from './browser.ts';

/** The commission page and the protocol in real Chromium (issue 5). */
describe.skipIf(!hasChromium)('the commission in a real browser', () => {
  const demo = useDemoBrowser(async (server) => {
    // The coordinator opens stage 7 of this year's programme through the API.
    const session = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'coordinator1', password: 'demo' }) });
    const { token } = (await session.json()) as { token: string };
    const programme = (await (await fetch(`${server.url}/api/programmes/2`, { headers: { authorization: `Bearer ${token}` } })).json()) as { stages: { no: number; version: number }[] };
    const version = programme.stages.find((s) => s.no === 7)!.version;
    const started = await fetch(`${server.url}/api/programmes/2/stages/7/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ type: 'start', expectedVersion: version }) });
    expect(started.status).toBe(200);
  });

  it('scores an application from the commission page without reloading it; the ranking and the unscored count follow', async () => {
    const page = await demo.browser.newPage({ viewport: { width: 1400, height: 900 } });
    await signIn(page, demo.server, 'commission1');
    await page.goto(`${demo.server.url}/programmes/2/commission`);
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'kept'));
    const unscored = await page.locator('#scoring tr.unscored').count();
    expect(unscored).toBeGreaterThan(1);
    const row = page.locator('#scoring tr.unscored').first();
    const id = (await row.getAttribute('id'))!.replace('score-', '');
    // The notice names the application by its registration number (issue 13), as the row does.
    const label = demo.server.db.$client.prepare<[number], { label: string }>('SELECT COALESCE(registration_no, id) AS label FROM applications WHERE id = ?').get(Number(id))!.label;
    await row.locator('select[name="significance"]').selectOption('5');
    await row.getByRole('button').click();
    await expect.poll(async () => page.locator('.notice--success', { hasText: `№ ${label}` }).count()).toBe(1);
    // The ranking also refreshes itself while members score: wait for the swap, do not race it.
    await expect.poll(async () => page.locator('#scoring tr.unscored').count()).toBe(unscored - 1);
    expect(await page.locator(`#rank-${id} td`).nth(7).innerText()).toBe('1/3');
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('kept');
  });

  it('prints last year’s protocol with the ranking, the decision and the ledger head', async () => {
    const page = await demo.browser.newPage();
    await signIn(page, demo.server, 'applicant1');
    await page.goto(`${demo.server.url}/programmes/1/protocol`);
    await expect.poll(async () => page.locator('#ledger-head').innerText()).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.locator('table.ranking tbody tr').count()).toBeGreaterThan(20);
    expect(await page.locator('ol.winners li').count()).toBeGreaterThan(0);
    expect(await page.locator('ol.losers li').count()).toBeGreaterThan(0);
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.site-nav').isVisible()).toBe(false);
    expect(await page.locator('.protocol-tools').isVisible()).toBe(false);
    const pdf = await page.pdf({ preferCSSPageSize: true });
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
  });
});
