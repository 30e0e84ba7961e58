import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createUser } from '../../src/accounts/user-admin.ts';
import { openSession } from '../../src/accounts/sessions.ts';
import { openDb, type Db } from '../../src/db/client.ts';
import { buildApp } from '../../src/http/app.ts';
import { DOCS_PREFIX } from '../../src/http/openapi.ts';
import { applicationEventTypes } from '../../machines/application.ts';
import { stageEventTypes } from '../../machines/stage.ts';

/**
 * The API described by its schemas (issue 10): `/api/openapi.json` is a valid OpenAPI 3.1 document
 * and documents every `/api/` route the app registers, each with who may call it, its answers and
 * the refusals its shape implies. The answers themselves are checked against it wherever a test
 * calls the API through `api()` (test/int/http-helpers.ts). No demo: the document needs none.
 */

type Operation = {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  'x-access'?: unknown;
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, any> } };

let db: Db;
let app: FastifyInstance;
let document: Document;

beforeAll(async () => {
  db = openDb({ path: ':memory:', synchronous: 'OFF' });
  app = await buildApp({ db });
  await app.ready();
  const response = await app.inject({ method: 'GET', url: '/api/openapi.json' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  document = response.json() as Document;
});

afterAll(async () => {
  await app.close();
  db.$client.close();
});

/** `/api/applications/:id` as the document writes it: `/api/applications/{id}`. */
const documentedPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');
const operations = () => Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })));
/** The API's routes: everything under /api/ but the browsable docs, which are a page and its assets. */
const apiRoutes = () => app.routeRules.filter((rule) => rule.url.startsWith('/api/') && !rule.url.startsWith(DOCS_PREFIX));

