import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.ts';
import type { Db } from '../../src/db/client.ts';
import { DEMO_PASSWORD } from '../../src/demo/seed.ts';
import { demoDb } from '../demo-template.ts';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS, TOKEN_TTL_MS } from '../../src/accounts/sessions.ts';
import { sha256 } from '../../src/engine/ledger.ts';
import { Browser, api } from './http-helpers.ts';

/**
 * Sessions (issue 6), on a clock the test moves: idle and absolute expiry of cookie sessions,
 * expiring and revocable bearer tokens stored only as hashes, a new session id at every login,
 * logout, and Secure cookies behind TLS.
 */

const MINUTE = 60_000;
let db: Db;
let app: FastifyInstance;
let clock: Date;

beforeAll(async () => {
  db = await demoDb();
  clock = new Date();
  app = await buildApp({ db, now: () => clock, rateLimitMax: 100_000 });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  db.$client.close();
});

const advance = (ms: number) => {
  clock = new Date(clock.getTime() + ms);
};

async function signIn(login: string): Promise<Browser> {
  const browser = new Browser(app);
  await browser.get('/login');
  const response = await browser.post('/login', { login, password: DEMO_PASSWORD, next: '/' });
  expect(response.statusCode).toBe(303);
  return browser;
}

const signedIn = async (browser: Browser) => (await browser.get('/applications')).statusCode === 200;

function sessionRow(token: string) {
  return db.$client.prepare<[string], { revoked_at: string | null; expires_at: string; kind: string }>('SELECT revoked_at, expires_at, kind FROM sessions WHERE token_hash = ?').get(sha256(token));
}

describe('cookie sessions', () => {
  it('end after two idle hours', async () => {
    const browser = await signIn('applicant1');
    advance(SESSION_IDLE_MS - 5 * MINUTE);
    expect(await signedIn(browser)).toBe(true);
    // Activity keeps it alive…
    advance(SESSION_IDLE_MS - 5 * MINUTE);
    expect(await signedIn(browser)).toBe(true);
    // …idleness ends it.
    advance(SESSION_IDLE_MS + MINUTE);
    const response = await browser.get('/applications');
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login?next=%2Fapplications');
  });

  it('end after twelve hours however active', async () => {
    const browser = await signIn('reviewer1');
    const started = clock.getTime();
    while (clock.getTime() - started < SESSION_ABSOLUTE_MS - 90 * MINUTE) {
      advance(90 * MINUTE);
      expect(await signedIn(browser)).toBe(true);
    }
    advance(SESSION_ABSOLUTE_MS - (clock.getTime() - started) + MINUTE);
    expect(await signedIn(browser)).toBe(false);
  });

  it('get a new id at every login, and the session that was there before is revoked', async () => {
    const browser = await signIn('applicant1');
    const first = browser.cookies.get('sid')!;
    await browser.get('/login');
    await browser.post('/login', { login: 'reviewer1', password: DEMO_PASSWORD, next: '/' });
    const second = browser.cookies.get('sid')!;
    expect(second).not.toBe(first);
    expect(sessionRow(first)?.revoked_at).not.toBeNull();
    // A planted cookie (an attacker's own session) never becomes the victim's session.
    const victim = new Browser(app);
    victim.cookies.set('sid', second);
    await victim.get('/login');
    await victim.post('/login', { login: 'applicant2', password: DEMO_PASSWORD, next: '/' });
    expect(victim.cookies.get('sid')).not.toBe(second);
    const attacker = new Browser(app);
    attacker.cookies.set('sid', second);
    expect(await signedIn(attacker)).toBe(false);
  });

  it('end at logout: the old cookie no longer works', async () => {
    const browser = await signIn('coordinator1');
    const sid = browser.cookies.get('sid')!;
    await browser.get('/applications');
    const response = await browser.post('/logout', {});
    expect(response.statusCode).toBe(303);
    expect(browser.cookies.has('sid')).toBe(false);
    expect(sessionRow(sid)?.revoked_at).not.toBeNull();
    const replay = new Browser(app);
    replay.cookies.set('sid', sid);
    expect(await signedIn(replay)).toBe(false);
  });

  it('are in the security log: each sign-in and sign-out with its kind and address, a refused one not at all, and the log verifies', async () => {
    const entries = () => db.$client.prepare<[], { action: string; subject: number; details: string; actor: string }>("SELECT action, subject, details, actor FROM security_log WHERE action IN ('signed-in', 'signed-out') ORDER BY position").all();
    const before = entries().length;
    const userId = db.$client.prepare<[], { id: number }>("SELECT id FROM users WHERE login = 'reviewer2'").get()!.id;
    const refused = new Browser(app);
    await refused.get('/login');
    expect((await refused.post('/login', { login: 'reviewer2', password: 'not the password', next: '/' })).statusCode).toBe(401);
    expect(entries()).toHaveLength(before);
    const browser = await signIn('reviewer2');
    await browser.get('/applications');
    expect((await browser.post('/logout', {})).statusCode).toBe(303);
    const token = await api(app, null, 'POST', '/api/session', { login: 'reviewer2', password: DEMO_PASSWORD });
    expect((await app.inject({ method: 'DELETE', url: '/api/session', headers: { authorization: `Bearer ${token.body.token}` } })).statusCode).toBe(204);
    const added = entries().slice(before);
    expect(added.map((e) => [e.action, Number(e.subject), (JSON.parse(e.details) as { kind: string }).kind])).toEqual([
      ['signed-in', userId, 'cookie'],
      ['signed-out', userId, 'cookie'],
      ['signed-in', userId, 'bearer'],
      ['signed-out', userId, 'bearer'],
    ]);
    expect(added.every((e) => (JSON.parse(e.details) as { from: string }).from === '127.0.0.1' && (JSON.parse(e.actor) as { login: string }).login === 'reviewer2')).toBe(true);
    const { verifySecurityLog } = await import('../../src/accounts/security-log.ts');
    const verified = verifySecurityLog(db);
    expect([verified.problems, verified.differences]).toEqual([[], []]);
  });

  it('are stored only as hashes', async () => {
    const browser = await signIn('auditor1');
    const sid = browser.cookies.get('sid')!;
    const dump = JSON.stringify(db.$client.prepare('SELECT * FROM sessions').all());
    expect(dump).not.toContain(sid);
    expect(sessionRow(sid)?.kind).toBe('cookie');
  });

  it('are not accepted as API credentials, nor API tokens as cookies', async () => {
    const browser = await signIn('applicant1');
    const sid = browser.cookies.get('sid')!;
    expect((await api(app, sid, 'GET', '/api/programmes')).status).toBe(401);
    const token = (await api(app, null, 'POST', '/api/session', { login: 'applicant1', password: DEMO_PASSWORD })).body.token as string;
    const asCookie = new Browser(app);
    asCookie.cookies.set('sid', token);
    expect(await signedIn(asCookie)).toBe(false);
  });
});

