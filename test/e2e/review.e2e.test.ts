import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium, signIn, useDemoBrowser, watchedPage } from './browser.ts';

const stateText = async (page: Page) => (await page.locator('#application-state').textContent())?.trim();

describe.skipIf(!hasChromium)('the reviewer in a real browser', () => {
  const demo = useDemoBrowser();

  it('returns a submitted application for revision by clicking, and sees the new status without reloading the page', async () => {
    const { page, errors } = await watchedPage(demo.browser);

    await signIn(page, demo.server, 'reviewer1');
    await page.waitForURL(/\/queue/);

    // The reviewer's own tab of the queue: one of theirs still waiting to be taken into review.
    await page.locator('table.queue tbody tr').filter({ hasText: 'Подана' }).first().locator('a').click();
    await page.waitForURL(/\/applications\/\d+\?tab=mine/);
    await expect.poll(() => stateText(page)).toBe('Подана');

    // A marker on window survives htmx swaps and dies with a whole-page load.
    await page.evaluate(() => ((window as unknown as { reviewMarker: string }).reviewMarker = 'still here'));

    await page.getByRole('button', { name: 'Взять на проверку' }).click();
    await expect.poll(() => stateText(page)).toBe('На проверке');

    await page.locator('#return-form summary').click();
    await page.getByLabel('Общее замечание').fill('Приложите протокол итогового собрания с подписями.');
    await page.getByLabel('Замечание к полю «Вклад населения»').fill('Сумма не совпадает с протоколом собрания.');
    await page.getByRole('button', { name: 'Подтвердить: Вернуть на доработку' }).click();

    await expect.poll(() => stateText(page)).toBe('На доработке');
    await expect.poll(() => page.locator('.notice--success').textContent()).toContain('Заявка возвращена на доработку.');
    await page.locator('.field-remark').filter({ hasText: 'Сумма не совпадает с протоколом собрания.' }).waitFor({ state: 'visible' });
    expect(await page.evaluate(() => (window as unknown as { reviewMarker?: string }).reviewMarker)).toBe('still here');
    expect(errors).toEqual([]);
  });
});
