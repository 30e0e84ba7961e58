import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.ts';
import type { Db } from '../../src/db/client.ts';
import { DEMO_PASSWORD } from '../../src/demo/seed.ts';
import { demoDb } from '../demo-template.ts';
import { CURRENT_PROGRAMME, Browser, login, startApp, type TestApp } from './http-helpers.ts';
import { allowedByTable, concreteUrl, digest, everyone, firstApplicationOf, prepareRequest, requestAs, type SampleIds } from './security-helpers.ts';

/**
 * The HTTP hardening of issue 6: security headers and a CSP that allows only our own scripts and
 * styles (and pages that need nothing else), the login rate limit and its growing delays, body
 * and parameter size limits, and a log that names who was refused from where but never a secret.
 */

let t: TestApp;
let ids: SampleIds;

beforeAll(async () => {
  t = await startApp();
  ids = { application: firstApplicationOf(t.db, 'applicant1'), programme: CURRENT_PROGRAMME, stage: 6, user: 1 };
});

afterAll(async () => {
  await t.close();
});

function directives(header: unknown): Map<string, string> {
  return new Map(
    String(header)
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const [name, ...values] = part.split(/\s+/);
        return [name!, values.join(' ')] as const;
      }),
  );
}

/** A fresh app over a fresh demo database, with options; closed by the caller. */
async function freshApp(options: Partial<Parameters<typeof buildApp>[0]> = {}): Promise<{ app: FastifyInstance; db: Db; close: () => Promise<void> }> {
  const db = await demoDb();
  const app = await buildApp({ db, ...options });
  await app.ready();
  return {
    app,
    db,
    close: async () => {
      await app.close();
      db.$client.close();
    },
  };
}

describe('security headers', () => {
  it('sends a CSP that allows only our own scripts and styles, on pages, errors, the API and static files', async () => {
    for (const url of ['/login', '/no-such-page', '/api/programmes', '/healthz', '/static/app.css', '/vendor/htmx/htmx.min.js']) {
      const response = await t.app.inject({ url });
      const csp = directives(response.headers['content-security-policy']);
      expect(csp.get('default-src'), url).toBe("'self'");
      expect(csp.get('script-src'), url).toBe("'self'");
      expect(csp.get('style-src'), url).toBe("'self'");
      expect(csp.get('object-src'), url).toBe("'none'");
      expect(csp.get('frame-ancestors'), url).toBe("'none'");
      expect(csp.get('base-uri'), url).toBe("'self'");
      expect(csp.get('form-action'), url).toBe("'self'");
      expect(String(response.headers['content-security-policy'])).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['x-frame-options'], url).toBe('SAMEORIGIN');
      expect(response.headers['referrer-policy'], url).toBe('no-referrer');
      expect(response.headers['cross-origin-opener-policy'], url).toBe('same-origin');
      expect(response.headers['cross-origin-resource-policy'], url).toBe('same-origin');
      expect(response.headers['x-powered-by'], url).toBeUndefined();
      // Plain HTTP (a development machine): no HSTS, no upgrade.
      expect(response.headers['strict-transport-security'], url).toBeUndefined();
      expect(csp.has('upgrade-insecure-requests')).toBe(false);
    }
  });

  it('sends HSTS and upgrade-insecure-requests behind TLS, and marks the cookies Secure', async () => {
    const secure = await freshApp({ secureCookies: true });
    try {
      const page = await secure.app.inject({ url: '/login' });
      expect(String(page.headers['strict-transport-security'])).toMatch(/max-age=\d{8}; includeSubDomains/);
      expect(directives(page.headers['content-security-policy']).has('upgrade-insecure-requests')).toBe(true);
      const csrfCookie = [page.headers['set-cookie']].flat().find((c) => String(c).startsWith('_csrf='));
      expect(csrfCookie).toMatch(/; HttpOnly/);
      expect(csrfCookie).toMatch(/; Secure/);
      const browser = new Browser(secure.app);
      await browser.get('/login');
      const signedIn = await browser.post('/login', { login: 'applicant1', password: DEMO_PASSWORD, next: '/' });
      const sid = [signedIn.headers['set-cookie']].flat().find((c) => String(c).startsWith('sid='));
      expect(sid).toMatch(/; Secure/);
    } finally {
      await secure.close();
    }
  });

  it('sets the session cookie httpOnly, SameSite=Lax, path /, never longer than the session lives', async () => {
    const browser = new Browser(t.app);
    await browser.get('/login');
    const response = await browser.post('/login', { login: 'reviewer1', password: DEMO_PASSWORD, next: '/' });
    const sid = String([response.headers['set-cookie']].flat().find((c) => String(c).startsWith('sid=')));
    expect(sid).toMatch(/; HttpOnly/);
    expect(sid).toMatch(/; SameSite=Lax/);
    expect(sid).toMatch(/; Path=\//);
    expect(Number(/Max-Age=(\d+)/.exec(sid)?.[1])).toBeLessThanOrEqual(12 * 3600);
    expect(sid).not.toMatch(/; Secure/);
  });

  it('marks pages that show data no-store', async () => {
    const browser = await login(t.app, 'applicant1');
    const page = await browser.get(`/applications/${ids.application}`);
    expect(page.headers['cache-control']).toBe('no-store');
  });
});

