import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../src/accounts/user-admin.ts';
import { openDb } from '../../src/db/client.ts';
import { demoMunicipalities } from '../../src/demo/data.ts';
import { municipalityKinds, municipalityNameKey } from '../../src/domain/municipality.ts';
import { buildApp } from '../../src/http/app.ts';
import { en } from '../../src/i18n/en.ts';
import { ru } from '../../src/i18n/ru.ts';
import { Browser, api, login, startApp, type TestApp } from './http-helpers.ts';
import { browserFor, digest, type Who } from './security-helpers.ts';

/**
 * Municipalities kept by admins (a real installation has no demo ones): the list with its add
 * form, each municipality's edit form, refusals beside their fields that write nothing, the
 * authorisation table and CSRF, and `npm run municipalities` from the shell.
 */

const PASSWORD = 'tractor battery staple';
let t: TestApp;
let admin: Browser;

beforeAll(async () => {
  t = await startApp();
  admin = await login(t.app, 'admin1');
});

afterAll(async () => {
  await t.close();
});

interface Stored {
  id: number;
  name: string;
  kind: string;
  population: number;
}

const stored = (id: number) => t.db.$client.prepare<[number], Stored>('SELECT id, name, kind, population FROM municipalities WHERE id = ?').get(id);
const storedNamed = (name: string) => t.db.$client.prepare<[string], Stored>('SELECT id, name, kind, population FROM municipalities WHERE name = ?').get(name);
const idOf = (name: string) => storedNamed(name)!.id;

/** The error text the page shows under a field, or null when the field is fine. */
function fieldError(html: string, field: 'name' | 'kind' | 'population'): string | null {
  const match = new RegExp(`<p class="error-text" id="m-${field}-error">([^<]*)</p>`).exec(html);
  return match ? match[1]! : null;
}

describe('the demo data', () => {
  it('has unique names however they are capitalised, and only the kinds the form offers', () => {
    const keys = demoMunicipalities.map((m) => municipalityNameKey(m.name));
    expect(new Set(keys).size).toBe(keys.length);
    for (const m of demoMunicipalities) expect(municipalityKinds).toContain(m.kind);
  });
});

describe('the municipalities page', () => {
  it('lists every municipality with its kind, population, users and applications, and the form to add one', async () => {
    const page = await admin.get('/admin/municipalities');
    expect(page.statusCode).toBe(200);
    const izhevsk = idOf('город Ижевск');
    expect(page.body).toContain(`<a href="/admin/municipalities/${izhevsk}">город Ижевск</a>`);
    expect(page.body).toContain(ru['admin.municipalityKind.city-okrug']);
    expect(page.body).toContain(ru['admin.municipalityKind.municipal-okrug']);
    // 624000 in Russian digits groups: a no-break space between thousands.
    expect(page.body).toMatch(/<td class="num">624\s000<\/td>/u);
    const rows = [...page.body.matchAll(/<tr id="m-\d+"/g)];
    expect(rows.length).toBe(demoMunicipalities.length);
    // applicant1's municipality: one user and its applications, linked to the filtered list.
    const applicantMunicipality = t.db.$client.prepare<[], { m: number; n: number }>("SELECT u.municipality_id AS m, (SELECT count(*) FROM applications a WHERE a.municipality_id = u.municipality_id) AS n FROM users u WHERE login = 'applicant1'").get()!;
    expect(applicantMunicipality.n).toBeGreaterThan(0);
    expect(page.body).toContain(`<a href="/applications?municipalityId=${applicantMunicipality.m}">${applicantMunicipality.n}</a>`);
    expect(page.body).toContain('action="/admin/municipalities"');
    for (const kind of municipalityKinds) expect(page.body).toContain(`<option value="${kind}">`);
  });

  it('is in the admin’s navigation, and in English too', async () => {
    const page = await admin.get('/admin/users');
    expect(page.body).toContain(`<a href="/admin/municipalities">${ru['admin.nav.municipalities']}</a>`);
    const english = await admin.get('/admin/municipalities?lang=en');
    expect(english.body).toContain(en['admin.municipalities.title']);
    expect(english.body).toMatch(/<td class="num">624,000<\/td>/);
  });

  it('answers htmx with the fragment only', async () => {
    const fragment = await admin.get('/admin/municipalities', { 'hx-request': 'true' });
    expect(fragment.statusCode).toBe(200);
    expect(fragment.body).not.toContain('<html');
    expect(fragment.headers.vary).toContain('HX-Request');
  });
});

