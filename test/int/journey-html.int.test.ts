import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CURRENT_PROGRAMME,
  api,
  completeHtmlForm,
  eventCount,
  expectedVersionOf,
  login,
  startApp,
  storedApplication,
  token,
  type Browser,
  type TestApp,
} from './http-helpers.ts';
import { translator } from '../../src/i18n/index.ts';

const ru = translator('ru');

/**
 * The whole life of an application through the HTML forms, as a person without JavaScript goes
 * through it: every POST carries the page's CSRF token and the version the page was rendered at.
 */

let t: TestApp;
let auditor: string;

beforeAll(async () => {
  t = await startApp({ documentRequirements: false });
  auditor = await token(t.app, 'auditor1');
});

afterAll(async () => {
  await t.close();
});

/** The state as the JSON API reports it to a read-only user. */
async function stateOf(id: number): Promise<{ state: string; version: number; data: Record<string, any>; remarks: { field: string; text: string }[] }> {
  const response = await api(t.app, auditor, 'GET', `/api/applications/${id}`);
  expect(response.status).toBe(200);
  return response.body;
}

/** The markup of one form field, from its label to the start of the next field. */
function fieldBlock(html: string, field: string): string {
  const id = `f-${field.replace('.', '-')}`;
  const start = html.indexOf(`<label for="${id}"`);
  expect(start, `the page has a field ${field}`).toBeGreaterThan(-1);
  const rest = html.slice(start);
  const next = rest.search(/<div class="field[" ]/);
  return next === -1 ? rest : rest.slice(0, next);
}

/** The row of the costs table on the application page for one money field, found by its label. */
function costRow(html: string, field: string): string {
  const label = `<th scope="row">${ru(`field.${field}`)}</th>`;
  const start = html.indexOf(label);
  expect(start, `the costs table has a row for ${field}`).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf('</tr>', start));
}

/** The `<dd>` next to a field on the application page. */
function ddAfter(html: string, field: string): string {
  const start = html.indexOf(`id="dt-${field}"`);
  expect(start, `the page shows ${field}`).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf('</dd>', start));
}

/** The id of the application a redirect after creation points to. */
function createdId(location: unknown): number {
  const match = /^\/applications\/(\d+)$/.exec(String(location));
  expect(match, `redirect to the new application, got ${String(location)}`).not.toBeNull();
  return Number(match![1]);
}

async function createDraft(browser: Browser, form: Record<string, string>): Promise<number> {
  const page = await browser.get('/applications/new');
  expect(page.statusCode).toBe(200);
  const response = await browser.post('/applications', { ...form, programmeId: String(CURRENT_PROGRAMME) });
  expect(response.statusCode, response.body).toBe(303);
  return createdId(response.headers.location);
}

/** Opens the application page and sends one event from it, as clicking its button does. */
async function sendFromPage(browser: Browser, id: number, type: string, fields: Record<string, string> = {}) {
  const page = await browser.get(`/applications/${id}`);
  expect(page.statusCode).toBe(200);
  expect(page.body, `the page offers ${type}`).toContain(`name="type" value="${type}"`);
  return browser.post(`/applications/${id}/events`, { type, expectedVersion: expectedVersionOf(page.body), ...fields });
}

