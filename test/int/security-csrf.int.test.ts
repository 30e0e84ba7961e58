import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createUser } from '../../src/accounts/user-admin.ts';
import { CURRENT_PROGRAMME, completeHtmlForm, startApp, type TestApp } from './http-helpers.ts';
import {
  allowedByTable,
  browserFor,
  concreteUrl,
  digest,
  everyone,
  firstApplicationOf,
  isApi,
  totalChanges,
  unsafeMethods,
  type SampleIds,
  type Who,
} from './security-helpers.ts';

/**
 * CSRF (issue 6): every cookie-authenticated request that changes anything carries a token bound
 * to its session — in the `_csrf` field of a form, or the `x-csrf-token` header htmx sends from
 * `hx-headers` on <body>. Without it, with a forged one or with another session's, it is refused
 * and changes nothing. Routes are read from the app, so that routes added later are covered.
 */

let t: TestApp;
let ids: SampleIds;

beforeAll(async () => {
  t = await startApp();
  const spare = await createUser(t.db, { login: 'spare.user', name: 'Spare', role: 'reviewer', password: 'a long spare passphrase' });
  ids = { application: firstApplicationOf(t.db, 'applicant1'), programme: CURRENT_PROGRAMME, stage: 6, user: spare.id };
});

afterAll(async () => {
  await t.close();
});

/** The page routes that change something, with the people the table lets use each one. */
function stateChangingPageRoutes(): { method: string; url: string; who: Who[] }[] {
  return t.app.routeRules
    .filter((rule) => unsafeMethods.has(rule.method) && !isApi(rule.url))
    // One person the table lets in is enough (the check does not depend on the role), and stays under the rate limits some forms have.
    .map((rule) => ({ method: rule.method, url: concreteUrl(rule.url, ids), who: everyone.filter((who) => allowedByTable(rule, who)).slice(0, 1) }));
}

/** A body that would be accepted with its token, so that the token alone decides. */
function plausibleBody(url: string): Record<string, string> {
  if (url === '/login') return { login: 'applicant1', password: 'demo' };
  if (url === '/account/password') return { current: 'demo', password: 'a long spare passphrase', confirmation: 'a long spare passphrase' };
  if (url.endsWith('/edit')) return { ...completeHtmlForm(), expectedVersion: '1' };
  if (url.endsWith('/events')) return { type: 'withdraw', reason: 'csrf', expectedVersion: '1' };
  if (url.startsWith('/admin/municipalities')) return { name: `Поселение CSRF ${url.length}`, kind: 'settlement', population: '1200' };
  if (url === '/programmes') return { title: 'CSRF', year: '2031', region: 'Регион', timeZone: 'Europe/Moscow', fund: '1000', cap: '100', minLocalShare: '5', minResidentsShare: '3' };
  return { name: 'Иван', role: 'reviewer', password: 'a long spare passphrase', confirmation: 'a long spare passphrase' };
}

const loginOf = (who: Who) => (who === 'visitor' ? null : ({ applicant: 'applicant1', reviewer: 'reviewer1', coordinator: 'coordinator1', commission: 'commission1', auditor: 'auditor1', admin: 'admin1' } as const)[who]);

describe('CSRF', () => {
  it('finds the state-changing page routes', () => {
    const routes = stateChangingPageRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(10);
    expect(routes.every((r) => r.who.length > 0)).toBe(true);
  });

  it('refuses every state-changing form post without its token, with a forged one, and with another session’s — and changes nothing', async () => {
    const problems: string[] = [];
    let checked = 0;
    for (const route of stateChangingPageRoutes()) {
      for (const who of route.who) {
        const victim = await browserFor(t.app, t.db, loginOf(who));
        const attacker = await browserFor(t.app, t.db, loginOf(who === 'visitor' ? 'reviewer' : who));
        const body = plausibleBody(route.url);
        const attempts: [string, () => Promise<LightMyRequestResponse>][] = [
          ['no token', () => victim.post(route.url, body, { csrf: false })],
          ['an empty token', () => victim.post(route.url, { ...body, _csrf: '' })],
          ['a forged token', () => victim.post(route.url, { ...body, _csrf: 'x'.repeat(40) })],
          ['another session’s token', () => victim.post(route.url, { ...body, _csrf: attacker.csrf! })],
          ['htmx without a token', () => victim.post(route.url, body, { csrf: false, headers: { 'hx-request': 'true' } })],
          ['a token in the query string', () => victim.post(`${route.url}?_csrf=${encodeURIComponent(victim.csrf!)}`, body, { csrf: false })],
        ];
        for (const [what, send] of attempts) {
          const before = totalChanges(t.db);
          const response = await send();
          checked++;
          const where = `${who} ${route.method} ${route.url} with ${what} → ${response.statusCode}`;
          if (response.statusCode !== 403) problems.push(`${where}: not refused`);
          if (totalChanges(t.db) !== before) problems.push(`${where}: changed something`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(6 * 12);
  });

  it('takes the token from the x-csrf-token header that htmx sends from hx-headers on <body>', async () => {
    const browser = await browserFor(t.app, t.db, 'applicant1');
    const page = await browser.get(`/applications/${ids.application}`);
    expect(page.body).toMatch(/<body hx-headers='\{"x-csrf-token": "[\w-]+"\}'>/);
    const token = /"x-csrf-token": "([\w-]+)"/.exec(page.body)![1]!;
    // An htmx event post with the header only: past the CSRF check, refused (or not) on its merits.
    const response = await browser.post(`/applications/${ids.application}/events`, { type: 'no-such-event', expectedVersion: '1' }, { csrf: false, headers: { 'hx-request': 'true', 'x-csrf-token': token } });
    expect(response.statusCode).toBe(422);
  });

  it('binds the token to the session: a token from before the login is refused after it', async () => {
    const browser = await browserFor(t.app, t.db, null);
    const visitorToken = browser.csrf!;
    const login = await browser.post('/login', { login: 'applicant1', password: 'demo', next: '/' });
    expect(login.statusCode).toBe(303);
    const before = digest(t.db);
    const refused = await browser.post('/logout', { _csrf: visitorToken });
    expect(refused.statusCode).toBe(403);
    expect(digest(t.db)).toEqual(before);
    await browser.get('/applications');
    expect((await browser.post('/logout', {})).statusCode).toBe(303);
  });

  it('never lets a cookie authenticate the API, so the API needs no CSRF token', async () => {
    const browser = await browserFor(t.app, t.db, 'applicant1');
    const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const before = digest(t.db);
    const response = await t.app.inject({ method: 'POST', url: '/api/applications', headers: { cookie, 'content-type': 'application/json' }, payload: JSON.stringify({ programmeId: CURRENT_PROGRAMME, title: 'CSRF' }) });
    expect(response.statusCode).toBe(401);
    const asForm = await t.app.inject({ method: 'POST', url: '/api/applications', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'programmeId=2&title=CSRF' });
    expect(asForm.statusCode).toBe(401);
    expect(digest(t.db)).toEqual(before);
  });
});
