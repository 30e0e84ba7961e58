import { it, expect } from 'vitest';
import { useDemoBrowser, signIn } from './browser.ts';
import { checkPages } from './page-checks.ts';

const demo = useDemoBrowser();
it('scratch', { timeout: 300_000 }, async () => {
  const findings = await checkPages(demo.browser, demo.server, 'coordinator1', ['/programmes/2/dashboard', '/programmes/1/dashboard']);
  console.log(JSON.stringify(findings, null, 1));
  const page = await demo.browser.newPage({ viewport: { width: 1366, height: 900 } });
  await signIn(page, demo.server, 'coordinator1');
  await page.goto(`${demo.server.url}/programmes/${process.env.P ?? 2}/dashboard`);
  await page.screenshot({ path: '/tmp/dash/1366.png', fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: '/tmp/dash/390.png', fullPage: true });
  await page.setViewportSize({ width: 718, height: 1000 });
  await page.emulateMedia({ media: 'print' });
  await page.pdf({ path: '/tmp/dash/a4.pdf', format: 'A4', printBackground: false });
  const widths = await page.evaluate(() => [...document.querySelectorAll('table, svg')].map((t) => `${t.id || t.getAttribute('class')}:${Math.round(t.getBoundingClientRect().right)}`));
  console.log('print widths', widths, await page.evaluate(() => document.documentElement.clientWidth));
  expect(1).toBe(1);
});
