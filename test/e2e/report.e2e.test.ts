import { describe, expect, it } from 'vitest';
import { hasChromium, signIn, useDemoBrowser } from './browser.ts';

/**
 * The analytical report in Chromium (issue 13): printed to PDF on A4, no table or picture wider
 * than the page, a page count a report of this size takes, in Russian and in English.
 */
describe.skipIf(!hasChromium)('the analytical report', () => {
  const demo = useDemoBrowser();

  it('prints on A4 without a cut table, for last year’s programme and this year’s beside it, in both languages', async () => {
    const page = await demo.browser.newPage();
    await signIn(page, demo.server, 'coordinator1');
    for (const [id, lang] of [[1, 'ru'], [2, 'ru'], [1, 'en']] as const) {
      await page.goto(`${demo.server.url}/programmes/${id}/report?lang=${lang}`);
      expect(await page.locator('h1').textContent()).toBe(lang === 'ru' ? 'Аналитический отчёт' : 'Analytical report');
      expect(await page.locator('.report-table').count()).toBe(8);
      await page.emulateMedia({ media: 'print' });
      // The report's @page margins are 12 mm each side: 186 mm of text ≈ 703 CSS px.
      await page.setViewportSize({ width: 703, height: 1000 });
      const wider = await page.evaluate(() =>
        [...document.querySelectorAll('#report table, #report svg')]
          .filter((element) => element.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .map((element) => `${element.getAttribute('data-table') ?? element.getAttribute('class')}: ${Math.round(element.getBoundingClientRect().right)} px`),
      );
      expect(wider, `programme ${id} ${lang}`).toEqual([]);
      // No table scrolls inside its box when printed: a cut column would be lost on paper.
      const scrolled = await page.evaluate(() => [...document.querySelectorAll('#report .table-wrap')].filter((box) => box.scrollWidth > box.clientWidth + 1).length);
      expect(scrolled, `programme ${id} ${lang}`).toBe(0);
      const pdf = await page.pdf({ preferCSSPageSize: true });
      const pages = pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g)?.length ?? 0;
      // Two charts, eight tables and the notes: more than two pages, and a municipality table of the demo's size keeps it under ten.
      expect(pages, `programme ${id} ${lang}`).toBeGreaterThanOrEqual(3);
      expect(pages, `programme ${id} ${lang}`).toBeLessThanOrEqual(10);
      await page.emulateMedia({ media: 'screen' });
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    await page.close();
  });
});
