import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { authenticate } from '../../src/accounts/users.ts';
import { createUser } from '../../src/accounts/user-admin.ts';
import { openDb } from '../../src/db/client.ts';
import { Browser, api, login, startApp, token, type TestApp } from './http-helpers.ts';
import { digest, userId } from './security-helpers.ts';

/**
 * User administration (issue 6): the admin's pages create users, set roles and municipalities,
 * reset passwords, end sessions and deactivate — each change effective at the user's next
 * request — and `npm run users` creates the first admin of a real installation.
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

function municipalityOf(loginName: string): number {
  return t.db.$client.prepare<[string], { m: number }>('SELECT municipality_id AS m FROM users WHERE login = ?').get(loginName)!.m;
}

async function signIn(loginName: string, password: string) {
  const browser = new Browser(t.app);
  await browser.get('/login');
  const response = await browser.post('/login', { login: loginName, password, next: '/' });
  return { browser, status: response.statusCode };
}

describe('the users page', () => {
  it('lists every user with role, municipality and state, and filters them', async () => {
    const page = await admin.get('/admin/users');
    expect(page.statusCode).toBe(200);
    for (const name of ['applicant1', 'applicant2', 'reviewer1', 'coordinator1', 'commission1', 'auditor1', 'admin1']) expect(page.body).toContain(`>${name}</a>`);
    const reviewers = await admin.get('/admin/users?role=reviewer');
    expect(reviewers.body).toContain('>reviewer1</a>');
    expect(reviewers.body).not.toContain('>applicant1</a>');
    const search = await admin.get('/admin/users?q=%D0%BF%D0%B5%D1%82%D1%80%D0%BE%D0%B2%D0%B0');
    expect(search.body).toContain('>applicant1</a>');
    expect(search.body).not.toContain('>applicant2</a>');
  });

  it('is for admins only', async () => {
    for (const name of ['applicant1', 'reviewer1', 'auditor1']) {
      const browser = await login(t.app, name);
      expect((await browser.get('/admin/users')).statusCode, name).toBe(403);
    }
    expect((await new Browser(t.app).get('/admin/users')).statusCode).toBe(303);
  });
});

describe('creating a user', () => {
  it('creates an applicant of a municipality, who can then sign in and sees only that municipality', async () => {
    await admin.get('/admin/users/new');
    const municipality = municipalityOf('applicant2');
    const response = await admin.post('/admin/users', { login: 'new.applicant', name: 'Новый Заявитель', role: 'applicant', municipalityId: String(municipality), password: PASSWORD, confirmation: PASSWORD });
    expect(response.statusCode, response.body).toBe(303);
    expect(response.headers.location).toMatch(/^\/admin\/users\/\d+\?done=created$/);
    const page = await admin.get(response.headers.location as string);
    expect(page.body).toContain('new.applicant');
    expect(page.body).not.toContain(PASSWORD);
    const { browser, status } = await signIn('new.applicant', PASSWORD);
    expect(status).toBe(303);
    const list = await api(t.app, await token(t.app, 'applicant2'), 'GET', '/api/applications');
    const mine = await browser.get('/applications');
    expect(mine.statusCode).toBe(200);
    for (const row of list.body as { id: number }[]) expect(mine.body).toContain(`/applications/${row.id}"`);
  });

  it('refuses what is wrong, beside its field, creates nothing and never shows the password back', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ login: 'x1', name: 'A', role: 'reviewer', password: PASSWORD, confirmation: PASSWORD }, 'u-login-error'],
      [{ login: 'Applicant1', name: 'A', role: 'reviewer', password: PASSWORD, confirmation: PASSWORD }, 'u-login-error'],
      [{ login: 'someone', name: '', role: 'reviewer', password: PASSWORD, confirmation: PASSWORD }, 'u-name-error'],
      [{ login: 'someone', name: 'Иванова\u0000', role: 'reviewer', password: PASSWORD, confirmation: PASSWORD }, 'u-name-error'],
      [{ login: 'someone', name: 'Иванова \uFDD0', role: 'reviewer', password: PASSWORD, confirmation: PASSWORD }, 'u-name-error'],
      [{ login: 'someone', name: 'A', role: 'superuser', password: PASSWORD, confirmation: PASSWORD }, 'u-role-error'],
      [{ login: 'someone', name: 'A', role: 'applicant', password: PASSWORD, confirmation: PASSWORD }, 'u-municipality-error'],
      [{ login: 'someone', name: 'A', role: 'applicant', municipalityId: '999999', password: PASSWORD, confirmation: PASSWORD }, 'u-municipality-error'],
      [{ login: 'someone', name: 'A', role: 'reviewer', password: 'short-Pw1', confirmation: 'short-Pw1' }, 'u-password-error'],
      [{ login: 'someone', name: 'A', role: 'reviewer', password: 'qwerty123456', confirmation: 'qwerty123456' }, 'u-password-error'],
      [{ login: 'someone', name: 'A', role: 'reviewer', password: 'someone-is-my-password', confirmation: 'someone-is-my-password' }, 'u-password-error'],
      [{ login: 'someone', name: 'A', role: 'reviewer', password: PASSWORD, confirmation: `${PASSWORD}!` }, 'u-confirmation-error'],
    ];
    for (const [form, errorId] of cases) {
      await admin.get('/admin/users/new');
      const before = digest(t.db);
      const response = await admin.post('/admin/users', form);
      expect(response.statusCode, JSON.stringify(form)).toBe(422);
      expect(response.body, JSON.stringify(form)).toContain(`id="${errorId}"`);
      expect(response.body).not.toContain(`value="${form.password}"`);
      expect(digest(t.db).users).toBe(before.users);
    }
  });
});

describe('changing a user', () => {
  it('changes the role, effective at the next request of the user’s open session', async () => {
    const reviewer = await login(t.app, 'reviewer2');
    expect((await reviewer.get('/queue')).statusCode).toBe(200);
    const id = userId(t.db, 'reviewer2');
    await admin.get(`/admin/users/${id}`);
    const response = await admin.post(`/admin/users/${id}`, { name: 'Дмитрий Корепанов', role: 'applicant', municipalityId: String(municipalityOf('applicant1')) });
    expect(response.statusCode).toBe(303);
    expect((await reviewer.get('/queue')).statusCode).toBe(403);
    expect((await reviewer.get('/applications/new')).statusCode).toBe(200);
    // An applicant without a municipality is refused, and the role stays as it was.
    await admin.get(`/admin/users/${id}`);
    const refused = await admin.post(`/admin/users/${id}`, { name: 'Дмитрий Корепанов', role: 'applicant', municipalityId: '' });
    expect(refused.statusCode).toBe(422);
    expect(refused.body).toContain('id="u-municipality-error"');
    await admin.post(`/admin/users/${id}`, { name: 'Дмитрий Корепанов', role: 'reviewer' });
    expect((await reviewer.get('/queue')).statusCode).toBe(200);
  });

  it('keeps the last active admin an admin and active, and lets an admin go once there is another', async () => {
    const self = userId(t.db, 'admin1');
    await admin.get(`/admin/users/${self}`);
    const refused = await admin.post(`/admin/users/${self}`, { name: 'Администратор', role: 'reviewer' });
    expect(refused.statusCode).toBe(422);
    expect(refused.body).toContain('notice--error');
    const deactivateSelf = await admin.post(`/admin/users/${self}/deactivate`, {});
    expect(deactivateSelf.statusCode).toBe(422);
    expect(t.db.$client.prepare('SELECT role, active FROM users WHERE id = ?').get(self)).toEqual({ role: 'admin', active: 1 });
    const second = await createUser(t.db, { login: 'second.admin', name: 'Второй администратор', role: 'admin', password: PASSWORD });
    await admin.get(`/admin/users/${second.id}`);
    expect((await admin.post(`/admin/users/${second.id}`, { name: 'Второй администратор', role: 'auditor' })).statusCode).toBe(303);
    expect(t.db.$client.prepare('SELECT role FROM users WHERE id = ?').get(second.id)).toEqual({ role: 'auditor' });
  });

  it('resets a password: the old one stops working, every session and token of the user ends', async () => {
    const open = await login(t.app, 'commission2');
    const bearer = await token(t.app, 'commission2');
    const id = userId(t.db, 'commission2');
    await admin.get(`/admin/users/${id}`);
    const weak = await admin.post(`/admin/users/${id}/password`, { password: 'commission2-pass', confirmation: 'commission2-pass' });
    expect(weak.statusCode).toBe(422);
    const response = await admin.post(`/admin/users/${id}/password`, { password: PASSWORD, confirmation: PASSWORD });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`/admin/users/${id}?done=password&n=2`);
    expect((await open.get('/applications')).statusCode).toBe(303);
    expect((await api(t.app, bearer, 'GET', '/api/programmes')).status).toBe(401);
    expect((await signIn('commission2', 'demo')).status).toBe(401);
    expect((await signIn('commission2', PASSWORD)).status).toBe(303);
  });

  it('deactivates: the user is signed out everywhere at once and cannot sign in; reactivation lets them back', async () => {
    const open = await login(t.app, 'commission3');
    const bearer = await token(t.app, 'commission3');
    const id = userId(t.db, 'commission3');
    await admin.get(`/admin/users/${id}`);
    const response = await admin.post(`/admin/users/${id}/deactivate`, {});
    expect(response.statusCode).toBe(303);
    expect((await open.get('/applications')).statusCode).toBe(303);
    expect((await api(t.app, bearer, 'GET', '/api/programmes')).status).toBe(401);
    expect((await signIn('commission3', 'demo')).status).toBe(401);
    expect(await authenticate(t.db, 'commission3', 'demo')).toBeUndefined();
    const list = await admin.get('/admin/users?q=commission3');
    expect(list.body).toContain('badge--muted');
    await admin.get(`/admin/users/${id}`);
    expect((await admin.post(`/admin/users/${id}/activate`, {})).statusCode).toBe(303);
    expect((await signIn('commission3', 'demo')).status).toBe(303);
  });

  it('ends every session of a user on request', async () => {
    const open = await login(t.app, 'auditor1');
    const id = userId(t.db, 'auditor1');
    await admin.get(`/admin/users/${id}`);
    const response = await admin.post(`/admin/users/${id}/sessions/revoke`, {});
    expect(response.statusCode).toBe(303);
    expect((await open.get('/applications')).statusCode).toBe(303);
    const page = await admin.get(response.headers.location as string);
    expect(page.body).toContain('notice--success');
  });

  it('answers 404 for a user that does not exist', async () => {
    expect((await admin.get('/admin/users/999999')).statusCode).toBe(404);
    expect((await admin.get('/admin/users/abc')).statusCode).toBe(404);
  });
});

describe('changing one’s own password', () => {
  it('asks for the current password, applies the policy, and ends every other session but this one', async () => {
    const here = await login(t.app, 'applicant2');
    const elsewhere = await login(t.app, 'applicant2');
    const bearer = await token(t.app, 'applicant2');
    const form = await here.get('/account/password');
    expect(form.statusCode).toBe(200);
    const before = digest(t.db);
    const wrong = await here.post('/account/password', { current: 'not-it', password: PASSWORD, confirmation: PASSWORD });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.body).toContain('id="p-current-error"');
    const weak = await here.post('/account/password', { current: 'demo', password: 'applicant2!!!!!', confirmation: 'applicant2!!!!!' });
    expect(weak.statusCode).toBe(422);
    expect(weak.body).toContain('id="p-password-error"');
    expect(digest(t.db).users).toBe(before.users);
    const changed = await here.post('/account/password', { current: 'demo', password: PASSWORD, confirmation: PASSWORD });
    expect(changed.statusCode).toBe(303);
    // This test's other session and token, and the token an earlier test took.
    expect(Number(/\?n=(\d+)$/.exec(String(changed.headers.location))?.[1])).toBeGreaterThanOrEqual(2);
    expect((await here.get('/applications')).statusCode).toBe(200);
    expect((await elsewhere.get('/applications')).statusCode).toBe(303);
    expect((await api(t.app, bearer, 'GET', '/api/programmes')).status).toBe(401);
    expect((await signIn('applicant2', 'demo')).status).toBe(401);
    expect((await signIn('applicant2', PASSWORD)).status).toBe(303);
  });
});

describe('the access table page', () => {
  it('shows every route and every event with the roles that may use them, to admins and auditors', async () => {
    const page = await admin.get('/admin/access');
    expect(page.statusCode).toBe(200);
    for (const rule of t.app.routeRules.filter((r) => r.method !== 'HEAD' && !r.url.includes('*'))) expect(page.body).toContain(`<code>${rule.url}</code>`);
    for (const type of ['submit', 'award', 'start-review', 'complete-task']) expect(page.body).toContain(`<code class="muted">${type}</code>`);
    expect(page.body).not.toContain('admin.access.undeclared');
    const auditor = await login(t.app, 'reviewer1');
    expect((await auditor.get('/admin/access')).statusCode).toBe(403);
  });
});

describe('npm run users', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const run = (args: string[], options: { input?: string; env?: Record<string, string> } = {}, path: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/users.ts', ...args], {
      cwd: root,
      input: options.input ?? '',
      env: { ...process.env, DATABASE_PATH: path, ...options.env },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('creates the first admin of a new installation, the password read from stdin, never from argv', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isu-users-'));
    const path = join(dir, 'db.sqlite');
    try {
      const created = run(['add', '--login', 'root.admin', '--name', 'Главный администратор', '--role', 'admin'], { input: `${PASSWORD}\n` }, path);
      expect(created.status, created.stderr).toBe(0);
      expect(created.stdout).toContain('created admin root.admin');
      const weak = run(['add', '--login', 'second', '--name', 'B', '--role', 'admin'], { input: 'short\n' }, path);
      expect(weak.status).toBe(1);
      expect(weak.stderr).toContain('password-too-short');
      const fromEnv = run(['add', '--login', 'rev', '--name', 'R', '--role', 'reviewer'], { env: { ISU_USER_PASSWORD: PASSWORD } }, path);
      expect(fromEnv.status, fromEnv.stderr).toBe(0);
      const lastAdmin = run(['deactivate', '--login', 'root.admin'], {}, path);
      expect(lastAdmin.status).toBe(1);
      const usage = run(['frobnicate'], {}, path);
      expect(usage.status).toBe(2);
      const db = openDb({ path });
      try {
        const users = db.$client.prepare('SELECT login, role, active, password_hash FROM users ORDER BY id').all() as { login: string; role: string; password_hash: string }[];
        expect(users.map((u) => [u.login, u.role])).toEqual([
          ['root.admin', 'admin'],
          ['rev', 'reviewer'],
        ]);
        expect(users[0]!.password_hash).toMatch(/^scrypt\$/);
        expect(JSON.stringify(users)).not.toContain(PASSWORD);
        expect((await authenticate(db, 'root.admin', PASSWORD))?.role).toBe('admin');
      } finally {
        db.$client.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
