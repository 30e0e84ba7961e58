import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium, signIn, useDemoBrowser, watchedPage } from './browser.ts';
import { samples, sha256 } from '../int/document-samples.ts';

const stateText = async (page: Page) => (await page.locator('#application-state').textContent())?.trim();

/**
 * Issue 7 in a real browser: an applicant opens an application returned for revision with a
 * remark on one of its documents, uploads a new file for it and resubmits.
 */
describe.skipIf(!hasChromium)('documents in a real browser', () => {
  const demo = useDemoBrowser();

  it('uploads a file on a returned application and resubmits it', async () => {
    // A returned application of applicant1 whose reviewer remarked on a document.
    const returned = demo.server.db.$client
      .prepare<[], { id: number; snapshot: string }>(
        `SELECT a.id, s.snapshot FROM applications a JOIN streams s ON s.id = a.stream_id JOIN users u ON u.municipality_id = a.municipality_id
         WHERE u.login = 'applicant1' AND a.state = 'returned' ORDER BY a.id`,
      )
      .all()
      .map((row) => ({ id: row.id, remarks: (JSON.parse(row.snapshot) as { context: { remarks: { field: string; text: string }[] } }).context.remarks }))
      .find((row) => row.remarks.some((remark) => remark.field.startsWith('document.')));
    expect(returned).toBeDefined();
    const remark = returned!.remarks.find((r) => r.field.startsWith('document.'))!;
    const kind = remark.field.slice('document.'.length);
    const file = kind === 'object-photos' ? { name: 'новое фото.png', mimeType: 'image/png', buffer: samples.png(77) } : { name: 'исправленный документ.pdf', mimeType: 'application/pdf', buffer: samples.pdf('Исправленный документ') };

    const { page, errors } = await watchedPage(demo.browser);
    await signIn(page, demo.server, 'applicant1');
    await page.waitForURL(/\/applications/);

    await page.goto(`${demo.server.url}/applications/${returned!.id}`);
    await expect.poll(() => stateText(page)).toBe('На доработке');
    // The reviewer's remark stands beside its document.
    const item = page.locator(`#document-${kind}`);
    await item.locator('.field-remark').filter({ hasText: remark.text }).waitFor({ state: 'visible' });
    await page.evaluate(() => ((window as unknown as { documentsMarker: string }).documentsMarker = 'still here'));

    await item.locator('input[type="file"]').setInputFiles(file);
    await item.getByRole('button', { name: 'Заменить файл' }).click();
    await expect.poll(() => page.locator('.notice--success').textContent()).toContain(file.name);
    await expect.poll(() => page.locator(`#document-${kind} .documents__status`).textContent()).toContain('Ждёт проверки');
    const link = page.locator(`#document-${kind} a[download]`);
    expect(await link.textContent()).toBe(file.name);
    expect(await link.getAttribute('href')).toBe(`/applications/${returned!.id}/documents/${sha256(file.buffer)}`);

    await page.getByRole('button', { name: 'Подать заявку' }).click();
    await expect.poll(() => stateText(page)).toBe('Подана');
    expect(await page.evaluate(() => (window as unknown as { documentsMarker?: string }).documentsMarker)).toBe('still here');

    const history = demo.server.db.$client
      .prepare<[string], { type: string; payload: string }>('SELECT type, payload FROM events WHERE stream_id = ? ORDER BY seq DESC LIMIT 2')
      .all(`application-${returned!.id}`);
    expect(history.map((e) => e.type)).toEqual(['submit', 'attach-document']);
    expect(JSON.parse(history[1]!.payload)).toMatchObject({ kind, name: file.name, sha256: sha256(file.buffer), size: file.buffer.length });
    expect(errors).toEqual([]);
  });

  it('shows a preview of a PDF and of a photo inline', async () => {
    const row = demo.server.db.$client
      .prepare<[], { id: number; snapshot: string }>("SELECT a.id, s.snapshot FROM applications a JOIN streams s ON s.id = a.stream_id WHERE a.state = 'under-review' ORDER BY a.id LIMIT 1")
      .get()!;
    const documents = (JSON.parse(row.snapshot) as { context: { documents: Record<string, { file: { sha256: string } | null }> } }).context.documents;
    const page = await demo.browser.newPage();
    await signIn(page, demo.server, 'reviewer1');
    await page.waitForURL(/\/queue/);
    const photo = await page.goto(`${demo.server.url}/applications/${row.id}/documents/${documents['object-photos']!.file!.sha256}/preview`);
    expect(photo?.status()).toBe(200);
    expect(await page.evaluate(() => (document.querySelector('img') as HTMLImageElement | null)?.naturalWidth ?? 0)).toBeGreaterThan(0);
    const pdf = await page.goto(`${demo.server.url}/applications/${row.id}/documents/${documents['meeting-minutes']!.file!.sha256}/preview`);
    expect(pdf?.status()).toBe(200);
    expect(pdf?.headers()['content-type']).toBe('application/pdf');
  });
});
