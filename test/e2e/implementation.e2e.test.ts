import { describe, expect, it } from 'vitest';
import { hasChromium, signIn, useDemoBrowser, watchedPage } from './browser.ts';
import { samples } from '../int/document-samples.ts';

/**
 * Issue 11 in a real browser: the coordinator records a contribution on a project under works
 * and attaches a progress photo; both show on the implementation card without a whole-page reload.
 */
describe.skipIf(!hasChromium)('the implementation card in a real browser', () => {
  const demo = useDemoBrowser();

  it('records a contribution, attaches a photo and sees it in the gallery, the page never reloaded', async () => {
    const { id } = demo.server.db.$client.prepare<[], { id: number }>("SELECT id FROM applications WHERE state = 'implementation.works' ORDER BY id LIMIT 1").get()!;
    const { page, errors } = await watchedPage(demo.browser);
    await signIn(page, demo.server, 'coordinator1');
    await page.waitForURL((url) => !url.pathname.startsWith('/login'));
    await page.goto(`${demo.server.url}/applications/${id}`);
    await page.locator('#implementation').waitFor({ state: 'visible' });
    await page.evaluate(() => ((window as unknown as { implementationMarker: string }).implementationMarker = 'still here'));

    const form = page.locator('form.event-form').filter({ has: page.locator('input[name="type"][value="record-contribution"]') });
    await form.locator('summary').click();
    await form.locator('select[name="source"]').selectOption('residents');
    await form.locator('input[name="amountKopecks"]').fill('1 500,00');
    await form.locator('input[name="receivedOn"]').fill('2026-11-20');
    await form.locator('input[name="payer"]').fill('Сход жителей, ул. Лесная');
    await form.getByRole('button', { name: /Подтвердить/ }).click();
    await expect.poll(() => page.locator('#contributions-table').textContent()).toContain('Сход жителей, ул. Лесная');

    const before = await page.locator('.gallery li').count();
    const upload = page.locator('#evidence-form');
    await upload.locator('select[name="kind"]').selectOption('photo');
    await upload.locator('input[name="caption"]').fill('Укладка плитки, ноябрь');
    await upload.locator('input[type="file"]').setInputFiles({ name: 'плитка.png', mimeType: 'image/png', buffer: samples.png(91) });
    await upload.getByRole('button', { name: 'Приложить' }).click();
    await expect.poll(() => page.locator('.gallery li').count()).toBe(before + 1);
    await expect.poll(() => page.locator('#gallery').textContent()).toContain('Укладка плитки, ноябрь');
    const img = page.locator('.gallery img[alt="Укладка плитки, ноябрь"]');
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0)).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { implementationMarker?: string }).implementationMarker)).toBe('still here');

    const types = demo.server.db.$client
      .prepare<[string], { type: string }>('SELECT type FROM events WHERE stream_id = ? ORDER BY seq DESC LIMIT 2')
      .all(`application-${id}`)
      .map((e) => e.type);
    expect(types).toEqual(['attach-evidence', 'record-contribution']);
    expect(errors).toEqual([]);
  });
});
