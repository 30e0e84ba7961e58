import { describe, expect, it } from 'vitest';
import { hasChromium, signIn, useDemoBrowser, watchedPage } from './browser.ts';

/** The programme journal in a real browser (issue 14): a consultant records a consultation and finds it on the application's page. */
describe.skipIf(!hasChromium)('the journal in a real browser', () => {
  const demo = useDemoBrowser();

  it('records a consultation from an application’s page and sees it there', async () => {
    const { page, errors } = await watchedPage(demo.browser);
    const application = demo.server.db.$client
      .prepare<[], { id: number; label: string }>("SELECT id, COALESCE(registration_no, id) AS label FROM applications WHERE programme_id = 2 AND state = 'under-review' ORDER BY id LIMIT 1")
      .get()!;
    await signIn(page, demo.server, 'reviewer1');
    await page.goto(`${demo.server.url}/applications/${application.id}`);
    await page.getByRole('link', { name: 'Записать консультацию по заявке' }).click();
    await page.waitForURL(/\/journal\/new\?kind=consultation/);
    // The form starts from the application: its municipality, its number, the consultant's own name.
    expect(await page.getByLabel('Заявка').inputValue()).toBe(String(application.id));
    expect(await page.getByLabel('Консультант').inputValue()).toBe('Ольга Смирнова');

    // A date that has not come yet passes the browser and is refused by the rules: the error stands beside its field, nothing typed is lost.
    const later = new Date(Date.now() + 5 * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
    await page.getByLabel('Дата проведения').fill(later);
    await page.getByLabel('Канал').selectOption('visit');
    await page.getByLabel('Тема').fill('Смета на благоустройство');
    await page.getByLabel('Вопрос').fill('Кто согласует смету на ремонт колодца?');
    await page.getByLabel('Ответ').fill('Смету подписывает глава поселения, проверку делает сметный отдел района.');
    await page.getByRole('button', { name: 'Внести в журнал' }).click();
    await expect.poll(() => page.locator('#jf-date-error').textContent()).toContain('Дата ещё не наступила');
    expect(await page.getByLabel('Вопрос').inputValue()).toBe('Кто согласует смету на ремонт колодца?');

    await page.getByLabel('Дата проведения').fill(new Date().toISOString().slice(0, 10));
    await page.getByRole('button', { name: 'Внести в журнал' }).click();
    await page.locator('#journal-entry').waitFor({ state: 'visible' });
    await expect.poll(() => page.locator('.notice--success').textContent()).toContain('внесена в журнал');

    await page.locator('#journal-entry').getByRole('link', { name: `Заявка № ${application.label}` }).first().click();
    await page.waitForURL(new RegExp(`/applications/${application.id}$`));
    const card = page.locator('#application-journal');
    await card.getByText('Кто согласует смету на ремонт колодца?').waitFor({ state: 'visible' });
    expect(await card.locator('[data-kind="consultation"]').count()).toBeGreaterThan(0);
    // The one refusal above is the 422 the browser reports as a failed resource; nothing else went wrong.
    expect(errors.filter((e) => !e.includes('status of 422'))).toEqual([]);
    expect(errors.filter((e) => e.includes('status of 422'))).toHaveLength(1);
  });
});
