import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium, signIn, useDemoBrowser, watchedPage } from './browser.ts';

/** The step the stepper shows, the state highlighted in the picture, and the form as it was. */
async function snapshotOf(page: Page) {
  return page.evaluate(() => {
    const replay = document.querySelector('#replay') as HTMLElement;
    const active = document.querySelector('#replay svg.statechart .sc-state--active') as SVGGElement | null;
    const rows = [...document.querySelectorAll('#form-as-was .form-as-was__row')].map((row) => `${(row as HTMLElement).dataset.field}=${row.querySelector('dd')!.textContent!.trim()}`);
    const changed = [...document.querySelectorAll('#form-as-was .is-changed')].map((row) => (row as HTMLElement).dataset.field);
    return { seq: Number(replay.dataset.seq), active: active?.dataset.state ?? null, activeCount: document.querySelectorAll('#replay svg.statechart .sc-state--active').length, form: rows.join('|'), changed, position: document.querySelector('#step-position')!.textContent!.trim() };
  });
}

describe.skipIf(!hasChromium)('the auditor replays a history in a real browser', () => {
  const demo = useDemoBrowser();

  it('steps through a closed application of last year: the form changes and the highlighted state moves', async () => {
    const target = demo.server.db.$client.prepare<[], { id: number; version: number; title: string }>("SELECT id, version, title FROM applications WHERE state = 'closed' ORDER BY version DESC, id LIMIT 1").get()!;
    expect(target.version).toBeGreaterThanOrEqual(10);
    const { page, errors } = await watchedPage(demo.browser, { viewport: { width: 1280, height: 900 } });

    await signIn(page, demo.server, 'auditor1');
    await page.waitForURL(/\/applications/);

    // Find it from the audit search, by its number.
    await page.getByRole('link', { name: 'Аудит' }).click();
    await page.waitForURL(/\/audit$/);
    await page.getByLabel('Номер, название или муниципальное образование').fill(String(target.id));
    await page.getByRole('button', { name: 'Найти' }).click();
    await page.locator(`table.audit-results a[href="/audit/applications/${target.id}"]`).first().click();
    await page.waitForURL(new RegExp(`/audit/applications/${target.id}$`));
    expect(await page.locator('table.audit-history tbody tr').count()).toBe(target.version);

    // The verify button answers in place with a plain verdict.
    await page.getByRole('button', { name: 'Проверить заявку' }).click();
    await expect.poll(() => page.locator('#verdict').textContent()).toContain('Запись подлинна и полна');

    await page.getByRole('link', { name: 'Воспроизвести историю' }).first().click();
    await page.waitForURL(/\/replay$/);
    expect((await snapshotOf(page)).seq).toBe(target.version);

    // A marker on window survives htmx swaps and dies with a whole-page load.
    await page.evaluate(() => ((window as unknown as { replayMarker: string }).replayMarker = 'still here'));
    await page.locator('.stepper__first').click();
    await expect.poll(async () => (await snapshotOf(page)).seq).toBe(1);
    const seen = [await snapshotOf(page)];
    expect(seen[0]!.active).toBe('draft');
    expect(seen[0]!.position).toBe(`Шаг 1 из ${target.version}`);

    for (let step = 2; step <= target.version; step += 1) {
      await page.locator('.stepper__next').click();
      await expect.poll(async () => (await snapshotOf(page)).seq).toBe(step);
      const now = await snapshotOf(page);
      expect(now.activeCount).toBe(1);
      expect(now.position).toBe(`Шаг ${step} из ${target.version}`);
      seen.push(now);
    }
    expect(page.url()).toContain(`seq=${target.version}`);
    expect(await page.evaluate(() => (window as unknown as { replayMarker?: string }).replayMarker)).toBe('still here');

    // The form changed along the way, and each change was marked at its step.
    const forms = new Set(seen.map((s) => s.form));
    expect(forms.size).toBeGreaterThanOrEqual(2);
    const update = seen[1]!;
    expect(update.form).not.toBe(seen[0]!.form);
    expect(update.changed.length).toBeGreaterThan(0);
    // The highlighted state moved through the statechart, from the draft to the closing.
    const path = seen.map((s) => s.active);
    expect(new Set(path).size).toBeGreaterThanOrEqual(8);
    expect(path).toEqual(expect.arrayContaining(['draft', 'submitted', 'under-review', 'accepted', 'awarded', 'implementation.works']));
    expect(path.at(-1)).toBe('closed');

    // The slider moves too: one step back with the keyboard.
    await page.locator('#step-slider').focus();
    await page.keyboard.press('ArrowLeft');
    await expect.poll(async () => (await snapshotOf(page)).seq).toBe(target.version - 1);

    await page.screenshot({ path: 'test-results/audit-replay.png', fullPage: true }).catch(() => undefined);
    expect(errors).toEqual([]);
  }, 120_000);

  it('verifies the whole ledger as a job: the page shows its progress and then its report, without a reload', async () => {
    const { page, errors } = await watchedPage(demo.browser, { viewport: { width: 1280, height: 900 } });
    await signIn(page, demo.server, 'auditor1');
    await page.goto(`${demo.server.url}/audit/ledger`);
    // Asked for (a POST, which keeps its checkpoints), the whole log is verified; a read of the page writes nothing.
    await Promise.all([page.waitForURL(/\/audit\/ledger\?job=[0-9a-f]{16}$/), page.getByRole('button', { name: 'Полная проверка' }).click()]);
    // The job runs in a worker thread beside the server; the page polls its part until the report replaces it.
    await page.evaluate(() => ((window as unknown as { ledgerMarker: string }).ledgerMarker = 'still here'));
    await expect.poll(() => page.locator('#ledger-job').getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    expect(await page.locator('#ledger-job .verdict--ok').count()).toBe(1);
    expect(await page.locator('#ledger-head').innerText()).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.locator('#ledger-mode').getAttribute('data-full')).toBe('true');
    expect(await page.evaluate(() => (window as unknown as { ledgerMarker?: string }).ledgerMarker)).toBe('still here');
    // Checking again what was added: nothing to replay since the full one.
    await Promise.all([page.waitForURL(/\/audit\/ledger\?job=[0-9a-f]{16}$/), page.getByRole('button', { name: 'Проверить добавленное' }).click()]);
    expect(await page.evaluate(() => (window as unknown as { ledgerMarker?: string }).ledgerMarker)).toBeUndefined();
    await expect.poll(() => page.locator('#ledger-job').getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    expect(await page.locator('#ledger-replayed').innerText()).toBe('0');
    expect(errors).toEqual([]);
  }, 120_000);
});
