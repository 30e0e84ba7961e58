import { createHash } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { openSession } from '../../src/accounts/sessions.ts';
import type { Db } from '../../src/db/client.ts';
import { roles, type Role } from '../../src/domain/roles.ts';
import { allows, type RouteRule } from '../../src/http/authorization.ts';
import { stageDefinitions } from '../../machines/stages.ts';
import { Browser } from './http-helpers.ts';
import { ru } from '../../src/i18n/ru.ts';

/**
 * Helpers the security tests share: a digest of everything a request could change, credentials
 * made without a login (so that a test may use a thousand of them), and sample values for route
 * parameters, chosen by the path segment before each one so that routes added later are covered.
 */

export type Who = Role | 'visitor';
export const everyone: readonly Who[] = ['visitor', ...roles];

/** Every table but drizzle's own bookkeeping; read each time, so that tables added later count too. */
function tables(db: Db): string[] {
  return db.$client
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY name")
    .all()
    .map((row) => row.name);
}

/**
 * A digest of every row of every table. Sessions are hashed without `last_seen_at`: a read may
 * touch it (once a minute), and that is not a change of anything a person could see or use.
 */
export function digest(db: Db): Record<string, string> {
  const result: Record<string, string> = {};
  for (const table of tables(db)) {
    const rows = db.$client.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).all() as Record<string, unknown>[];
    const hash = createHash('sha256');
    for (const row of rows) {
      if (table === 'sessions') delete row.last_seen_at;
      hash.update(JSON.stringify(row));
    }
    result[table] = `${rows.length}:${hash.digest('hex').slice(0, 16)}`;
  }
  const events = db.$client.prepare<[], { n: number; head: number | null }>('SELECT count(*) AS n, max(position) AS head FROM events').get()!;
  result['events.position'] = `${events.n}/${events.head}`;
  return result;
}

/** SQLite's count of rows changed on this connection: unchanged means nothing was written, cheaply. */
export function totalChanges(db: Db): number {
  return db.$client.prepare<[], { n: number }>('SELECT total_changes() AS n').get()!.n;
}

export function userId(db: Db, login: string): number {
  const row = db.$client.prepare<[string], { id: number }>('SELECT id FROM users WHERE login = ?').get(login);
  if (!row) throw new Error(`no user ${login}`);
  return row.id;
}

/** The demo login of each role; applicant1 stands for applicants. */
export const demoLogin: Record<Role, string> = {
  applicant: 'applicant1',
  reviewer: 'reviewer1',
  coordinator: 'coordinator1',
  commission: 'commission1',
  auditor: 'auditor1',
  admin: 'admin1',
};

/** A fresh bearer token for a user, without the login's deliberate slowness. */
export function bearerFor(db: Db, login: string, now = new Date()): string {
  return openSession(db, userId(db, login), 'bearer', now).token;
}

/** A browser signed in as a user by a fresh cookie session, holding a CSRF token for that session. */
export async function browserFor(app: FastifyInstance, db: Db, login: string | null, now = new Date()): Promise<Browser> {
  const browser = new Browser(app);
  if (login) browser.cookies.set('sid', openSession(db, userId(db, login), 'cookie', now).token);
  // Any page hands out the token; the login page is one that everybody may open.
  const page = await browser.get('/login');
  if (!browser.csrf) throw new Error(`no CSRF token on /login (${page.statusCode})`);
  return browser;
}

export interface SampleIds {
  application: number;
  programme: number;
  stage: number;
  user: number;
  /** A municipality for /admin/municipalities/:id; the first one when not given. */
  municipality?: number;
}

/** A concrete URL for a route pattern: each `:param` from the segment before it, `*` a file. */
export function concreteUrl(pattern: string, ids: SampleIds): string {
  const segments = pattern.split('/');
  return segments
    .map((segment, i) => {
      if (segment === '*') return pattern.startsWith('/vendor/htmx/') ? 'htmx.min.js' : 'app.css';
      if (!segment.startsWith(':')) return segment;
      const name = segment.slice(1);
      const before = segments[i - 1] ?? '';
      if (name === 'lang') return 'en';
      if (name === 'no' || before === 'stages') return String(ids.stage);
      if (before === 'applications') return String(ids.application);
      if (before === 'programmes') return String(ids.programme);
      if (before === 'users') return String(ids.user);
      if (before === 'municipalities') return String(ids.municipality ?? 1);
      return '1';
    })
    .join('/');
}

