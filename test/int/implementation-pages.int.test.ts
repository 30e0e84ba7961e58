import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedVersionOf, login, startApp, storedApplication, type Browser, type TestApp } from './http-helpers.ts';
import { multipart, samples } from './document-samples.ts';
import { translator } from '../../src/i18n/index.ts';
import { formatRoubles, parseRoubles } from '../../src/domain/money.ts';

/** An amount as typed, as the page writes it in words. */
const shown = (typed: string) => formatRoubles(parseRoubles(typed, 'ru')!, 'ru').replace(/[\u00a0\u202f]/g, ' ');

const ru = translator('ru');

/**
 * After the award through the pages (issue 11, point 8): one awarded application of last year's
 * programme from the agreement to closed, every form with the page's CSRF token and version, each
 * refusal on the way shown beside its field, with nothing written.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startApp({ documentRequirements: false });
});
afterAll(async () => {
  await t.close();
});

const PAST_PROGRAMME = 1;
const day = '2026-11-02';

/** The value of an input of the page by its id. */
function inputValue(html: string, id: string): string {
  const match = new RegExp(`id="${id}" name="[^"]+" value="([^"]*)"`).exec(html);
  expect(match, `the page has an input ${id}`).not.toBeNull();
  return match![1]!.replace(/&nbsp;|[\u00a0\u202f]/g, ' ');
}

/** The text of the page without tags, spaces made plain, for the words a person reads. */
const words = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&nbsp;|[\u00a0\u202f]/g, ' ').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&laquo;|&raquo;/g, '"').replace(/\s+/g, ' ');

async function send(browser: Browser, id: number, type: string, fields: Record<string, string> = {}) {
  const page = await browser.get(`/applications/${id}`);
  expect(page.statusCode).toBe(200);
  return browser.post(`/applications/${id}/events`, { type, expectedVersion: expectedVersionOf(page.body), ...fields });
}

/** An event the page refuses: a 422 with the words on it, and the stream exactly as it was. */
async function refused(browser: Browser, id: number, type: string, fields: Record<string, string>, ...texts: string[]) {
  const before = storedApplication(t.db, id);
  const response = await send(browser, id, type, fields);
  expect(response.statusCode, words(response.body).slice(0, 400)).toBe(422);
  const text = words(response.body);
  for (const expected of texts) expect(text).toContain(expected);
  expect(storedApplication(t.db, id).version).toBe(before.version);
  expect(storedApplication(t.db, id).snapshot).toBe(before.snapshot);
  return response.body;
}

async function done(browser: Browser, id: number, type: string, fields: Record<string, string> = {}) {
  const response = await send(browser, id, type, fields);
  expect(response.statusCode, words(response.body).slice(0, 600)).toBe(303);
}

async function upload(browser: Browser, id: number, kind: string, file: { name: string; bytes: Buffer }) {
  const page = await browser.get(`/applications/${id}`);
  const body = multipart({ _csrf: browser.csrf!, expectedVersion: expectedVersionOf(page.body), kind, caption: 'Подпись' }, file);
  const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  return t.app.inject({ method: 'POST', url: `/applications/${id}/evidence`, headers: { cookie, 'content-type': body.contentType }, payload: body.payload });
}