describe('the OpenAPI document', () => {
  it('is served to anyone, without signing in, and validates as OpenAPI 3.1 with every reference resolved', async () => {
    expect(document.openapi).toBe('3.1.0');
    type Spec = Parameters<Validator['validate']>[0];
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as Spec);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(() => validator.resolveRefs()).not.toThrow();
    // The validator is no rubber stamp: an answer needs its description, a parameter its place.
    const broken = structuredClone(document);
    delete (broken.paths['/api/session']!.post!.responses['200'] as { description?: string }).description;
    expect((await new Validator().validate(broken as Spec)).valid).toBe(false);
    broken.paths['/api/session']!.post!.responses['200']!.description = 'signed in';
    broken.paths['/api/programmes/{id}']!.get!.parameters![0]!.in = 'nowhere';
    expect((await new Validator().validate(broken as Spec)).valid).toBe(false);
  });

  it('documents every /api/ route the app registers, and nothing else', () => {
    const registered = apiRoutes().map((rule) => `${rule.method} ${documentedPath(rule.url)}`).sort();
    const documented = operations().map(({ method, path }) => `${method} ${path}`).sort();
    expect(registered.length).toBeGreaterThanOrEqual(27);
    expect(documented).toEqual(registered);
    // No page, no asset: the HTML routes stay out of the API's document.
    expect(Object.keys(document.paths).every((path) => path.startsWith('/api/'))).toBe(true);
  });

  it('says who may call each route, as the access table says, and asks for a bearer token unless it is public', () => {
    for (const rule of apiRoutes()) {
      const operation = document.paths[documentedPath(rule.url)]![rule.method.toLowerCase()]!;
      const where = `${rule.method} ${rule.url}`;
      expect(operation['x-access'], where).toEqual(rule.access);
      expect(operation.security, where).toEqual(rule.access === 'public' ? [] : [{ bearer: [] }]);
    }
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['Error', 'FieldProblem']));
  });

  it('gives every route a summary, a tag, its success answer and the refusals its shape implies, each with the error body', () => {
    for (const { path, method, operation } of operations()) {
      const where = `${method} ${path}`;
      const rule = apiRoutes().find((r) => r.method === method && documentedPath(r.url) === path)!;
      expect(operation.summary, where).toBeTruthy();
      expect(operation.tags?.length, where).toBeGreaterThan(0);
      const statuses = Object.keys(operation.responses);
      const success = statuses.filter((status) => status.startsWith('2'));
      expect(success.length, `${where}: a success answer`).toBe(1);
      expect(operation.responses[success[0]!]!.description, where).not.toBe('Default Response');
      if (success[0] !== '204') expect(operation.responses[success[0]!]!.content, `${where}: what the success answer holds`).toBeTruthy();
      const expected = ['429'];
      if (rule.access !== 'public') expected.push('401');
      if (Array.isArray(rule.access)) expected.push('403');
      if (path.includes('{')) expected.push('400', '404', '414');
      if (operation.requestBody) expected.push('400', '422');
      expect(statuses, where).toEqual(expect.arrayContaining(expected));
      for (const status of statuses.filter((s) => s.startsWith('4'))) {
        expect(operation.responses[status]!.content?.['application/json']?.schema, `${where} ${status}`).toEqual({ $ref: '#/components/schemas/Error' });
      }
    }
  });

  it('documents an event body as one member per event type the route takes, each with its type and expectedVersion', () => {
    const membersOf = (id: string) => {
      const union = document.components.schemas[id] as { oneOf: { properties: Record<string, { const?: string }>; oneOf?: { properties: Record<string, { const?: string }> }[] }[] };
      return union.oneOf.flatMap((member) => (member.oneOf ?? [member]).map((option) => option.properties));
    };
    const application = membersOf('ApplicationEventInput');
    // The uploads (a document, an implementation's evidence) and the decision send these; the route refuses them.
    const sentElsewhere = ['attach-document', 'attach-evidence', 'award', 'not-award'];
    expect([...new Set(application.map((properties) => properties.type!.const))].sort()).toEqual(applicationEventTypes.filter((type) => !sentElsewhere.includes(type)).sort());
    const stage = membersOf('StageEventInput');
    expect(stage.map((properties) => properties.type!.const).sort()).toEqual([...stageEventTypes].sort());
    for (const properties of [...application, ...stage]) expect(properties).toHaveProperty('expectedVersion');
    const events = document.paths['/api/applications/{id}/events']!.post!;
    expect(events.requestBody!.content['application/json']).toEqual({ schema: { $ref: '#/components/schemas/ApplicationEventInput' } });
    const upload = document.paths['/api/applications/{id}/documents']!.post!;
    expect(Object.keys(upload.requestBody!.content)).toEqual(['multipart/form-data']);
  });

  it('refuses bad input at the edge with the error contract: 422 with problems field by field, 404 for a path that names nothing', async () => {
    const login = await app.inject({ method: 'POST', url: '/api/session', payload: { login: 5 } });
    expect(login.statusCode).toBe(422);
    const body = login.json() as { error: string; message: string; problems: { field: string; code: string; params: Record<string, unknown> }[] };
    expect(body).toMatchObject({ error: 'validation', message: expect.any(String) });
    expect(body.problems).toEqual(
      expect.arrayContaining([
        // With what is allowed as parameters too (issue 16: the forms say it in the person's words).
        { field: 'login', code: 'invalid_type', params: { message: expect.any(String), expected: 'string' } },
        { field: 'password', code: 'invalid_type', params: { message: expect.any(String), expected: 'string' } },
      ]),
    );
    const user = await createUser(db, { login: 'openapi.admin', name: 'Admin', role: 'admin', password: 'a long enough passphrase' });
    const bearer = { authorization: `Bearer ${openSession(db, user.id, 'bearer').token}` };
    for (const url of ['/api/programmes/abc', '/api/programmes/0', '/api/programmes/1e3', '/api/programmes/1/stages/x/events']) {
      const method = url.endsWith('/events') ? 'POST' : 'GET';
      // Not signed in: the access rule is checked before anything is parsed.
      expect((await app.inject({ method, url })).statusCode, url).toBe(401);
      const response = await app.inject({ method, url, headers: bearer, ...(method === 'POST' ? { payload: { type: 'start', expectedVersion: 1 } } : {}) });
      expect(response.statusCode, url).toBe(method === 'POST' ? 403 : 404);
      expect(response.json()).toMatchObject({ error: method === 'POST' ? 'forbidden' : 'not-found' });
    }
    const nothing = await app.inject({ method: 'GET', url: '/api/programmes/12', headers: bearer });
    expect(nothing.statusCode).toBe(404);
    expect(nothing.json()).toEqual({ error: 'not-found', message: 'not found' });
  });
});

describe('the browsable docs', () => {
  it('are a page of our own origin under the app’s Content-Security-Policy, loading only our own scripts and styles', async () => {
    const page = await app.inject({ method: 'GET', url: DOCS_PREFIX });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.body).not.toMatch(/<style|\sstyle=/);
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(5);
    for (const asset of assets) {
      expect(asset, 'served from our origin').toMatch(new RegExp(`^${DOCS_PREFIX}/static/`));
      expect((await app.inject({ method: 'GET', url: asset })).statusCode, asset).toBe(200);
    }
    const initializer = await app.inject({ method: 'GET', url: `${DOCS_PREFIX}/static/swagger-initializer.js` });
    // The page reads the document from beside itself; no validator badge from another origin.
    expect(initializer.body).toContain("resolveUrl('./json')");
    expect(initializer.body).toContain('validatorUrl: null');
    expect((await app.inject({ method: 'GET', url: `${DOCS_PREFIX}/json` })).json()).toEqual(document);
  });
});