describe('the application journey through the HTML forms', () => {
  let applicant: Browser;
  let reviewer: Browser;
  let id: number;

  beforeAll(async () => {
    applicant = await login(t.app, 'applicant1');
    reviewer = await login(t.app, 'reviewer1');
  });

  it('shows the new application form to the applicant', async () => {
    const page = await applicant.get('/applications/new');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<html');
    for (const name of ['title', 'projectType', 'settlement', 'population', 'costs.subsidy', 'costs.residents', 'programmeId', '_csrf']) {
      expect(page.body).toContain(`name="${name}"`);
    }
  });

  it('creates a draft from the form and shows it', async () => {
    const form = completeHtmlForm();
    id = await createDraft(applicant, form);
    const stored = await stateOf(id);
    expect(stored.state).toBe('draft');
    expect(stored.version).toBe(1);
    expect(stored.data.title).toBe(form.title);
    expect(stored.data.population).toBe(1200);
    expect(stored.data.costs).toEqual({ subsidy: 90_000_000, localBudget: 10_000_000, residents: 5_000_000, business: 2_000_000 });

    const page = await applicant.get(`/applications/${id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('badge--neutral');
    expect(page.body).toContain('Черновик');
    expect(page.body).toContain(form.title);
  });

  it('refuses an invalid value with 422, shows the error beside its field and changes nothing', async () => {
    const before = storedApplication(t.db, id);
    const eventsBefore = eventCount(t.db);
    const edit = await applicant.get(`/applications/${id}/edit`);
    expect(edit.statusCode).toBe(200);
    expect(expectedVersionOf(edit.body)).toBe('1');

    const response = await applicant.post(`/applications/${id}/edit`, {
      ...completeHtmlForm(),
      population: 'abc',
      title: 'Другое название',
      expectedVersion: '1',
      intent: 'save',
    });
    expect(response.statusCode).toBe(422);
    const block = fieldBlock(response.body, 'population');
    expect(block).toContain('aria-invalid="true"');
    expect(block).toContain('id="f-population-error"');
    expect(block).toContain('Введите целое число цифрами, например 250.');
    expect(block).toContain('value="abc"');
    // Only the broken field is marked, and every field shows what was typed, not the stored value.
    expect(fieldBlock(response.body, 'title')).not.toContain('error-text');
    expect(fieldBlock(response.body, 'title')).toContain('value="Другое название"');
    expect(expectedVersionOf(response.body)).toBe('1');

    expect(eventCount(t.db)).toBe(eventsBefore);
    expect(storedApplication(t.db, id)).toEqual(before);
    expect((await stateOf(id)).data.title).toBe(completeHtmlForm().title);
  });

  it('refuses an invalid new application with 422 beside its field and creates nothing', async () => {
    const eventsBefore = eventCount(t.db);
    await applicant.get('/applications/new');
    const response = await applicant.post('/applications', {
      ...completeHtmlForm(),
      'costs.subsidy': 'девятьсот тысяч',
      programmeId: String(CURRENT_PROGRAMME),
    });
    expect(response.statusCode).toBe(422);
    const block = fieldBlock(response.body, 'costs.subsidy');
    expect(block).toContain('id="f-costs-subsidy-error"');
    expect(block).toContain('Введите сумму в рублях');
    expect(block).toContain('value="девятьсот тысяч"');
    expect(fieldBlock(response.body, 'costs.residents')).toContain('value="50000,00"');
    expect(eventCount(t.db)).toBe(eventsBefore);
  });

  it('saves an edit as one update event with the changed fields only', async () => {
    const edit = await applicant.get(`/applications/${id}/edit`);
    const response = await applicant.post(`/applications/${id}/edit`, {
      ...completeHtmlForm(),
      beneficiaries: '850',
      expectedVersion: expectedVersionOf(edit.body),
      intent: 'save',
    });
    expect(response.statusCode, response.body).toBe(303);
    expect(response.headers.location).toBe(`/applications/${id}`);
    const stored = await stateOf(id);
    expect(stored.version).toBe(2);
    expect(stored.data.beneficiaries).toBe(850);
    const history = await api(t.app, auditor, 'GET', `/api/applications/${id}/history`);
    expect(history.body.at(-1)).toMatchObject({ type: 'update', payload: { beneficiaries: 850 } });
  });

  it('submits from the edit page (intent=submit)', async () => {
    const edit = await applicant.get(`/applications/${id}/edit`);
    const response = await applicant.post(`/applications/${id}/edit`, {
      ...completeHtmlForm(),
      beneficiaries: '850',
      expectedVersion: expectedVersionOf(edit.body),
      intent: 'submit',
    });
    expect(response.statusCode, response.body).toBe(303);
    const stored = await stateOf(id);
    expect(stored.state).toBe('submitted');
    expect(stored.version).toBe(3);
    const page = await applicant.get(`/applications/${id}`);
    expect(page.body).toContain('Подана');
    expect(page.body).not.toContain(`href="/applications/${id}/edit"`);
  });

  it('lets the reviewer start the review and return it with a general and a per-field remark', async () => {
    const start = await sendFromPage(reviewer, id, 'start-review');
    expect(start.statusCode, start.body).toBe(303);
    expect((await stateOf(id)).state).toBe('under-review');

    const page = await reviewer.get(`/applications/${id}`);
    expect(page.body).toContain('name="remark.costs.residents"');
    expect(page.body).toContain('name="remark.general"');
    const returned = await reviewer.post(`/applications/${id}/events`, {
      type: 'return-for-revision',
      expectedVersion: expectedVersionOf(page.body),
      'remark.general': 'Приложите протокол итогового собрания.',
      'remark.costs.residents': 'Вклад жителей не подтверждён ведомостью.',
    });
    expect(returned.statusCode, returned.body).toBe(303);
    const stored = await stateOf(id);
    expect(stored.state).toBe('returned');
    expect(stored.remarks).toEqual([
      { field: 'general', text: 'Приложите протокол итогового собрания.' },
      { field: 'costs.residents', text: 'Вклад жителей не подтверждён ведомостью.' },
    ]);
  });

  it('shows the applicant the remarks beside the fields on the application page', async () => {
    const page = await applicant.get(`/applications/${id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('На доработке');
    expect(page.body).toContain('Приложите протокол итогового собрания.');
    const row = costRow(page.body, 'costs.residents');
    expect(row).toContain('field-remark');
    expect(row).toContain('Вклад жителей не подтверждён ведомостью.');
    // Other fields carry no remark.
    expect(ddAfter(page.body, 'title')).not.toContain('field-remark');
  });

  it('shows the remarks on the edit page, the field remark inside its field', async () => {
    const edit = await applicant.get(`/applications/${id}/edit`);
    expect(edit.statusCode).toBe(200);
    expect(edit.body).toContain('Приложите протокол итогового собрания.');
    const block = fieldBlock(edit.body, 'costs.residents');
    expect(block).toContain('id="f-costs-residents-remark"');
    expect(block).toContain('Вклад жителей не подтверждён ведомостью.');
    expect(block).toContain('aria-describedby="f-costs-residents-hint f-costs-residents-remark"');
    expect(fieldBlock(edit.body, 'costs.subsidy')).not.toContain('field-remark');
  });

  it('takes the revision and the resubmission', async () => {
    const edit = await applicant.get(`/applications/${id}/edit`);
    const response = await applicant.post(`/applications/${id}/edit`, {
      ...completeHtmlForm(),
      beneficiaries: '850',
      'costs.residents': '60 000,00',
      expectedVersion: expectedVersionOf(edit.body),
      intent: 'submit',
    });
    expect(response.statusCode, response.body).toBe(303);
    const stored = await stateOf(id);
    expect(stored.state).toBe('submitted');
    expect(stored.data.costs.residents).toBe(6_000_000);
    expect(stored.remarks).toEqual([]);
  });

  it('lets the reviewer start the review again and accept', async () => {
    expect((await sendFromPage(reviewer, id, 'start-review')).statusCode).toBe(303);
    const accepted = await sendFromPage(reviewer, id, 'accept', { comment: 'Документы в порядке.' });
    expect(accepted.statusCode, accepted.body).toBe(303);
    const stored = await stateOf(id);
    expect(stored.state).toBe('accepted');
    const page = await applicant.get(`/applications/${id}`);
    expect(page.body).toContain('Допущена');
    expect(page.body).toContain('badge--success');

    const history = await api(t.app, auditor, 'GET', `/api/applications/${id}/history`);
    expect(history.body.map((e: { type: string }) => e.type)).toEqual([
      'create',
      'update',
      'submit',
      'start-review',
      'return-for-revision',
      'update',
      'submit',
      'start-review',
      'accept',
    ]);
    const verify = await api(t.app, auditor, 'GET', '/api/audit/verify');
    expect(verify.body.ok).toBe(true);
  });
});

describe('pages for htmx and for plain browsers', () => {
  let applicant: Browser;
  let id: number;

  beforeAll(async () => {
    applicant = await login(t.app, 'applicant1');
    id = await createDraft(applicant, { title: 'Освещение улицы Лесной', projectType: 'street-lighting' });
  });

  it('answers an htmx request with a fragment and a plain one with the whole document', async () => {
    const fragment = await applicant.get(`/applications/${id}`, { 'hx-request': 'true' });
    expect(fragment.statusCode).toBe(200);
    expect(fragment.body).not.toContain('<html');
    expect(fragment.body).not.toContain('<!doctype');
    expect(fragment.body).toContain('id="application"');
    expect(String(fragment.headers.vary).toLowerCase()).toContain('hx-request');

    const full = await applicant.get(`/applications/${id}`);
    expect(full.statusCode).toBe(200);
    expect(full.body).toMatch(/^<!doctype html>/i);
    expect(full.body).toContain('<html');
    expect(full.body).toContain('id="application"');
    expect(String(full.headers.vary).toLowerCase()).toContain('hx-request');
  });

  it('answers an htmx event with the fresh fragment instead of a redirect', async () => {
    const other = await createDraft(applicant, { title: 'Детская площадка', projectType: 'playground' });
    const page = await applicant.get(`/applications/${other}`);
    const response = await applicant.post(
      `/applications/${other}/events`,
      { type: 'withdraw', expectedVersion: expectedVersionOf(page.body), reason: 'Решили перенести на следующий год.' },
      { headers: { 'hx-request': 'true' } },
    );
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('<html');
    expect(response.body).toContain('Отозвана');
    expect((await stateOf(other)).state).toBe('withdrawn');
  });

  it('refuses a stale click with 409 and shows the current state and the stale notice', async () => {
    const page = await applicant.get(`/applications/${id}`);
    const oldVersion = expectedVersionOf(page.body);
    // Meanwhile the draft changes in another tab.
    const edit = await applicant.get(`/applications/${id}/edit`);
    const saved = await applicant.post(`/applications/${id}/edit`, {
      title: 'Освещение улиц Лесной и Садовой',
      projectType: 'street-lighting',
      expectedVersion: expectedVersionOf(edit.body),
      intent: 'save',
    });
    expect(saved.statusCode).toBe(303);
    const before = storedApplication(t.db, id);
    const eventsBefore = eventCount(t.db);

    await applicant.get(`/applications/${id}`); // a fresh CSRF token; the version stays the old one
    const stale = await applicant.post(`/applications/${id}/events`, {
      type: 'withdraw',
      expectedVersion: oldVersion,
      reason: 'Передумали.',
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('stale-notice');
    expect(stale.body).toContain('Заявку уже изменил другой пользователь');
    expect(stale.body).toContain('Освещение улиц Лесной и Садовой');
    expect(stale.body).toContain('Черновик');
    expect(expectedVersionOf(stale.body)).toBe(String(before.version));
    expect(eventCount(t.db)).toBe(eventsBefore);
    expect(storedApplication(t.db, id)).toEqual(before);
  });

  it('refuses a stale edit with 409 and shows the current form', async () => {
    const before = storedApplication(t.db, id);
    const eventsBefore = eventCount(t.db);
    await applicant.get(`/applications/${id}/edit`);
    const stale = await applicant.post(`/applications/${id}/edit`, {
      title: 'Устаревшая правка',
      projectType: 'street-lighting',
      expectedVersion: '1',
      intent: 'save',
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('stale-notice');
    expect(stale.body).toContain('Освещение улиц Лесной и Садовой');
    expect(expectedVersionOf(stale.body)).toBe(String(before.version));
    expect(eventCount(t.db)).toBe(eventsBefore);
    expect(storedApplication(t.db, id)).toEqual(before);
  });

  it('refuses a POST without _csrf (403) and changes nothing', async () => {
    const before = storedApplication(t.db, id);
    const eventsBefore = eventCount(t.db);
    const withoutToken = await applicant.post(
      `/applications/${id}/events`,
      { type: 'withdraw', expectedVersion: String(before.version), reason: 'Без токена.' },
      { csrf: false },
    );
    expect(withoutToken.statusCode).toBe(403);
    const forged = await applicant.post(`/applications/${id}/events`, {
      _csrf: 'forged-token',
      type: 'withdraw',
      expectedVersion: String(before.version),
      reason: 'Чужой токен.',
    });
    expect(forged.statusCode).toBe(403);
    const create = await applicant.post('/applications', { title: 'Без токена', programmeId: '2' }, { csrf: false });
    expect(create.statusCode).toBe(403);
    const edit = await applicant.post(`/applications/${id}/edit`, { title: 'Без токена', expectedVersion: String(before.version) }, { csrf: false });
    expect(edit.statusCode).toBe(403);
    expect(eventCount(t.db)).toBe(eventsBefore);
    expect(storedApplication(t.db, id)).toEqual(before);
  });

  it('shows each problem of an incomplete draft beside its field when it is submitted (422)', async () => {
    const before = storedApplication(t.db, id);
    const eventsBefore = eventCount(t.db);
    const response = await sendFromPage(applicant, id, 'submit');
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('Заявку нельзя подать');
    for (const field of ['settlement', 'population', 'beneficiaries', 'meetingAttendance', 'problem', 'description', 'durationMonths', 'costs.subsidy', 'costs.localBudget', 'costs.residents', 'costs.business']) {
      const block = fieldBlock(response.body, field);
      expect(block, field).toContain('aria-invalid="true"');
      expect(block, field).toContain(`id="f-${field.replace('.', '-')}-error"`);
      expect(block, field).toContain('Заполните поле.');
    }
    // Filled fields are not marked.
    expect(fieldBlock(response.body, 'title')).not.toContain('error-text');
    expect(fieldBlock(response.body, 'projectType')).not.toContain('error-text');
    expect(eventCount(t.db)).toBe(eventsBefore);
    expect(storedApplication(t.db, id)).toEqual(before);
  });

  it('shows a broken programme rule beside its field when submitting from the edit page (422)', async () => {
    const edit = await applicant.get(`/applications/${id}/edit`);
    const response = await applicant.post(`/applications/${id}/edit`, {
      ...completeHtmlForm(),
      'costs.subsidy': '2 000 000,00',
      expectedVersion: expectedVersionOf(edit.body),
      intent: 'submit',
    });
    expect(response.statusCode).toBe(422);
    const block = fieldBlock(response.body, 'costs.subsidy');
    expect(block).toContain('aria-invalid="true"');
    expect(block).toContain('Субсидия больше предельной суммы');
    // The update was saved before the submit was refused: the form carries the saved version.
    const stored = await stateOf(id);
    expect(stored.state).toBe('draft');
    expect(stored.data.costs.subsidy).toBe(200_000_000);
    expect(expectedVersionOf(response.body)).toBe(String(stored.version));
  });

  it('shows markup typed into a field as text, never as markup', async () => {
    const other = await createDraft(applicant, { title: '<script>alert(1)</script>', settlement: '"><img src=x onerror=alert(1)>' });
    const page = await applicant.get(`/applications/${other}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('<script>alert(1)</script>');
    expect(page.body).not.toContain('<img src=x');
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const edit = await applicant.get(`/applications/${other}/edit`);
    expect(edit.body).not.toContain('<img src=x');
    const list = await applicant.get('/applications');
    expect(list.body).not.toContain('<script>alert(1)</script>');
  });

  it('sends a visitor without a session to the login page', async () => {
    const response = await t.app.inject({ method: 'GET', url: `/applications/${id}` });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`/login?next=${encodeURIComponent(`/applications/${id}`)}`);
  });
});