describe('API bearer tokens', () => {
  it('are stored hashed, expire after 24 hours and can be revoked', async () => {
    const issued = await api(app, null, 'POST', '/api/session', { login: 'commission1', password: DEMO_PASSWORD });
    expect(issued.status).toBe(200);
    const token = issued.body.token as string;
    expect(Date.parse(issued.body.expiresAt) - clock.getTime()).toBe(TOKEN_TTL_MS);
    expect(JSON.stringify(db.$client.prepare('SELECT * FROM sessions').all())).not.toContain(token);
    expect(sessionRow(token)?.kind).toBe('bearer');
    advance(TOKEN_TTL_MS - MINUTE);
    expect((await api(app, token, 'GET', '/api/programmes')).status).toBe(200);
    advance(2 * MINUTE);
    expect((await api(app, token, 'GET', '/api/programmes')).status).toBe(401);

    const second = (await api(app, null, 'POST', '/api/session', { login: 'commission1', password: DEMO_PASSWORD })).body.token as string;
    expect((await api(app, second, 'DELETE', '/api/session')).status).toBe(204);
    expect((await api(app, second, 'GET', '/api/programmes')).status).toBe(401);
    expect((await api(app, second, 'DELETE', '/api/session')).status).toBe(401);
  });

  it('refuse malformed Authorization headers as unauthenticated', async () => {
    for (const header of ['Bearer', 'Bearer ', 'bearer abc', 'Basic YWRtaW4xOmRlbW8=', `Bearer ${'x'.repeat(10)}`, `Bearer ${'x'.repeat(300)}`, 'Bearer a b']) {
      const response = await app.inject({ url: '/api/programmes', headers: { authorization: header } });
      expect(response.statusCode, header).toBe(401);
    }
  });
});

describe('behind TLS', () => {
  it('marks the session cookie Secure when told so, or when a trusted proxy says the request came over https', async () => {
    for (const options of [{ secureCookies: true }, { trustProxy: 1 }, { trustProxy: ['127.0.0.1'] }]) {
      const secure = await buildApp({ db, ...options });
      await secure.ready();
      try {
        const browser = new Browser(secure);
        const headers = { 'x-forwarded-proto': 'https' };
        await browser.get('/login', headers);
        const response = await browser.post('/login', { login: 'applicant1', password: DEMO_PASSWORD, next: '/' }, { headers });
        const sid = [response.headers['set-cookie']].flat().find((c) => String(c).startsWith('sid='));
        expect(sid, JSON.stringify(options)).toMatch(/; Secure/);
      } finally {
        await secure.close();
      }
    }
  });
});
