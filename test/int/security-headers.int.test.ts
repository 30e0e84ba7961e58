import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.ts';
import { openDb, type Db } from '../../src/db/client.ts';
import { seedDemo, DEMO_PASSWORD } from '../../src/demo/seed.ts';
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
  const db = openDb({ path: ':memory:', synchronous: 'OFF' });
  await seedDemo(db);
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
        if (response.body.includes('<html') && !response.body.includes('"includeIndicatorStyles":false')) found.push(`${who} ${rule.url}: htmx may inject a <style>`);
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
