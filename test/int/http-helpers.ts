import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { recordSetting } from '../../src/engine/settings-log.ts';
import { expect } from 'vitest';
import { buildApp } from '../../src/http/app.ts';
import type { Db } from '../../src/db/client.ts';
import { DEMO_PASSWORD } from '../../src/demo/seed.ts';
import { demoDb } from '../demo-template.ts';
import { responseChecker } from './openapi-check.ts';

/** The current year's programme of the demo, with its intake running. */
export const CURRENT_PROGRAMME = 2;

export interface TestApp {
  app: FastifyInstance;
  db: Db;
  close(): Promise<void>;
}

/**
 * Lets the demo's programmes ask for no documents (issue 7), for the journeys that are about the
 * form and the workflow; the documents have their own tests. Events already written keep theirs.
 */
export function withoutDocumentRequirements(db: Db): void {
  const keys = db.$client.prepare<[], { key: string }>("SELECT programme_id || '/' || project_type || '/' || kind AS key FROM document_requirements").all();
  db.$client.transaction(() => {
    db.$client.prepare('DELETE FROM document_requirements').run();
    // Each removal entered in the settings log, as the admin's page does (issue 17.2).
    for (const { key } of keys) recordSetting(db.$client, 'document_requirements', key, new Date(), null);
  })();
}

/** A fresh in-memory copy of the demo (and of its documents), and the app over it; `close` closes both. */
export async function startApp(options: { documentRequirements?: boolean } = {}): Promise<TestApp> {
  const db = await demoDb();
  if (options.documentRequirements === false) withoutDocumentRequirements(db);
  // These tests send many requests from one address; the rate limit has its own tests elsewhere.
  const app = await buildApp({ db, rateLimitMax: 100_000 });
  await app.ready();
  return {
    app,
    db,
    async close() {
      await app.close();
      db.$client.close();
    },
  };
}

/** The `_csrf` hidden field of a page, as a browser would send it back. */
export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('the page has no _csrf field');
  return match[1]!;
}

/** The hidden `expectedVersion` of a page's first form that carries one. */
export function expectedVersionOf(html: string): string {
  const match = /name="expectedVersion" value="(\d+)"/.exec(html);
  if (!match) throw new Error('the page has no expectedVersion field');
  return match[1]!;
}

type Form = Record<string, string | string[]>;

/**
 * A browser over `app.inject`: keeps the cookies the server sets, remembers the last page's CSRF
 * token and sends it with the next form unless told otherwise.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  csrf: string | undefined;

  constructor(readonly app: FastifyInstance) {}

  private keep(response: LightMyRequestResponse) {
    const header = response.headers['set-cookie'];
    const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
    for (const line of lines) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now()));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const type = response.headers['content-type'];
    if (typeof type === 'string' && type.startsWith('text/html')) {
      const match = /name="_csrf" value="([^"]+)"/.exec(response.body);
      if (match) this.csrf = match[1];
    }
    return response;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.keep(await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader(), ...headers } }));
  }

  /** Posts an urlencoded form; `_csrf` comes from the last page unless the form says otherwise or `csrf: false`. */
  async post(url: string, form: Form, options: { csrf?: boolean; headers?: Record<string, string> } = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams();
    const withCsrf = options.csrf !== false && !('_csrf' in form);
    if (withCsrf) {
      if (!this.csrf) throw new Error('no page with a CSRF token was opened yet');
      body.append('_csrf', this.csrf);
    }
    for (const [key, value] of Object.entries(form)) for (const v of Array.isArray(value) ? value : [value]) body.append(key, v);
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
        payload: body.toString(),
      }),
    );
  }
}

/** A browser signed in as `login` through the login form. */
export async function login(app: FastifyInstance, userLogin: string): Promise<Browser> {
  const browser = new Browser(app);
  const page = await browser.get('/login');
  expect(page.statusCode).toBe(200);
  const response = await browser.post('/login', { login: userLogin, password: DEMO_PASSWORD, next: '/' });
  expect(response.statusCode, response.body).toBe(303);
  expect(browser.cookies.has('sid')).toBe(true);
  return browser;
}

/** A bearer token for the API. */
export async function token(app: FastifyInstance, userLogin: string): Promise<string> {
  const response = await api<{ token: string }>(app, null, 'POST', '/api/session', { login: userLogin, password: DEMO_PASSWORD });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.token;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: LightMyRequestResponse['headers'];
}

/**
 * One API call with a bearer token; `payload` strings go as they are (for malformed bodies). The
 * answer must be what the app's OpenAPI document says the route answers with that status: the
 * test fails on any difference (test/int/openapi-check.ts).
 */