describe('after the award through the pages', () => {
  it('goes from the award to closed, each refusal beside its field and nothing written', async () => {
    const { id } = t.db.$client.prepare<[number], { id: number }>("SELECT id FROM applications WHERE programme_id = ? AND state = 'awarded' ORDER BY id LIMIT 1").get(PAST_PROGRAMME)!;
    const coordinator = await login(t.app, 'coordinator1');
    await done(coordinator, id, 'start-implementation');

    // The agreement's form starts with the award and the application's costs.
    const page = await coordinator.get(`/applications/${id}`);
    expect(page.body).toContain('id="sign-agreement-signedOn"');
    expect(page.body).toContain('type="date"');
    const amounts = Object.fromEntries(['subsidy', 'localBudget', 'residents', 'business'].map((k) => [k, inputValue(page.body, `sign-agreement-amounts-${k}`)]));
    // A date that is no date is refused beside its field, what was typed shown again.
    const bad = await refused(coordinator, id, 'sign-agreement', { agreementNo: 'С-77', signedOn: '31.02.2026', ...Object.fromEntries(Object.entries(amounts).map(([k, v]) => [`amounts.${k}`, v])) }, ru('problem.not-a-date'));
    expect(bad).toMatch(/id="sign-agreement-signedOn-error"/);
    await done(coordinator, id, 'sign-agreement', { agreementNo: 'С-77', signedOn: day, ...Object.fromEntries(Object.entries(amounts).map(([k, v]) => [`amounts.${k}`, v])) });

    // Confirming before the money came in names each source with both figures, in words.
    await refused(coordinator, id, 'confirm-contributions', {}, `${ru('source.residents')}: по соглашению ${shown(amounts.residents!)} ₽, поступило 0,00 ₽.`);

    // The stage 8 list says the same, and records a payment without opening the project.
    const stage = await coordinator.get(`/programmes/${PAST_PROGRAMME}/stages/8`);
    expect(stage.statusCode).toBe(200);
    expect(words(stage.body)).toContain(`${ru('source.residents')}: по соглашению ${shown(amounts.residents!)} ₽, поступило 0,00 ₽.`);
    const version = () => String(storedApplication(t.db, id).version);
    const wrong = await coordinator.post(`/programmes/${PAST_PROGRAMME}/stages/8/contributions`, { applicationId: String(id), expectedVersion: version(), source: 'residents', amountKopecks: 'много', receivedOn: day });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.body).toContain(`id="pay-${id}-amountKopecks-error"`);
    const paid = await coordinator.post(`/programmes/${PAST_PROGRAMME}/stages/8/contributions`, { applicationId: String(id), expectedVersion: version(), source: 'residents', amountKopecks: amounts.residents!, receivedOn: day, payer: 'Жители' });
    expect(paid.statusCode, words(paid.body).slice(0, 500)).toBe(303);
    expect(paid.headers.location).toBe(`/programmes/${PAST_PROGRAMME}/stages/8#stage-projects`);

    // The rest through the application page; the subsidy too (the coordinator's).
    for (const [source, key] of [['local-budget', 'localBudget'], ['business', 'business'], ['subsidy', 'subsidy']] as const) {
      if (amounts[key] === '0,00' || amounts[key] === '') continue;
      await done(coordinator, id, 'record-contribution', { source, amountKopecks: amounts[key]!, receivedOn: day, payer: 'Плательщик', reference: 'п/п № 1' });
    }
    const card = words((await coordinator.get(`/applications/${id}`)).body);
    expect(card).toContain('Жители');
    expect(card).toContain(ru('impl.fundsTitle'));
    await done(coordinator, id, 'confirm-contributions');

    // The price may not exceed the agreed total.
    const above = await refused(
      coordinator,
      id,
      'sign-contract',
      { contractNo: 'МК-1', signedOn: day, contractor: 'ООО «Подрядчик»', contractorInn: '1852601814', priceKopecks: '999 999 999,00' },
      'Цена контракта не может превышать общую сумму соглашения',
    );
    expect(above).toContain('id="sign-contract-priceKopecks-error"');
    expect(above).toContain('value="999 999 999,00"');
    await done(coordinator, id, 'sign-contract', { contractNo: 'МК-1', signedOn: day, contractor: 'ООО «Подрядчик»', contractorInn: '1852601814', priceKopecks: amounts.subsidy! });

    // Progress does not go backwards.
    await done(coordinator, id, 'report-progress', { percent: '60' });
    const back = await refused(coordinator, id, 'report-progress', { percent: '20' }, 'Готовность не может уменьшиться: уже сообщено 60 %.');
    expect(back).toContain('id="report-progress-percent-error"');

    // The works are not complete before the acceptance act.
    await refused(coordinator, id, 'complete-works', {}, ru('problem.acceptance-act-missing'));
    const photo = await upload(coordinator, id, 'photo', { name: 'ход работ.png', bytes: samples.png(3) });
    expect(photo.statusCode).toBe(303);
    const act = await upload(coordinator, id, 'acceptance-act', { name: 'акт.pdf', bytes: samples.pdf('Акт приёмки') });
    expect(act.statusCode).toBe(303);
    await done(coordinator, id, 'record-milestone', { kind: 'acceptance-signed', on: day });
    const withPhoto = (await coordinator.get(`/applications/${id}`)).body;
    expect(withPhoto).toMatch(/<ul class="gallery">[\s\S]*<img src="\/applications\/\d+\/documents\/[0-9a-f]{64}\/preview"/);
    expect(withPhoto).toContain('id="acceptance-act-link"');
    await done(coordinator, id, 'complete-works');

    // Closing needs the spending report and a monitoring visit, each named.
    await refused(coordinator, id, 'close', {}, ru('problem.spending-report-missing'), ru('problem.monitoring-visit-missing'));
    await done(coordinator, id, 'record-monitoring', { visitedOn: day, inspector: 'С. Иванов', verdict: 'ok', finding: 'Всё по плану.' });
    await done(coordinator, id, 'report-spending', Object.fromEntries(Object.entries(amounts).map(([k, v]) => [`actual.${k}`, v])));
    await done(coordinator, id, 'close');
    expect(storedApplication(t.db, id).state).toBe('closed');
    const closed = words((await coordinator.get(`/applications/${id}`)).body);
    expect(closed).toContain('С. Иванов');
    expect(closed).toContain(ru('verdict.ok'));
  });

  it('refuses an upload without the page token, writing nothing', async () => {
    const { id } = t.db.$client.prepare<[], { id: number }>("SELECT id FROM applications WHERE state = 'implementation.works' ORDER BY id LIMIT 1").get()!;
    const coordinator = await login(t.app, 'coordinator1');
    await coordinator.get(`/applications/${id}`);
    const before = storedApplication(t.db, id).version;
    const body = multipart({ _csrf: 'forged', kind: 'photo' }, { name: 'x.png', bytes: samples.png(1) });
    const cookie = [...coordinator.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await t.app.inject({ method: 'POST', url: `/applications/${id}/evidence`, headers: { cookie, 'content-type': body.contentType }, payload: body.payload });
    expect(response.statusCode).toBe(403);
    expect(storedApplication(t.db, id).version).toBe(before);
  });
});

