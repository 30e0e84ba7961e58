import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { Browser, eventCount, login, startApp, type TestApp } from './http-helpers.ts';
import { digest } from './security-helpers.ts';

/**
 * The admin's new-programme form (the page twin of POST /api/programmes): created through the
 * form with its CSRF token, the overview shows the twelve planned stages, money and shares are
 * stored exactly; every bad input is a 422 with its message beside its field and writes nothing;
 * other roles and a post without its token are refused and write nothing.
 */

let t: TestApp;
/** Signed in once each through the login form (which allows 20 logins a minute). */
const browsers = new Map<string, Browser>();
const others = ['coordinator1', 'reviewer1', 'applicant1', 'commission1', 'auditor1'];

beforeAll(async () => {
  t = await startApp();
  for (const who of ['admin1', ...others]) browsers.set(who, await login(t.app, who));
});

afterAll(async () => {
  await t.close();
});

const programmeCount = () => t.db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM programmes').get()!.n;

/** A form that creates a programme, as a Russian-speaking admin types it. */
function goodForm(): Record<string, string> {
  return {
    title: 'Народный бюджет — 2031',
    year: '2031',
    region: 'Удмуртская Республика',
    timeZone: 'Europe/Samara',
    fund: '60 000 000,50',
    cap: '1 500 000',
    minLocalShare: '5',
    minResidentsShare: '2,75',
    plannedStart: '2031-01-15',
    plannedEnd: '2031-02-28',
  };
}

/** The field's error paragraph, tied to its input by aria-describedby and marked aria-invalid. */
function fieldError(html: string, field: string): string | null {
  const id = `p-${field}`;
  const input = new RegExp(`<(input|select)[^>]*id="${id}"[^>]*>`).exec(html)?.[0] ?? '';
  const error = new RegExp(`<p class="error-text" id="${id}-error">([^<]*)</p>`).exec(html);
  if (!error) return null;
  expect(input, `${field}: the input points to its error`).toMatch(new RegExp(`aria-describedby="[^"]*${id}-error`));
  expect(input, `${field}: the input is marked invalid`).toContain('aria-invalid="true"');
  return error[1]!;
}

async function adminAtForm(): Promise<Browser> {
  const admin = browsers.get('admin1')!;
  const page = await admin.get('/programmes/new');
  expect(page.statusCode, page.body).toBe(200);
  return admin;
}