describe('adding and changing a municipality', () => {
  it('adds one, its name tidied and its population read as typed, and announces it', async () => {
    await admin.get('/admin/municipalities');
    const response = await admin.post('/admin/municipalities', { name: '  Новое   сельское поселение ', kind: 'settlement', population: '1 500' });
    expect(response.statusCode, response.body).toBe(303);
    const created = storedNamed('Новое сельское поселение')!;
    expect(created).toMatchObject({ kind: 'settlement', population: 1500 });
    expect(response.headers.location).toBe(`/admin/municipalities?done=created&id=${created.id}#m-${created.id}`);
    const page = await admin.get(`/admin/municipalities?done=created&id=${created.id}`);
    expect(page.body).toContain(ru['admin.municipalities.done.created'].replace('{name}', 'Новое сельское поселение'));
    expect(page.body).toContain(`<tr id="m-${created.id}" class="is-highlighted">`);
  });

  it('changes its name, kind and population on its own page; its users and applications stay with it', async () => {
    const id = idOf('город Сарапул');
    const users = t.db.$client.prepare<[number], { n: number }>('SELECT count(*) AS n FROM users WHERE municipality_id = ?').get(id)!.n;
    const page = await admin.get(`/admin/municipalities/${id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('value="город Сарапул"');
    expect(page.body).toContain('<option value="city-okrug" selected>');
    expect(page.body).toContain('value="95000"');
    const response = await admin.post(`/admin/municipalities/${id}`, { name: 'Город Сарапул', kind: 'municipal-okrug', population: '96000' });
    expect(response.statusCode, response.body).toBe(303);
    expect(response.headers.location).toBe(`/admin/municipalities/${id}?done=saved`);
    expect(stored(id)).toEqual({ id, name: 'Город Сарапул', kind: 'municipal-okrug', population: 96000 });
    expect(t.db.$client.prepare<[number], { n: number }>('SELECT count(*) AS n FROM users WHERE municipality_id = ?').get(id)!.n).toBe(users);
    const after = await admin.get(response.headers.location as string);
    expect(after.body).toContain(ru['admin.municipalities.done.saved']);
    expect(after.body).toContain('<option value="municipal-okrug" selected>');
  });

  it('refuses a name with a control character or a noncharacter: 422 beside the name, nothing written', async () => {
    await admin.get('/admin/municipalities');
    for (const name of ['Новое\u0008 поселение', 'Новое поселение\uFFFF', 'Новое\u0085поселение']) {
      const before = digest(t.db);
      const response = await admin.post('/admin/municipalities', { name, kind: 'settlement', population: '1000' });
      expect(response.statusCode, JSON.stringify(name)).toBe(422);
      expect(fieldError(response.body, 'name')).toBe(ru['admin.municipalities.problem.text-characters']);
      expect(digest(t.db)).toEqual(before);
    }
  });

  it('refuses a name another municipality has, however capitalised or spaced: 422 beside the name, nothing written', async () => {
    await admin.get('/admin/municipalities');
    for (const name of ['город Ижевск', 'ГОРОД  ИЖЕВСК', ' Город ижевск ']) {
      const before = digest(t.db);
      const response = await admin.post('/admin/municipalities', { name, kind: 'city-okrug', population: '1000' });
      expect(response.statusCode, name).toBe(422);
      expect(fieldError(response.body, 'name'), name).toBe(ru['admin.municipalities.problem.name-taken'].replace('{name}', 'город Ижевск'));
      expect(fieldError(response.body, 'kind')).toBeNull();
      expect(fieldError(response.body, 'population')).toBeNull();
      // What was typed comes back, beside its problem.
      expect(response.body).toContain(`value="${name}"`);
      expect(response.body).toContain('aria-invalid="true"');
      expect(digest(t.db)).toEqual(before);
    }
    // Renaming one to another's name is refused the same way; its own name in other letters is not.
    const glazov = idOf('город Глазов');
    await admin.get(`/admin/municipalities/${glazov}`);
    const before = digest(t.db);
    const taken = await admin.post(`/admin/municipalities/${glazov}`, { name: 'город воткинск', kind: 'city-okrug', population: '90000' });
    expect(taken.statusCode).toBe(422);
    expect(fieldError(taken.body, 'name')).toContain('город Воткинск');
    expect(taken.body).toContain('value="город воткинск"');
    expect(digest(t.db)).toEqual(before);
    expect(stored(glazov)!.name).toBe('город Глазов');
  });

  it('refuses a population that is not a positive whole number: 422 beside the population, nothing written', async () => {
    await admin.get('/admin/municipalities');
    const cases: [string, keyof typeof ru][] = [
      ['0', 'admin.municipalities.problem.population-positive'],
      ['-5', 'admin.municipalities.problem.population-positive'],
      ['1.5', 'admin.municipalities.problem.population-not-a-number'],
      ['12,5', 'admin.municipalities.problem.population-not-a-number'],
      ['много', 'admin.municipalities.problem.population-not-a-number'],
      ['1e6', 'admin.municipalities.problem.population-not-a-number'],
      ['', 'admin.municipalities.problem.required'],
      ['99999999999999999999', 'admin.municipalities.problem.population-not-a-number'],
      ['20000001', 'admin.municipalities.problem.population-too-large'],
    ];
    for (const [population, key] of cases) {
      const before = digest(t.db);
      const response = await admin.post('/admin/municipalities', { name: 'Поселение с плохой численностью', kind: 'settlement', population });
      expect(response.statusCode, population).toBe(422);
      const error = fieldError(response.body, 'population');
      expect(error, population).toBe(ru[key].replace('{max}', '20\u00a0000\u00a0000'));
      expect(fieldError(response.body, 'name')).toBeNull();
      expect(digest(t.db)).toEqual(before);
    }
    expect(storedNamed('Поселение с плохой численностью')).toBeUndefined();
  });

  it('refuses a kind not in the list, an empty name and a name too long, and several at once', async () => {
    await admin.get('/admin/municipalities');
    for (const kind of ['', 'city', 'Городской округ', '__proto__', 'constructor']) {
      const before = digest(t.db);
      const response = await admin.post('/admin/municipalities', { name: 'Поселение с плохим видом', kind, population: '100' });
      expect(response.statusCode, kind).toBe(422);
      expect(fieldError(response.body, 'kind'), kind).toBe(ru['admin.municipalities.problem.kind-unknown']);
      expect(digest(t.db)).toEqual(before);
    }
    const before = digest(t.db);
    const empty = await admin.post('/admin/municipalities', { name: '   ', kind: 'settlement', population: '100' });
    expect(empty.statusCode).toBe(422);
    expect(fieldError(empty.body, 'name')).toBe(ru['admin.municipalities.problem.required']);
    const long = await admin.post('/admin/municipalities', { name: 'я'.repeat(201), kind: 'settlement', population: '100' });
    expect(long.statusCode).toBe(422);
    expect(fieldError(long.body, 'name')).toBe(ru['admin.municipalities.problem.too-long'].replace('{length}', '200'));
    const all = await admin.post('/admin/municipalities', { name: 'город ижевск', kind: 'x', population: '0' });
    expect(all.statusCode).toBe(422);
    expect(fieldError(all.body, 'name')).not.toBeNull();
    expect(fieldError(all.body, 'kind')).not.toBeNull();
    expect(fieldError(all.body, 'population')).not.toBeNull();
    expect(all.body).toContain(ru['admin.errors'].replace('{count}', '3'));
    // Nothing posted at all, or repeated keys: refused the same way, never a 500.
    expect((await admin.post('/admin/municipalities', {})).statusCode).toBe(422);
    const repeated = await admin.post('/admin/municipalities', { name: ['', 'Повтор'], kind: ['x', 'settlement'], population: ['0', '5'] });
    expect(repeated.statusCode).toBe(422);
    expect(digest(t.db)).toEqual(before);
  });

  it('refuses a bad change on the edit page the same way, showing what was typed', async () => {
    const id = idOf('город Можга');
    await admin.get(`/admin/municipalities/${id}`);
    const before = digest(t.db);
    const response = await admin.post(`/admin/municipalities/${id}`, { name: 'город Можга', kind: 'city-okrug', population: 'ноль' });
    expect(response.statusCode).toBe(422);
    expect(fieldError(response.body, 'population')).toBe(ru['admin.municipalities.problem.population-not-a-number']);
    expect(response.body).toContain('value="ноль"');
    expect(digest(t.db)).toEqual(before);
  });

  it('answers 404 for a municipality that does not exist, and changes nothing', async () => {
    expect((await admin.get('/admin/municipalities/999999')).statusCode).toBe(404);
    expect((await admin.get('/admin/municipalities/abc')).statusCode).toBe(404);
    await admin.get('/admin/municipalities');
    const before = digest(t.db);
    expect((await admin.post('/admin/municipalities/999999', { name: 'Нет', kind: 'settlement', population: '1' })).statusCode).toBe(404);
    expect(digest(t.db)).toEqual(before);
  });

  it('shows a name with markup escaped, on every page that names it', async () => {
    await admin.get('/admin/municipalities');
    const response = await admin.post('/admin/municipalities', { name: '<script>alert(1)</script>', kind: 'settlement', population: '10' });
    expect(response.statusCode).toBe(303);
    const id = idOf('<script>alert(1)</script>');
    for (const url of ['/admin/municipalities', `/admin/municipalities/${id}`, '/admin/users/new', `/admin/municipalities?done=created&id=${id}`]) {
      const page = await admin.get(url);
      expect(page.statusCode, url).toBe(200);
      expect(page.body, url).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(page.body, url).not.toContain('<script>alert');
    }
    // And the refusal that quotes it.
    const refused = await admin.post('/admin/municipalities', { name: '<SCRIPT>alert(1)</SCRIPT>', kind: 'settlement', population: '10' });
    expect(refused.statusCode).toBe(422);
    expect(refused.body).not.toMatch(/<script>alert/i);
  });
});

describe('who may', () => {
  const others: Who[] = ['applicant', 'reviewer', 'coordinator', 'commission', 'auditor'];
  const loginOf: Record<string, string> = { applicant: 'applicant1', reviewer: 'reviewer1', coordinator: 'coordinator1', commission: 'commission1', auditor: 'auditor1' };

  it('refuses every other role, on every route, and writes nothing', async () => {
    const id = idOf('город Воткинск');
    for (const who of others) {
      const browser = await browserFor(t.app, t.db, loginOf[who]!);
      expect((await browser.get('/admin/municipalities')).statusCode, who).toBe(403);
      expect((await browser.get(`/admin/municipalities/${id}`)).statusCode, who).toBe(403);
      const before = digest(t.db);
      const create = await browser.post('/admin/municipalities', { name: `Поселение от ${who}`, kind: 'settlement', population: '100' });
      expect(create.statusCode, who).toBe(403);
      const change = await browser.post(`/admin/municipalities/${id}`, { name: `Воткинск от ${who}`, kind: 'settlement', population: '1' });
      expect(change.statusCode, who).toBe(403);
      expect(digest(t.db), who).toEqual(before);
    }
    // A visitor is sent to sign in.
    const visitor = await browserFor(t.app, t.db, null);
    const before = digest(t.db);
    const response = await visitor.post('/admin/municipalities', { name: 'Поселение гостя', kind: 'settlement', population: '100' });
    expect(response.statusCode).toBe(303);
    expect(String(response.headers.location)).toMatch(/^\/login\?next=/);
    expect(digest(t.db)).toEqual(before);
  });

  it('refuses the admin’s own form without its CSRF token, or with a forged one, and writes nothing', async () => {
    const id = idOf('город Воткинск');
    await admin.get('/admin/municipalities');
    const before = digest(t.db);
    const body = { name: 'Поселение без токена', kind: 'settlement', population: '100' };
    expect((await admin.post('/admin/municipalities', body, { csrf: false })).statusCode).toBe(403);
    expect((await admin.post('/admin/municipalities', { ...body, _csrf: 'x'.repeat(40) })).statusCode).toBe(403);
    expect((await admin.post(`/admin/municipalities/${id}`, { ...body }, { csrf: false })).statusCode).toBe(403);
    expect(digest(t.db)).toEqual(before);
  });
});

describe('a new municipality’s first applicant', () => {
  it('is created on the user form with it, signs in, and sees only its applications: none yet', async () => {
    await admin.get('/admin/municipalities');
    const created = await admin.post('/admin/municipalities', { name: 'Первомайское сельское поселение', kind: 'settlement', population: '2400' });
    expect(created.statusCode).toBe(303);
    const id = idOf('Первомайское сельское поселение');
    const form = await admin.get('/admin/users/new');
    expect(form.body).toContain(`<option value="${id}">Первомайское сельское поселение</option>`);
    const user = await admin.post('/admin/users', { login: 'pervomayskoe', name: 'Мария Первая', role: 'applicant', municipalityId: String(id), password: PASSWORD, confirmation: PASSWORD });
    expect(user.statusCode, user.body).toBe(303);

    const applicant = new Browser(t.app);
    await applicant.get('/login');
    expect((await applicant.post('/login', { login: 'pervomayskoe', password: PASSWORD, next: '/' })).statusCode).toBe(303);
    const list = await applicant.get('/applications');
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(ru['list.empty']);
    expect(list.body).not.toMatch(/href="\/applications\/\d+"/);
    const session = await t.app.inject({ method: 'POST', url: '/api/session', payload: { login: 'pervomayskoe', password: PASSWORD } });
    const bearer = (session.json() as { token: string }).token;
    const own = await api(t.app, bearer, 'GET', '/api/applications');
    expect(own.status).toBe(200);
    expect(own.body).toEqual([]);
    const someoneElses = t.db.$client.prepare<[], { id: number }>('SELECT id FROM applications ORDER BY id LIMIT 1').get()!.id;
    expect((await api(t.app, bearer, 'GET', `/api/applications/${someoneElses}`)).status).toBe(404);
    // The list counts the new user.
    const page = await admin.get('/admin/municipalities');
    expect(page.body).toMatch(new RegExp(`<tr id="m-${id}"[^>]*>[\\s\\S]*?<td class="num">1</td>\\s*<td class="num">0</td>`));
  });
});

describe('a real installation, without the demo', () => {
  it('points the user form to the municipalities page while there are none', async () => {
    const db = openDb({ path: ':memory:', synchronous: 'OFF' });
    const app = await buildApp({ db, rateLimitMax: 100_000 });
    try {
      await app.ready();
      await createUser(db, { login: 'root.admin', name: 'Администратор', role: 'admin', password: PASSWORD });
      const browser = new Browser(app);
      await browser.get('/login');
      expect((await browser.post('/login', { login: 'root.admin', password: PASSWORD, next: '/' })).statusCode).toBe(303);
      const form = await browser.get('/admin/users/new');
      expect(form.body).toContain(ru['admin.hint.noMunicipalities']);
      expect(form.body).toContain(`<a href="/admin/municipalities">${ru['admin.hint.addMunicipality']}</a>`);
      const empty = await browser.get('/admin/municipalities');
      expect(empty.body).toContain(ru['admin.municipalities.empty']);
      expect((await browser.post('/admin/municipalities', { name: 'город Ижевск', kind: 'city-okrug', population: '624000' })).statusCode).toBe(303);
      const after = await browser.get('/admin/users/new');
      expect(after.body).not.toContain(ru['admin.hint.noMunicipalities']);
      expect(after.body).toContain('город Ижевск</option>');
    } finally {
      await app.close();
      db.$client.close();
    }
  });
});

describe('npm run municipalities', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const run = (script: 'municipalities' | 'users', args: string[], path: string, input = '') =>
    spawnSync(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], {
      cwd: root,
      input,
      env: { ...process.env, DATABASE_PATH: path },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('adds, lists and changes municipalities; refusals exit 1 and write nothing; misuse exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isu-municipalities-'));
    const path = join(dir, 'db.sqlite');
    try {
      const added = run('municipalities', ['add', '--name', 'Завьяловский район', '--kind', 'municipal-okrug', '--population', '68 000'], path);
      expect(added.status, added.stderr).toBe(0);
      expect(added.stdout).toBe('created municipality 1: Завьяловский район (municipal-okrug, population 68000)\n');

      const duplicate = run('municipalities', ['add', '--name', 'ЗАВЬЯЛОВСКИЙ район', '--kind', 'district', '--population', '1'], path);
      expect(duplicate.status).toBe(1);
      expect(duplicate.stderr).toContain('--name: The municipality “Завьяловский район” already exists');
      const bad = run('municipalities', ['add', '--name', 'Другой', '--kind', 'village', '--population', '0'], path);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('--kind: Choose a kind from the list.');
      expect(bad.stderr).toContain('--population: The population must be greater than zero.');

      expect(run('municipalities', ['add', '--name', 'Без вида'], path).status).toBe(2);
      expect(run('municipalities', ['frobnicate'], path).status).toBe(2);
      expect(run('municipalities', ['add', '--bogus'], path).status).toBe(2);
      const help = run('municipalities', ['--help'], path);
      expect(help.status).toBe(0);
      for (const kind of municipalityKinds) expect(help.stdout).toContain(kind);

      const changed = run('municipalities', ['change', '--municipality', 'завьяловский район', '--population', '70000'], path);
      expect(changed.status, changed.stderr).toBe(0);
      expect(changed.stdout).toContain('changed municipality 1: Завьяловский район (municipal-okrug, population 70000)');
      expect(run('municipalities', ['change', '--municipality', 'Нет такого'], path).status).toBe(1);

      const list = run('municipalities', ['list'], path);
      expect(list.status).toBe(0);
      expect(list.stdout).toBe('1\tЗавьяловский район\tmunicipal-okrug\t70000\t0\t0\n');

      // And then its first applicant, as the README shows.
      const applicant = run('users', ['add', '--login', 'zavyalovo', '--name', 'Заявитель', '--role', 'applicant', '--municipality', 'Завьяловский район'], path, `${PASSWORD}\n`);
      expect(applicant.status, applicant.stderr).toBe(0);
      expect(run('municipalities', ['list'], path).stdout).toBe('1\tЗавьяловский район\tmunicipal-okrug\t70000\t1\t0\n');

      const db = openDb({ path });
      try {
        expect(db.$client.prepare('SELECT id, name, kind, population FROM municipalities').all()).toEqual([{ id: 1, name: 'Завьяловский район', kind: 'municipal-okrug', population: 70000 }]);
      } finally {
        db.$client.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