describe('the implementation card and the stage lists of the demo, in Russian and English', () => {
  for (const lang of ['ru', 'en'] as const) {
    it(`render in ${lang}`, async () => {
      const tr = translator(lang);
      const coordinator = await login(t.app, 'coordinator1');
      if (lang === 'en') await coordinator.get('/lang/en?back=/applications');
      const states = ['implementation.co-financing', 'implementation.procurement', 'implementation.works', 'implementation.completed', 'closed'];
      for (const state of states) {
        const { id } = t.db.$client.prepare<[string, number], { id: number }>('SELECT id FROM applications WHERE state = ? AND programme_id = ? ORDER BY id LIMIT 1').get(state, PAST_PROGRAMME)!;
        const page = await coordinator.get(`/applications/${id}`);
        expect(page.statusCode).toBe(200);
        expect(page.body).toContain('id="implementation"');
        expect(page.body).toContain(`<title id="funds-chart-title">${tr('impl.fundsTitle')}</title>`);
        expect(page.body).toContain('id="funds-table"');
      }
      const works = t.db.$client.prepare<[number], { id: number }>("SELECT id FROM applications WHERE state = 'implementation.works' AND programme_id = ? ORDER BY id LIMIT 1").get(PAST_PROGRAMME)!;
      const worksPage = (await coordinator.get(`/applications/${works.id}`)).body;
      expect(worksPage).toContain('class="milestone-chart"');
      expect(worksPage).toContain('<ul class="gallery">');
      expect(worksPage).toContain('id="visits-table"');
      expect(worksPage).toContain('id="evidence-form"');
      for (const no of [8, 9, 10, 11]) {
        const stage = await coordinator.get(`/programmes/${PAST_PROGRAMME}/stages/${no}?sort=received&dir=desc`);
        expect(stage.statusCode).toBe(200);
        expect(stage.body).toContain('id="stage-projects"');
        expect(stage.body).toContain(tr('impl.col.missing'));
        expect(stage.body).toContain('aria-sort="descending"');
      }
      const legal = words((await coordinator.get(`/programmes/${PAST_PROGRAMME}/stages/8`)).body);
      expect(legal).toContain(tr('impl.recordPayment'));
      // Every string is through the catalogues: no key shows as itself.
      expect(legal).not.toMatch(/\bimpl\.[a-z]/);
      expect(words(worksPage)).not.toMatch(/\b(impl|source|verdict|milestone)\.[a-z]/);
    });
  }

  it('sorts a stage list by a column on the server', async () => {
    const coordinator = await login(t.app, 'coordinator1');
    const order = async (dir: string) => [...(await coordinator.get(`/programmes/${PAST_PROGRAMME}/stages/8?sort=received&dir=${dir}`)).body.matchAll(/<tr data-id="(\d+)"/g)].map((m) => Number(m[1]));
    const up = await order('asc');
    const down = await order('desc');
    expect(up.length).toBeGreaterThan(1);
    const received = (id: number) => t.db.$client.prepare<[number], { r: number }>('SELECT received_kopecks AS r FROM applications WHERE id = ?').get(id)!.r;
    expect(up.map(received)).toEqual([...up.map(received)].sort((a, b) => a - b));
    expect(down.map(received)).toEqual([...down.map(received)].sort((a, b) => b - a));
  });
});
