import { describe, expect, it } from 'vitest';
import { hasChromium, signIn, useDemoBrowser } from './browser.ts';

describe.skipIf(!hasChromium)("the coordinator's programme overview in a real browser", () => {
  const demo = useDemoBrowser();

  it('shows twelve stage rows in the SVG timeline: four completed, two active, one overdue', async () => {
    const page = await demo.browser.newPage();
    await signIn(page, demo.server, 'coordinator1');
    await page.getByRole('link', { name: 'Программы' }).click();
    await page.getByRole('link', { name: `Наша инициатива — ${new Date().getUTCFullYear()}` }).click();
    await page.waitForURL(/\/programmes\/\d+$/);

    const timeline = page.locator('svg.timeline');
    await timeline.waitFor({ state: 'visible' });
    expect(await timeline.locator('g.stage-row').count()).toBe(12);
    expect(await timeline.locator('g.stage-row[data-state="completed"]').count()).toBe(4);
    expect(await timeline.locator('g.stage-row[data-state="active"]').count()).toBe(2);
    const overdue = timeline.locator('g.stage-row[data-overdue="true"]');
    expect(await overdue.count()).toBeGreaterThanOrEqual(1);
    expect(await overdue.first().locator('.overdue-mark').isVisible()).toBe(true);
    expect(await timeline.locator('.today-line').isVisible()).toBe(true);
    // The picture is really drawn: the active bars have a width on screen.
    const box = await timeline.locator('g.stage-row[data-state="active"] rect.actual-bar').first().boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(5);
  });

  it('ticks a task of an active stage with a click, without reloading the page', async () => {
    const page = await demo.browser.newPage();
    await signIn(page, demo.server, 'coordinator1');
    await page.goto(`${demo.server.url}/programmes/2/stages/6`);
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'kept'));
    const box = page.getByLabel('Проверка заявок');
    expect(await box.isChecked()).toBe(false);
    await box.check();
    await expect.poll(async () => (await page.locator('.notice--success').count()) > 0).toBe(true);
    expect(await page.getByLabel('Проверка заявок').isChecked()).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('kept');
  });
});
