import { describe, expect, it } from 'vitest';
import { hasChromium, signIn, useDemoBrowser } from './browser.ts';

/**
 * The coordinator's dashboard in Chromium (issue 13): where the coordinator lands after signing
 * in, and that it prints on A4 without a table or a picture wider than the page.
 */
describe.skipIf(!hasChromium)('the coordinator’s dashboard', () => {
  const demo = useDemoBrowser();

  it('is where the coordinator lands after signing in', async () => {
    const page = await demo.browser.newPage();
    await signIn(page, demo.server, 'coordinator1');
    await page.waitForURL(/\/programmes\/\d+\/dashboard$/);
    expect(await page.locator('h1').textContent()).toContain('Сводка');
    expect(await page.locator('#matrix tbody tr').count()).toBeGreaterThan(5);
    // The old list is one click away in the menu.
    await page.locator('.site-nav').getByRole('link', { name: 'Заявки', exact: true }).click();
    await page.waitForURL(/\/applications$/);
    await page.close();
  });

  it('prints on A4: no table or picture wider than the page, for this year’s programme and last year’s', async () => {
    const page = await demo.browser.newPage();
    await signIn(page, demo.server, 'coordinator1');
    for (const id of [2, 1]) {
      await page.goto(`${demo.server.url}/programmes/${id}/dashboard`);
      await page.emulateMedia({ media: 'print' });
      // A4 is 210 mm wide; less 10 mm margins each side, 190 mm ≈ 718 CSS px.
      await page.setViewportSize({ width: 718, height: 1000 });
      const wider = await page.evaluate(() =>
        [...document.querySelectorAll('#dashboard table, #dashboard svg')]
          .filter((element) => element.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .map((element) => `${element.id || element.getAttribute('class')}: ${Math.round(element.getBoundingClientRect().right)} px`),
      );
      expect(wider, `programme ${id}`).toEqual([]);
      const pdf = await page.pdf({ format: 'A4', margin: { top: '10mm', bottom: '10mm', left: '10mm', right: '10mm' } });
      const pages = pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g)?.length ?? 0;
      expect(pages, `programme ${id}`).toBeGreaterThanOrEqual(2);
      expect(pages, `programme ${id}`).toBeLessThanOrEqual(8);
      await page.emulateMedia({ media: 'screen' });
    }
    await page.close();
  });
});