export async function api<T = any>(
  app: FastifyInstance,
  bearer: string | null,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse<T>> {
  const allHeaders: Record<string, string> = { ...headers };
  if (bearer) allHeaders.authorization = `Bearer ${bearer}`;
  if (payload !== undefined && !('content-type' in allHeaders)) allHeaders['content-type'] = 'application/json';
  const response = await app.inject({
    method,
    url,
    headers: allHeaders,
    ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
  });
  let body: unknown = response.body;
  try {
    body = response.json();
  } catch {
    // not JSON: keep the text
  }
  expectDocumented(app, method, url, response, body);
  return { status: response.statusCode, body: body as T, headers: response.headers };
}

/** Fails the test when an answer is not what /api/openapi.json says the route answers with that status. */
function expectDocumented(app: FastifyInstance, method: string, url: string, response: LightMyRequestResponse, body: unknown) {
  const contentType = response.headers['content-type'];
  const mismatches = responseChecker(app).problems(method, url, response.statusCode, typeof contentType === 'string' ? contentType : undefined, body);
  expect(mismatches, `the answer of ${method} ${url} differs from /api/openapi.json`).toEqual([]);
}

/** `app.inject` for what `api()` cannot send (a multipart upload, a download), with the same check against the document. */
export async function checkedInject(app: FastifyInstance, options: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; headers?: Record<string, string>; payload?: string | Buffer }): Promise<LightMyRequestResponse> {
  const response = await app.inject(options);
  let body: unknown = response.body;
  if (String(response.headers['content-type']).startsWith('application/json')) body = response.json();
  expectDocumented(app, options.method, options.url, response, body);
  return response;
}

/** How many events the log holds: a refused request must leave it as it was. */
export function eventCount(db: Db): number {
  return db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()!.n;
}

/** The stored state and version of an application, read straight from the database. */
export function storedApplication(db: Db, id: number): { state: string; version: number; snapshot: string } {
  const row = db.$client
    .prepare<[number], { state: string; version: number; snapshot: string }>(
      'SELECT s.state, s.version, s.snapshot FROM applications a JOIN streams s ON s.id = a.stream_id WHERE a.id = ?',
    )
    .get(id);
  if (!row) throw new Error(`application ${id} is not stored`);
  return row;
}

/** A complete form in the API's shape that meets the demo programme's rules (money in kopecks). */
export function completeForm() {
  return {
    title: 'Ремонт водопровода по ул. Садовой',
    projectType: 'water-supply',
    settlement: 'с. Завьялово',
    population: 1200,
    beneficiaries: 800,
    meetingAttendance: 150,
    problem: 'Старый водопровод часто прорывает, вода подаётся с перебоями.',
    description: 'Замена 900 м трубы, установка двух водоразборных колонок.',
    durationMonths: 6,
    costs: { subsidy: 90_000_000, localBudget: 10_000_000, residents: 5_000_000, business: 2_000_000 },
  };
}

/** The same form as the HTML page posts it: names as the form names them, money in roubles. */
export function completeHtmlForm(): Record<string, string> {
  return {
    title: 'Ремонт водопровода по ул. Садовой',
    projectType: 'water-supply',
    settlement: 'с. Завьялово',
    population: '1200',
    beneficiaries: '800',
    meetingAttendance: '150',
    problem: 'Старый водопровод часто прорывает, вода подаётся с перебоями.',
    description: 'Замена 900 м трубы, установка двух водоразборных колонок.',
    durationMonths: '6',
    'costs.subsidy': '900000,00',
    'costs.localBudget': '100000,00',
    'costs.residents': '50000,00',
    'costs.business': '20000,00',
  };
}

/**
 * The ledger page with its verification followed to the end (issue 17). On a file database the
 * job runs in a worker thread and the page shows its progress first, polling the job's fragment;
 * this waits for the job itself (no timing) and answers the fragment its report fills. On an
 * in-memory database the page holds the report already, and is answered as it is.
 */
export async function ledgerReport(app: FastifyInstance, browser: Browser, url = '/audit/ledger'): Promise<LightMyRequestResponse> {
  const page = await browser.get(url);
  expect(page.statusCode, page.body).toBe(200);
  const job = /id="ledger-job" class="ledger-job" data-state="(\w+)" data-job="([0-9a-f]{16})"/.exec(page.body);
  expect(job, 'the ledger page shows a verification job').not.toBeNull();
  if (job![1] !== 'running') return page;
  expect(page.body).toContain(`hx-get="/audit/ledger/jobs/${job![2]}" hx-trigger="every 1s"`);
  await app.verifyJobs.get(job![2]!)!.finished;
  const lang = new URL(url, 'http://localhost').searchParams.get('lang');
  const fragment = await browser.get(`/audit/ledger/jobs/${job![2]}${lang ? `?lang=${lang}` : ''}`, { 'hx-request': 'true' });
  expect(fragment.statusCode).toBe(200);
  expect(fragment.body).not.toContain('hx-trigger');
  return fragment;
}