export const isApi = (url: string) => url.startsWith('/api/');
export const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface RequestOptions {
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
  csrf?: boolean;
  now?: Date;
  /** Someone else of the role than its demo user (applicant2 rather than applicant1, say). */
  login?: string;
}

/**
 * Makes fresh credentials for someone (a bearer token for the API, a cookie session for pages, and
 * its CSRF token for a form) and returns the request, not yet sent: a test counts the database's
 * changes (or takes its digest) in between.
 * The body is an empty form or `{}` unless given.
 */
export async function prepareRequest(app: FastifyInstance, db: Db, who: Who, method: string, url: string, options: RequestOptions = {}): Promise<() => Promise<LightMyRequestResponse>> {
  const login = who === 'visitor' ? null : (options.login ?? demoLogin[who]);
  const headers: Record<string, string> = { ...options.headers };
  if (isApi(url)) {
    if (login && !headers.authorization) headers.authorization = `Bearer ${bearerFor(db, login, options.now)}`;
    const hasBody = unsafeMethods.has(method) && method !== 'DELETE';
    return () =>
      app.inject({ method: method as 'GET', url, headers: hasBody ? { 'content-type': 'application/json', ...headers } : headers, ...(hasBody ? { payload: JSON.stringify(options.body ?? {}) } : {}) });
  }
  if (!unsafeMethods.has(method)) {
    // A read needs no CSRF token: the session cookie alone, without opening a page for the token first.
    const reader = new Browser(app);
    if (login) reader.cookies.set('sid', openSession(db, userId(db, login), 'cookie', options.now).token);
    return () => reader.get(url, headers);
  }
  const browser = await browserFor(app, db, login, options.now);
  const form: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(options.body ?? {})) form[key] = Array.isArray(value) ? value.map(String) : String(value);
  if (method === 'POST') return () => browser.post(url, form, { csrf: options.csrf !== false, headers });
  const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  return () => app.inject({ method: method as 'DELETE', url, headers: { cookie, ...(options.csrf !== false ? { 'x-csrf-token': browser.csrf! } : {}), ...headers } });
}

/** Prepares and sends at once, for a test that does not compare before and after. */
export async function requestAs(app: FastifyInstance, db: Db, who: Who, method: string, url: string, options: RequestOptions = {}): Promise<LightMyRequestResponse> {
  return (await prepareRequest(app, db, who, method, url, options))();
}

/** The authorisation hook's refusals, as a client sees them. */
export function refusedByTable(response: LightMyRequestResponse, who: Who, url: string): boolean {
  if (who === 'visitor') {
    if (isApi(url)) return response.statusCode === 401 && response.body.includes('authentication required');
    return (response.statusCode === 303 && String(response.headers.location).startsWith('/login?next=')) || (response.statusCode === 401 && 'hx-redirect' in response.headers);
  }
  // A page says it in the person's words (the developer's message stays in the log), the API as it is.
  return response.statusCode === 403 && response.body.includes(isApi(url) ? 'may not use this page' : ru['error.403.text']);
}

export function allowedByTable(rule: RouteRule, who: Who): boolean {
  return allows(rule.access, who === 'visitor' ? null : who);
}

/** Opens every stage of every programme through the engine, so that every application event is in season. */
export async function openAllStages(app: FastifyInstance, db: Db): Promise<void> {
  const { sendStageEvent } = await import('../../src/workflows/stage/commands.ts');
  const coordinator = { id: userId(db, 'coordinator1'), login: 'coordinator1', name: 'coordinator', role: 'coordinator' as const, municipalityId: null };
  const programmes = db.$client.prepare<[], { id: number }>('SELECT id FROM programmes ORDER BY id').all();
  for (const { id } of programmes) {
    for (const definition of stageDefinitions) {
      const row = db.$client.prepare<[number, number], { state: string; version: number }>('SELECT state, version FROM stages WHERE programme_id = ? AND no = ?').get(id, definition.no);
      if (!row || row.state === 'active') continue;
      if (row.state === 'planned') sendStageEvent(app.engine, coordinator, id, definition.no, 'start', {}, row.version);
      else sendStageEvent(app.engine, coordinator, id, definition.no, 'reopen', { reason: 'security test: every event in season' }, row.version);
    }
  }
}

export function firstApplicationOf(db: Db, login: string): number {
  const row = db.$client
    .prepare<[string], { id: number }>('SELECT a.id FROM applications a JOIN users u ON u.municipality_id = a.municipality_id WHERE u.login = ? ORDER BY a.id LIMIT 1')
    .get(login);
  if (!row) throw new Error(`${login} has no application`);
  return row.id;
}
