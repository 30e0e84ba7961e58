import { describe, expect, it } from 'vitest';
import { hasChromium, useDemoBrowser } from './browser.ts';
import { checkPages, idsOf, pagesFor } from './page-checks.ts';

/**
 * The public portal (issue 15) in a real Chromium, as a visitor who never signed in: every portal
 * page of the demo — the programme, its applications, its results, winning projects — in Russian
 * and in English, at a laptop's 1366 px and a phone's 390 px: no sideways scroll outside a scroll
 * box the keyboard reaches, zero axe-core violations, no console error (the photos load).
 */
describe.skipIf(!hasChromium)('the public portal in Chromium, at 1366 and 390 px', () => {
  const demo = useDemoBrowser();

  it('opens every portal page in both languages without sideways scroll or an axe violation', { timeout: 300_000 }, async () => {
    const portal = pagesFor(demo.server.app.routeRules, null, idsOf(demo.server)).filter((url) => url === '/' || url.startsWith('/p/'));
    expect(portal.length).toBeGreaterThanOrEqual(9);
    const urls = [...portal, ...portal.map((url) => `${url}?lang=en`)];
    const findings = await checkPages(demo.browser, demo.server, null, urls);
    expect(findings.map((f) => `${f.url} @${f.width}: ${f.what}`)).toEqual([]);
  });

  it('shows a winning project’s photos to a visitor', async () => {
    const [project] = idsOf(demo.server).publicProjects;
    const page = await demo.browser.newPage();
    await page.goto(`${demo.server.url}${project}`);
    // The photos are lazy: each one's address is asked for as the browser would, when it is scrolled to.
    const loaded = await page.$$eval('.portal-photos img', async (images) =>
      Promise.all(images.map(async (img) => (await fetch((img as HTMLImageElement).src)).headers.get('content-type')?.startsWith('image/') ?? false)),
    );
    await page.close();
    expect(loaded.length).toBeGreaterThan(0);
    expect(loaded.every(Boolean)).toBe(true);
  });
});