describe('the new-programme form', () => {
  it('is reached from the programme list by an admin only', async () => {
    const list = await browsers.get('admin1')!.get('/programmes');
    expect(list.body).toContain('href="/programmes/new"');
    for (const who of others) {
      const page = await browsers.get(who)!.get('/programmes');
      expect(page.statusCode).toBe(200);
      expect(page.body, who).not.toContain('href="/programmes/new"');
    }
  });

  it('offers Russia’s time zones with Moscow chosen, every field labelled', async () => {
    const page = await browsers.get('admin1')!.get('/programmes/new');
    expect(page.body).toMatch(/<option value="Europe\/Moscow" selected>/);
    expect(page.body).toContain('<option value="Asia/Vladivostok"');
    expect(page.body).toContain('name="_csrf"');
    for (const field of ['title', 'year', 'region', 'timeZone', 'fund', 'cap', 'minLocalShare', 'minResidentsShare', 'plannedStart', 'plannedEnd']) {
      expect(page.body, field).toContain(`<label for="p-${field}">`);
      expect(page.body, field).toMatch(new RegExp(`id="p-${field}"[^>]*name="${field}"`));
    }
  });

  it('creates the programme and redirects to its overview with twelve planned stages; money and shares stored exactly', async () => {
    const admin = await adminAtForm();
    const events = eventCount(t.db);
    const programmes = programmeCount();
    const response = await admin.post('/programmes', goodForm());
    expect(response.statusCode, response.body).toBe(303);
    const location = String(response.headers.location);
    const id = Number(/^\/programmes\/(\d+)\?done=created$/.exec(location)?.[1]);
    expect(id).toBeGreaterThan(0);

    const stored = t.db.$client.prepare('SELECT * FROM programmes WHERE id = ?').get(id) as Record<string, unknown>;
    expect(stored).toMatchObject({
      title: 'Народный бюджет — 2031',
      year: 2031,
      region: 'Удмуртская Республика',
      time_zone: 'Europe/Samara',
      fund_kopecks: 6_000_000_050,
      cap_kopecks: 150_000_000,
      min_local_share_bp: 500,
      min_residents_share_bp: 275,
    });
    expect(programmeCount()).toBe(programmes + 1);
    expect(eventCount(t.db)).toBe(events + 12);
    const stages = t.db.$client.prepare<[number], { no: number; state: string; planned_start: string | null; planned_end: string | null }>('SELECT no, state, planned_start, planned_end FROM stages WHERE programme_id = ? ORDER BY no').all(id);
    expect(stages.map((s) => s.no)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(stages.every((s) => s.state === 'planned')).toBe(true);
    expect(stages[0]).toMatchObject({ planned_start: '2031-01-15', planned_end: '2031-02-28' });
    expect(stages.slice(1).every((s) => s.planned_start === null && s.planned_end === null)).toBe(true);

    const overview = await admin.get(location);
    expect(overview.statusCode).toBe(200);
    expect(overview.body).toContain('Народный бюджет — 2031');
    expect(overview.body).toContain('notice--success');
    const rows = overview.body.match(/<tr[^>]*>\s*<td class="num">\d+<\/td>/g) ?? [];
    expect(rows).toHaveLength(12);
    expect(overview.body.match(/<span class="badge badge--neutral">Запланирован<\/span>/g)).toHaveLength(12);

    // The programme is in the list and in the API like one made through the API.
    expect((await admin.get('/programmes')).body).toContain(`href="/programmes/${id}"`);
  });

  it('reads English money as English speakers type it', async () => {
    // A second admin session, so that the others stay in Russian.
    const admin = await login(t.app, 'admin1');
    await admin.get('/lang/en?back=/programmes/new');
    await admin.get('/programmes/new');
    const response = await admin.post('/programmes', { ...goodForm(), title: 'English', fund: '60,000,000.50', cap: '1,500,000.00', minResidentsShare: '2.75', plannedStart: '', plannedEnd: '' });
    expect(response.statusCode, response.body).toBe(303);
    const id = Number(/\/programmes\/(\d+)/.exec(String(response.headers.location))![1]);
    expect(t.db.$client.prepare('SELECT fund_kopecks, cap_kopecks, min_residents_share_bp FROM programmes WHERE id = ?').get(id)).toEqual({ fund_kopecks: 6_000_000_050, cap_kopecks: 150_000_000, min_residents_share_bp: 275 });
  });

  const badInputs: [string, Record<string, string>, string, RegExp][] = [
    ['an empty title', { title: '   ' }, 'title', /Заполните поле/],
    ['the year 1800', { year: '1800' }, 'year', /от 2000 до 2100/],
    ['a year that is not one', { year: '20x1' }, 'year', /от 2000 до 2100/],
    ['a fund of "abc"', { fund: 'abc' }, 'fund', /сумму в рублях/],
    ['a fund of zero', { fund: '0' }, 'fund', /больше нуля/],
    ['a cap above the fund', { fund: '1 000 000', cap: '1 000 000,01' }, 'cap', /не может быть больше фонда/],
    ['a share of 150 %', { minLocalShare: '150' }, 'minLocalShare', /от 0 до 100/],
    ['a share with three decimals', { minResidentsShare: '1,255' }, 'minResidentsShare', /от 0 до 100/],
    ['an unknown time zone', { timeZone: 'Mars/Olympus' }, 'timeZone', /из списка/],
    ['a real zone the form does not offer', { timeZone: 'America/New_York' }, 'timeZone', /из списка/],
    ['a start without an end', { plannedEnd: '' }, 'plannedEnd', /и начало, и окончание/],
    ['an end before the start', { plannedStart: '2031-03-01', plannedEnd: '2031-02-01' }, 'plannedEnd', /раньше начала/],
    ['a date that is not one', { plannedStart: '2031-13-01' }, 'plannedStart', /дату начала/],
    ['an end that is not a date', { plannedEnd: '31.12.2031' }, 'plannedEnd', /дату окончания/],
    ['a title too long', { title: 'я'.repeat(301) }, 'title', /300 знаков/],
    ['a control character in the title', { title: 'Народный\u0007 бюджет' }, 'title', /управляющие или недопустимые символы/],
    ['a noncharacter in the title', { title: 'Народный бюджет\uFFFE' }, 'title', /управляющие или недопустимые символы/],
  ];

  it.each(badInputs)('refuses %s with 422, the message beside the field and the input kept, writing nothing', async (_what, change, field, message) => {
    const admin = await adminAtForm();
    const before = digest(t.db);
    const events = eventCount(t.db);
    const programmes = programmeCount();
    const form = { ...goodForm(), ...change };
    const response = await admin.post('/programmes', form);
    expect(response.statusCode, response.body.slice(0, 300)).toBe(422);
    expect(fieldError(response.body, field)).toMatch(message);
    // The other fields are not blamed.
    for (const other of Object.keys(goodForm()).filter((f) => f !== field)) expect(fieldError(response.body, other), other).toBeNull();
    expect(response.body).toContain('role="alert"');
    // What was typed comes back (a select shows it chosen only if it is offered).
    if (field !== 'timeZone' && form[field] !== '' && form[field]!.length < 100) expect(response.body).toContain(`value="${form[field]!.trim()}"`);
    expect(response.body).toContain('value="Удмуртская Республика"');
    expect(eventCount(t.db)).toBe(events);
    expect(programmeCount()).toBe(programmes);
    expect(digest(t.db)).toEqual(before);
  });

  it('names every problem at once on an empty form, and a token still in it lets the next try through', async () => {
    const admin = await adminAtForm();
    const before = digest(t.db);
    const response = await admin.post('/programmes', {});
    expect(response.statusCode).toBe(422);
    for (const field of ['title', 'year', 'region', 'timeZone', 'fund', 'cap', 'minLocalShare', 'minResidentsShare']) expect(fieldError(response.body, field), field).not.toBeNull();
    expect(fieldError(response.body, 'plannedStart')).toBeNull();
    // A cap above the fund is told together with the other problems, not after them.
    const both = await admin.post('/programmes', { ...goodForm(), title: '', fund: '100', cap: '200' });
    expect(fieldError(both.body, 'title')).toMatch(/Заполните поле/);
    expect(fieldError(both.body, 'cap')).toMatch(/больше фонда/);
    expect(digest(t.db)).toEqual(before);
    // The refused form carries a fresh token: correcting it and sending again works.
    expect((await admin.post('/programmes', goodForm())).statusCode).toBe(303);
  });

  it('never answers a hostile or mistyped body with a 500, and writes nothing', async () => {
    const admin = await adminAtForm();
    const before = digest(t.db);
    const forms: Record<string, string | string[]>[] = [
      { title: ['a', 'b'], year: ['2031', '1800'], fund: '1e309', cap: 'NaN', minLocalShare: '-1', minResidentsShare: '%', timeZone: '__proto__' },
      { __proto__: 'x', constructor: 'y', title: '<script>alert(1)</script>', year: '99999', fund: '99999999999999999999', cap: '1', minLocalShare: '100,001', minResidentsShare: '0', timeZone: 'Europe/Moscow', region: 'r' },
      { ...goodForm(), plannedStart: '\u0000', plannedEnd: '2031-02-30x' },
      { ...goodForm(), fund: '100 000 000 001', cap: '1' },
    ];
    for (const form of forms) {
      const response = await admin.post('/programmes', form);
      expect(response.statusCode, JSON.stringify(form)).toBe(422);
      expect(response.body).not.toContain('<script>alert(1)');
    }
    const json = await t.app.inject({ method: 'POST', url: '/programmes', headers: { cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/json', 'x-csrf-token': admin.csrf! }, payload: '["x"]' });
    expect(json.statusCode).toBe(422);
    expect(digest(t.db)).toEqual(before);
  });
});

describe('refusals', () => {
  it.each(others)('%s may neither open the form nor post it (403), and nothing is written', async (who) => {
    const browser = browsers.get(who)!;
    const page = await browser.get('/programmes/new');
    expect(page.statusCode).toBe(403);
    await browser.get('/programmes');
    const before = digest(t.db);
    const response = await browser.post('/programmes', goodForm());
    expect(response.statusCode).toBe(403);
    expect(digest(t.db)).toEqual(before);
  });

  it('sends a visitor to the login page, writing nothing', async () => {
    const visitor = new Browser(t.app);
    const page = await visitor.get('/programmes/new');
    expect(page.statusCode).toBe(303);
    expect(String(page.headers.location)).toMatch(/^\/login\?next=/);
    await visitor.get('/login');
    const before = digest(t.db);
    const response = await visitor.post('/programmes', goodForm());
    expect(response.statusCode).toBe(303);
    expect(String(response.headers.location)).toMatch(/^\/login\?next=/);
    expect(digest(t.db)).toEqual(before);
  });

  it('refuses an admin’s post without its CSRF token, or with a forged one, writing nothing', async () => {
    const admin = await adminAtForm();
    const before = digest(t.db);
    const attempts: LightMyRequestResponse[] = [
      await admin.post('/programmes', goodForm(), { csrf: false }),
      await admin.post('/programmes', { ...goodForm(), _csrf: 'forged-token' }),
    ];
    for (const response of attempts) expect(response.statusCode).toBe(403);
    expect(digest(t.db)).toEqual(before);
  });
});