describe('no inline script or style anywhere', () => {
  const inline = (html: string) =>
    [
      ...[...html.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>/gi)].map((m) => `inline script ${m[0]}`),
      ...[...html.matchAll(/<style\b/gi)].map(() => 'a <style> element'),
      ...[...html.matchAll(/\sstyle\s*=/gi)].map(() => 'a style attribute'),
      ...[...html.matchAll(/\son[a-z]+\s*=/gi)].map((m) => `an event handler attribute${m[0]}`),
      ...[...html.matchAll(/(href|src|action)\s*=\s*["']?\s*javascript:/gi)].map(() => 'a javascript: URL'),
    ];

  it('in any template', () => {
    const views = fileURLToPath(new URL('../../views/', import.meta.url));
    const found: string[] = [];
    for (const file of readdirSync(views, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.eta'))) {
      for (const problem of inline(readFileSync(join(views, file), 'utf8'))) found.push(`${file}: ${problem}`);
    }
    expect(found).toEqual([]);
  });

  it('in any page any role can open, and htmx is told not to inject its indicator styles', async () => {
    const found: string[] = [];
    let pages = 0;
    for (const rule of t.app.routeRules.filter((r) => r.method === 'GET' && !r.url.startsWith('/api/') && !r.url.includes('*'))) {
      for (const who of everyone.filter((w) => allowedByTable(rule, w))) {
        const response = await requestAs(t.app, t.db, who, 'GET', concreteUrl(rule.url, ids));
        if (!String(response.headers['content-type']).startsWith('text/html')) continue;
        pages++;
        for (const problem of inline(response.body)) found.push(`${who} ${rule.url}: ${problem}`);
        // A page that loads htmx (the public portal loads none, issue 15).
        if (response.body.includes('<html') && response.body.includes('htmx.min.js') && !response.body.includes('"includeIndicatorStyles":false')) found.push(`${who} ${rule.url}: htmx may inject a <style>`);
      }
    }
    expect(found).toEqual([]);
    expect(pages).toBeGreaterThan(20);
  });
});

describe('limits', () => {
  it('refuses a body over 256 KiB with 413, JSON or form, and changes nothing', async () => {
    const before = digest(t.db);
    const big = 'x'.repeat(300 * 1024);
    const asJson = await requestAs(t.app, t.db, 'applicant', 'POST', '/api/applications', { body: { programmeId: CURRENT_PROGRAMME, title: big } });
    expect(asJson.statusCode).toBe(413);
    const send = await prepareRequest(t.app, t.db, 'applicant', 'POST', '/applications', { body: { programmeId: CURRENT_PROGRAMME, title: big } });
    const beforeForm = digest(t.db);
    const asForm = await send();
    expect(asForm.statusCode).toBe(413);
    expect(digest(t.db)).toEqual(beforeForm);
    expect(digest(t.db).events).toBe(before.events);
  });

  it('refuses an over-long path parameter without reading it', async () => {
    const response = await requestAs(t.app, t.db, 'reviewer', 'GET', `/api/applications/${'9'.repeat(400)}`);
    expect([404, 414]).toContain(response.statusCode);
  });
});

describe('the request limit', () => {
  it('counts an API client by its user, across its tokens and addresses; a page visitor by address', async () => {
    const limited = await freshApp({ rateLimitMax: 5 });
    try {
      const token = async (login: string, remoteAddress: string) =>
        (await limited.app.inject({ method: 'POST', url: '/api/session', payload: { login, password: DEMO_PASSWORD }, remoteAddress })).json<{ token: string }>().token;
      const get = (bearer: string, remoteAddress: string) =>
        limited.app.inject({ method: 'GET', url: '/api/programmes', headers: { authorization: `Bearer ${bearer}` }, remoteAddress });
      // Two tokens of one user, from two addresses, that signed in from two others.
      const first = await token('reviewer1', '10.0.1.1');
      const second = await token('reviewer1', '10.0.1.2');
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await get(i % 2 ? second : first, i % 2 ? '10.0.2.2' : '10.0.2.1')).statusCode);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      // Another user behind the same address as the first is not held back by the first's calls.
      const other = await token('coordinator1', '10.0.3.1');
      expect((await get(other, '10.0.2.1')).statusCode).toBe(200);
      // Without a valid token it is the address that counts: 10.0.2.1 has sent nothing of its own yet.
      const anonymous: number[] = [];
      for (let i = 0; i < 6; i++) anonymous.push((await limited.app.inject({ method: 'GET', url: '/login', remoteAddress: '10.0.2.1' })).statusCode);
      expect(anonymous).toEqual([200, 200, 200, 200, 200, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('the login rate limit', () => {
  it('answers 429 after 20 attempts a minute from one address, whatever the logins, on the form and the API', async () => {
    const limited = await freshApp();
    try {
      for (let i = 0; i < 20; i++) {
        const response = await limited.app.inject({ method: 'POST', url: '/api/session', payload: { login: `nobody${i}`, password: 'wrong' } });
        expect(response.statusCode, `attempt ${i + 1}`).toBe(401);
      }
      const blocked = await limited.app.inject({ method: 'POST', url: '/api/session', payload: { login: 'applicant1', password: DEMO_PASSWORD } });
      expect(blocked.statusCode).toBe(429);
      expect(blocked.headers['retry-after']).toBeDefined();
      // Another address is not held back by this one.
      const other = await limited.app.inject({ method: 'POST', url: '/api/session', payload: { login: 'applicant1', password: DEMO_PASSWORD }, remoteAddress: '10.0.0.2' });
      expect(other.statusCode).toBe(200);

      const browser = new Browser(limited.app);
      await browser.get('/login');
      let last = 0;
      for (let i = 0; i < 21; i++) last = (await browser.post('/login', { login: `nobody${i}`, password: 'wrong', next: '/' })).statusCode;
      expect(last).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('makes each failed login for the same login and address wait twice as long as the one before', async () => {
    const slowed = await freshApp();
    try {
      const durations: number[] = [];
      for (let i = 0; i < 4; i++) {
        const started = performance.now();
        const response = await slowed.app.inject({ method: 'POST', url: '/api/session', payload: { login: 'reviewer1', password: `wrong ${i}` } });
        durations.push(performance.now() - started);
        expect(response.statusCode).toBe(401);
      }
      // 0, 200, 400, 800 ms of added wait (plus the hash itself).
      expect(durations[1]!).toBeGreaterThanOrEqual(200);
      expect(durations[2]!).toBeGreaterThanOrEqual(400);
      expect(durations[3]!).toBeGreaterThanOrEqual(800);
      expect(durations[3]! - durations[0]!).toBeGreaterThan(600);
      // Another login from the same address is not slowed down by these failures.
      const started = performance.now();
      await slowed.app.inject({ method: 'POST', url: '/api/session', payload: { login: 'auditor1', password: 'wrong' } });
      expect(performance.now() - started).toBeLessThan(durations[3]!);
    } finally {
      await slowed.close();
    }
  });
});

/** A stream that keeps each JSON log line, for the tests that read the log. */
function logLines(): { stream: Writable; entries: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('the per-account sign-in limit, across addresses (issue 17)', () => {
  it('locks a login after 10 failures in 15 minutes from any addresses, answers as for a wrong password, logs it, shows it to admins, and lifts after 15 minutes or a new password', async () => {
    const log = logLines();
    let clock = new Date('2027-05-20T06:00:00.000Z');
    // Over the shared demo: the lock lives in this app, and coordinator1's new password is set only at the end.
    const app = await buildApp({ db: t.db, logStream: log.stream, now: () => clock, rateLimitMax: 100_000 });
    await app.ready();
    const locked = { app, db: t.db, close: () => app.close() };
    try {
      const attempt = (login: string, password: string, n: number) =>
        locked.app.inject({ method: 'POST', url: '/api/session', payload: { login, password }, remoteAddress: `198.51.100.${n}` });
      const wrong = await attempt('coordinator1', 'wrong 0', 200);
      expect(wrong.statusCode).toBe(401);
      for (let i = 1; i < 10; i++) expect((await attempt('coordinator1', `wrong ${i}`, i)).statusCode).toBe(401);
      // A login nobody has is counted the same, so that a lock tells nothing about who exists.
      for (let i = 0; i < 10; i++) await attempt('ghost.user', `wrong ${i}`, 100 + i);

      // The right password, from an address never seen: the same answer as a wrong one.
      const right = await attempt('coordinator1', DEMO_PASSWORD, 250);
      expect(right.statusCode).toBe(401);
      expect(right.body).toBe(wrong.body);
      const form = new Browser(locked.app);
      await form.get('/login');
      const page = await form.post('/login', { login: 'coordinator1', password: DEMO_PASSWORD, next: '/' });
      expect(page.statusCode).toBe(401);
      expect(page.body).toContain('Неверный логин или пароль');
      expect(form.cookies.has('sid')).toBe(false);
      // Other accounts sign in as before.
      expect((await attempt('reviewer1', DEMO_PASSWORD, 251)).statusCode).toBe(200);

      const entries = log.entries();
      const lockLine = entries.find((e) => e.msg === 'login locked: too many failed sign-ins' && e.login === 'coordinator1');
      expect(lockLine).toMatchObject({ failures: 10, until: '2027-05-20T06:15:00.000Z' });
      expect((lockLine!.addresses as string[]).length).toBe(10);
      expect(entries.filter((e) => e.msg === 'sign-in refused: the login is locked after repeated failures' && e.login === 'coordinator1').length).toBe(2);

      const admin = await login(locked.app, 'admin1');
      const users = await admin.get('/admin/users');
      expect(users.body).toContain('Вход для «coordinator1» заблокирован до 20.05.2027, 10:15 (GMT+4)');
      expect(users.body).not.toContain('ghost.user');
      const english = await admin.get('/admin/users?lang=en');
      expect(english.body).toContain('Sign-in for “coordinator1” is locked until');

      clock = new Date('2027-05-20T06:15:01.000Z');
      expect((await attempt('coordinator1', DEMO_PASSWORD, 252)).statusCode).toBe(200);
      expect((await admin.get('/admin/users')).body).not.toContain('заблокирован');

      // Locked again; a new password set by an admin lifts the lock at once.
      for (let i = 0; i < 10; i++) await attempt('coordinator1', `wrong again ${i}`, 20 + i);
      expect((await attempt('coordinator1', DEMO_PASSWORD, 253)).statusCode).toBe(401);
      const id = locked.db.$client.prepare<[], { id: number }>("SELECT id FROM users WHERE login = 'coordinator1'").get()!.id;
      await admin.get(`/admin/users/${id}`);
      const fresh = 'a brand new coordinator passphrase';
      expect((await admin.post(`/admin/users/${id}/password`, { password: fresh, confirmation: fresh })).statusCode).toBe(303);
      expect((await attempt('coordinator1', fresh, 254)).statusCode).toBe(200);
    } finally {
      await locked.close();
    }
  });
});

describe('TRUST_PROXY: which X-Forwarded-For entry is the client', () => {
  async function ipSeen(trustProxy: Parameters<typeof buildApp>[0]['trustProxy'], forwardedFor: string, remoteAddress = '127.0.0.1'): Promise<unknown> {
    const log = logLines();
    const app = await buildApp({ db: t.db, trustProxy, logStream: log.stream, rateLimitMax: 0 });
    await app.ready();
    try {
      await app.inject({ method: 'POST', url: '/api/session', payload: { login: 'nobody.at.all', password: 'wrong' }, headers: { 'x-forwarded-for': forwardedFor }, remoteAddress });
      return log.entries().find((e) => e.msg === 'failed login')?.ip;
    } finally {
      await app.close();
    }
  }

  it('believes none of it by default, the last hops when told how many, and only the proxies it names', async () => {
    const chain = '203.0.113.66, 198.51.100.9';
    expect(await ipSeen(false, chain)).toBe('127.0.0.1');
    // One reverse proxy: it appended the address it saw; whatever the client wrote before that is not believed.
    expect(await ipSeen(1, chain)).toBe('198.51.100.9');
    expect(await ipSeen(2, chain)).toBe('203.0.113.66');
    expect(await ipSeen(['127.0.0.1'], chain)).toBe('198.51.100.9');
    expect(await ipSeen(['127.0.0.1', '198.51.100.0/24'], chain)).toBe('203.0.113.66');
    // A request that does not come from a named proxy says nothing about its client.
    expect(await ipSeen(['10.0.0.1'], chain)).toBe('127.0.0.1');
  });
});

describe('RATE_LIMIT_PER_MINUTE', () => {
  it('sets the per-address limit, and 0 turns it off while the login keeps its own', async () => {
    const strict = await buildApp({ db: t.db, rateLimitMax: 5 });
    const open = await buildApp({ db: t.db, rateLimitMax: 0 });
    await strict.ready();
    await open.ready();
    try {
      const codes = [];
      for (let i = 0; i < 6; i++) codes.push((await strict.inject({ url: '/healthz' })).statusCode);
      expect(codes).toEqual([200, 200, 200, 200, 200, 429]);
      for (let i = 0; i < 700; i++) {
        const response = await open.inject({ url: '/healthz' });
        if (response.statusCode !== 200) throw new Error(`request ${i + 1}: ${response.statusCode}`);
      }
      let last = 0;
      for (let i = 0; i < 21; i++) last = (await open.inject({ method: 'POST', url: '/api/session', payload: { login: `nobody${i}`, password: 'wrong' } })).statusCode;
      expect(last).toBe(429);
    } finally {
      await strict.close();
      await open.close();
    }
  });
});

describe('the log', () => {
  it('names who failed to log in or was refused, and from where, but never a password, token or cookie', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const logged = await freshApp({ logStream: stream });
    try {
      const secret = 'Sup3r-Secret-Passw0rd!';
      await logged.app.inject({ method: 'POST', url: '/api/session', payload: { login: 'applicant1', password: secret }, remoteAddress: '203.0.113.7' });
      const good = await logged.app.inject({ method: 'POST', url: '/api/session', payload: { login: 'applicant1', password: DEMO_PASSWORD }, remoteAddress: '203.0.113.7' });
      const bearer = (good.json() as { token: string }).token;
      await logged.app.inject({ url: '/api/audit/verify', headers: { authorization: `Bearer ${bearer}` }, remoteAddress: '203.0.113.7' });
      const browser = await login(logged.app, 'reviewer1');
      const sid = browser.cookies.get('sid')!;
      await browser.get('/admin/users');
      const form = new Browser(logged.app);
      await form.get('/login');
      await form.post('/login', { login: 'admin1', password: secret, next: '/' });

      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const failed = entries.filter((e) => e.msg === 'failed login');
      expect(failed.length).toBe(2);
      expect(failed[0]).toMatchObject({ login: 'applicant1', ip: '203.0.113.7' });
      expect(failed[1]).toMatchObject({ login: 'admin1' });
      const refusals = entries.filter((e) => typeof e.msg === 'string' && e.msg.startsWith('refused:'));
      expect(refusals).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ user: 'applicant1', role: 'applicant', ip: '203.0.113.7', route: '/api/audit/verify' }),
          expect.objectContaining({ user: 'reviewer1', role: 'reviewer', route: '/admin/users' }),
        ]),
      );
      const all = lines.join('\n');
      expect(all).not.toContain(secret);
      expect(all).not.toMatch(/"password"\s*:\s*"(?!\[redacted\])/);
      expect(all).not.toContain(bearer);
      expect(all).not.toContain(sid);
    } finally {
      await logged.close();
    }
  });
});
