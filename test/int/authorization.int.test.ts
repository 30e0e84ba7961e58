import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roles, type Role } from '../../src/domain/roles.ts';
import { access, allows, eventTable, routeTable, type RouteRule } from '../../src/http/authorization.ts';
import { applicationEventRoles } from '../../machines/application.ts';
import { stageEventRoles } from '../../machines/stage.ts';
import { createUser } from '../../src/accounts/user-admin.ts';
import { CURRENT_PROGRAMME, startApp, type TestApp } from './http-helpers.ts';
import {
  allowedByTable,
  bearerFor,
  concreteUrl,
  everyone,
  firstApplicationOf,
  openAllStages,
  prepareRequest,
  refusedByTable,
  requestAs,
  totalChanges,
  type SampleIds,
} from './security-helpers.ts';
import { multipart, samples } from './document-samples.ts';

/**
 * The authorisation table (issue 6), walked whole: every role (and a visitor) against every
 * route the app registers, and every role against every event type of every registered machine.
 * Routes and events added later are walked too: the routes come from the app's own record of
 * them, the events from the machine registry.
 */

/**
 * Who may use each route, written out by hand (issue 10): the route table the app declares must say
 * exactly this, so that a change of access is a change of this table too, made on purpose. A route
 * added later fails the test below until it is added here.
 */
type Expected = 'public' | 'signed in' | readonly Role[];
const staff = ['reviewer', 'coordinator', 'commission', 'auditor', 'admin'] as const;
const auditors = ['auditor', 'admin'] as const;
const eventSenders = ['applicant', 'reviewer', 'coordinator', 'commission'] as const;
const expectedAccess: Record<string, Expected> = {
  'HEAD /static/*': 'public',
  'GET /static/*': 'public',
  'HEAD /vendor/htmx/*': 'public',
  'GET /vendor/htmx/*': 'public',
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /login': 'public',
  'POST /login': 'public',
  'POST /logout': 'signed in',
  'GET /lang/:lang': 'public',
  'POST /api/session': 'public',
  'DELETE /api/session': 'signed in',
  'GET /account/password': 'signed in',
  'POST /account/password': 'signed in',

  // The public portal (issue 15): a visitor's home page; a signed-in person is sent on to their landing page.
  'GET /': 'public',
  'GET /p/:programmeId': 'public',
  'GET /p/:programmeId/applications': 'public',
  'GET /p/:programmeId/results': 'public',
  'GET /p/:programmeId/projects/:id': 'public',
  'GET /p/:programmeId/projects/:id/photos/:sha256': 'public',
  'GET /p/:programmeId/projects/:id/documents/:sha256': 'public',
  'GET /api/public/programmes': 'public',
  'GET /api/public/programmes/:programmeId': 'public',
  'GET /api/public/programmes/:programmeId/applications': 'public',
  'GET /api/public/programmes/:programmeId/results': 'public',
  'GET /api/public/programmes/:programmeId/projects/:id': 'public',
  'GET /applications': 'signed in',
  'GET /queue': staff,
  'GET /queue/next': staff,
  'POST /queue/assign': ['coordinator'],
  'GET /account/conflicts': ['reviewer'],
  'POST /account/conflicts': ['reviewer'],
  'POST /account/conflicts/:municipalityId/withdraw': ['reviewer'],
  'GET /api/reviewers/:id/conflicts': staff,
  'POST /api/reviewers/:id/events': ['reviewer'],
  'POST /applications/:id/documents/accept-all': ['reviewer'],
  'GET /programmes/:id/journal': 'signed in',
  'GET /programmes/:id/journal/new': ['reviewer', 'coordinator'],
  'POST /programmes/:id/journal': ['reviewer', 'coordinator'],
  'GET /programmes/:id/journal/:entryId': 'signed in',
  'POST /programmes/:id/journal/:entryId/documents': ['reviewer', 'coordinator'],
  'POST /programmes/:id/journal/:entryId/link': ['reviewer', 'coordinator'],
  'GET /programmes/:id/journal/:entryId/documents/:sha256': 'signed in',
  'GET /programmes/:id/coverage': staff,
  'GET /programmes/:id/coverage.csv': staff,
  'POST /applications/:id/documents/from-journal': ['applicant'],
  'GET /api/programmes/:id/journal': 'signed in',
  'POST /api/programmes/:id/journal': ['reviewer', 'coordinator'],
  'GET /api/programmes/:id/journal/:entryId': 'signed in',
  'POST /api/programmes/:id/journal/:entryId/events': ['reviewer', 'coordinator'],
  'POST /api/programmes/:id/journal/:entryId/documents': ['reviewer', 'coordinator'],
  'GET /api/programmes/:id/coverage': staff,
  // The register of applications and the programme code (issue 13).
  'GET /programmes/:id/register': staff,
  'GET /programmes/:id/register.csv': staff,
  'GET /programmes/:id/register.xlsx': staff,
  'GET /api/programmes/:id/register': staff,
  // The analytical report (issue 13); the programme's open data needs no sign-in.
  'GET /programmes/:id/report': staff,
  'GET /programmes/:id/report.xlsx': staff,
  'GET /api/programmes/:id/report': staff,
  'POST /programmes/:id/report/recommendations': ['coordinator'],
  'GET /api/programmes/:id/register.csv': 'public',
  'GET /api/programmes/:id/report.xlsx': 'public',
  // The coordinator's dashboard (issue 13): the coordinator, the admin, and the auditor reading.
  'GET /dashboard': ['coordinator', 'auditor', 'admin'],
  'GET /programmes/:id/dashboard': ['coordinator', 'auditor', 'admin'],
  'GET /api/programmes/:id/dashboard': ['coordinator', 'auditor', 'admin'],
  'POST /programmes/:id/code': ['admin'],
  'POST /programmes/:id/savings-rule': ['admin'],
  'POST /api/applications/:id/documents/from-journal': ['applicant'],
  'GET /applications/new': ['applicant'],
  'POST /applications': ['applicant'],
  'GET /applications/:id': 'signed in',
  'GET /applications/:id/edit': ['applicant'],
  'POST /applications/:id/edit': ['applicant'],
  'POST /applications/:id/events': eventSenders,
  'POST /applications/:id/documents': ['applicant'],
  'POST /applications/:id/evidence': ['applicant', 'coordinator'],
  'POST /programmes/:id/stages/:no/contributions': ['applicant', 'coordinator'],
  'POST /applications/:id/documents/:kind/review': ['reviewer'],
  'GET /applications/:id/documents/:sha256': 'signed in',
  'GET /applications/:id/documents/:sha256/preview': 'signed in',

  'POST /api/applications': ['applicant'],
  'GET /api/applications': 'signed in',
  'GET /api/applications/:id': 'signed in',
  'POST /api/applications/:id/events': eventSenders,
  'GET /api/applications/:id/history': 'signed in',
  'GET /api/applications/:id/history.json': 'signed in',
  'GET /api/applications/:id/history.csv': 'signed in',
  'GET /api/applications/:id/replay': 'signed in',
  'POST /api/applications/:id/documents': ['applicant'],
  'GET /api/applications/:id/documents': 'signed in',
  'POST /api/applications/:id/evidence': ['applicant', 'coordinator'],
  'GET /api/applications/:id/implementation': 'signed in',
  'GET /api/applications/:id/documents/:sha256': 'signed in',
  'POST /api/applications/:id/documents/:kind/review': ['reviewer'],

  'GET /programmes': 'signed in',
  'GET /programmes/new': ['admin'],
  'POST /programmes': ['admin'],
  'GET /programmes/:id': 'signed in',
  'GET /programmes/:id/stages/:no': 'signed in',
  'POST /programmes/:id/stages/:no/events': ['coordinator'],
  'GET /programmes/:id/commission': staff,
  'GET /programmes/:id/commission/ranking': staff,
  'POST /programmes/:id/commission/scores': ['commission'],
  'POST /programmes/:id/commission/decision': ['commission'],
  'GET /programmes/:id/protocol': 'signed in',
  'GET /programmes/:id/ranking.csv': 'signed in',
  'GET /programmes/:id/ranking.xlsx': 'signed in',
  'GET /programmes/:id/criteria': staff,
  'POST /programmes/:id/criteria': ['admin'],
  'GET /programmes/:id/documents': 'signed in',
  'POST /programmes/:id/documents': ['admin'],
  'POST /programmes/:id/documents/remove': ['admin'],
  'POST /programmes/:id/documents/public': ['admin'],

  'GET /api/programmes': 'signed in',
  'POST /api/programmes': ['admin'],
  'GET /api/programmes/:id': 'signed in',
  'POST /api/programmes/:id/stages/:no/events': ['coordinator'],
  'GET /api/programmes/:id/ranking': 'signed in',
  'GET /api/programmes/:id/criteria': 'signed in',
  'PUT /api/programmes/:id/criteria': ['admin'],
  'GET /api/programmes/:id/decision': 'signed in',
  'POST /api/programmes/:id/decision': ['commission'],
  'GET /api/programmes/:id/document-requirements': 'signed in',
  'PUT /api/programmes/:id/document-requirements': ['admin'],
  'DELETE /api/programmes/:id/document-requirements/:projectType/:kind': ['admin'],

  // The API describes itself to anyone (issue 10, point 5): the document, and swagger-ui's page and files.
  'GET /api/openapi.json': 'public',
  'GET /api/docs': 'public',
  'HEAD /api/docs/': 'public',
  'GET /api/docs/json': 'public',
  'GET /api/docs/yaml': 'public',
  'HEAD /api/docs/static/*': 'public',
  'GET /api/docs/static/*': 'public',
  'GET /api/docs/static/index.html': 'public',
  'GET /api/docs/static/swagger-initializer.js': 'public',

  'GET /api/audit/verify': auditors,
  'POST /api/audit/verify': auditors,
  'GET /api/audit/verify/:job': auditors,
  'GET /audit': 'signed in',
  'GET /audit/applications/:id': 'signed in',
  'GET /audit/applications/:id/verify': 'signed in',
  'GET /audit/applications/:id/replay': 'signed in',
  'GET /audit/applications/:id/history.json': 'signed in',
  'GET /audit/applications/:id/history.csv': 'signed in',
  'GET /audit/ledger': auditors,
  'POST /audit/ledger': auditors,
  'GET /audit/ledger/jobs/:job': auditors,
  'GET /audit/security-log': auditors,
  'GET /audit/machines': 'signed in',

  'GET /admin/users': ['admin'],
  'GET /admin/users/new': ['admin'],
  'POST /admin/users': ['admin'],
  'GET /admin/users/:id': ['admin'],
  'POST /admin/users/:id': ['admin'],
  'POST /admin/users/:id/password': ['admin'],
  'POST /admin/users/:id/sessions/revoke': ['admin'],
  'POST /admin/users/:id/deactivate': ['admin'],
  'POST /admin/users/:id/activate': ['admin'],
  'GET /admin/access': auditors,
  'GET /admin/municipalities': ['admin'],
  'POST /admin/municipalities': ['admin'],
  'GET /admin/municipalities/:id': ['admin'],
  'POST /admin/municipalities/:id': ['admin'],

  // Communications (issue 12).
  'POST /applications/:id/messages': ['applicant', 'reviewer', 'coordinator'],
  'GET /applications/:id/conversation': 'signed in',
  'GET /applications/:id/messages/:seq/files/:sha256': 'signed in',
  'GET /api/applications/:id/messages': 'signed in',
  'POST /api/applications/:id/messages': ['applicant', 'reviewer', 'coordinator'],
  'GET /api/applications/:id/messages/:seq/files/:sha256': 'signed in',
  'GET /notifications': 'signed in',
  'GET /notifications/count': 'signed in',
  'POST /notifications/read': 'signed in',
  'POST /notifications/:id/open': 'signed in',
  'GET /account/notifications': 'signed in',
  'POST /account/notifications': 'signed in',
  'GET /api/notifications': 'signed in',
  'POST /api/notifications/read': 'signed in',
  'GET /admin/mail': ['admin'],
  'POST /admin/mail/:id/retry': ['admin'],
  'GET /programmes/:id/deadlines': ['admin'],
  'POST /programmes/:id/deadlines': ['admin'],
  'POST /programmes/:id/stages/:no/inform': ['coordinator'],
  'GET /api/programmes/:id/informing': staff,
  'POST /api/programmes/:id/informing': ['coordinator'],
};

/** Who may send each event, by hand, machine by machine (the engine enforces the machines' own lists). */
const expectedEventRoles: Record<string, Record<string, readonly Role[]>> = {
  application: {
    update: ['applicant'],
    submit: ['applicant'],
    withdraw: ['applicant'],
    'attach-document': ['applicant'],
    'start-review': ['reviewer'],
    'return-for-revision': ['reviewer'],
    'review-document': ['reviewer'],
    accept: ['reviewer'],
    reject: ['reviewer'],
    score: ['commission'],
    award: ['commission'],
    'not-award': ['commission'],
    'start-implementation': ['coordinator'],
    'sign-agreement': ['coordinator'],
    'record-contribution': ['applicant', 'coordinator'],
    'cancel-contribution': ['applicant', 'coordinator'],
    'confirm-contributions': ['coordinator'],
    'sign-contract': ['applicant', 'coordinator'],
    'record-milestone': ['applicant', 'coordinator'],
    'report-progress': ['applicant', 'coordinator'],
    'attach-evidence': ['applicant', 'coordinator'],
    'complete-works': ['coordinator'],
    'record-monitoring': ['coordinator'],
    'resolve-issue': ['coordinator'],
    'report-spending': ['applicant', 'coordinator'],
    close: ['coordinator'],
    terminate: ['coordinator'],
    assign: ['coordinator'],
    take: ['reviewer'],
    release: ['coordinator', 'reviewer'],
  },
  journal: {
    'attach-document': ['reviewer', 'coordinator'],
    'link-application': ['reviewer', 'coordinator'],
    supersede: ['reviewer', 'coordinator'],
  },
  reviewer: {
    'declare-conflict': ['reviewer'],
    'withdraw-conflict': ['reviewer'],
  },
  stage: {
    schedule: ['coordinator'],
    start: ['coordinator'],
    'complete-task': ['coordinator'],
    'reopen-task': ['coordinator'],
    complete: ['coordinator'],
    reopen: ['coordinator'],
    'record-recommendations': ['coordinator'],
  },
  conversation: {
    'post-message': ['applicant', 'reviewer', 'coordinator'],
  },
};

/** Who of the visitors and roles the expected rule lets in, read without the app's `allows`. */
function expectedCallers(rule: Expected): string[] {
  if (rule === 'public') return [...everyone];
  if (rule === 'signed in') return [...roles];
  return roles.filter((role) => rule.includes(role));
}

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

describe('the route table', () => {
  it('has a rule for every route; a route without one would refuse everybody', () => {
    const rules = t.app.routeRules;
    expect(rules.length).toBeGreaterThan(20);
    expect(rules.filter((r) => r.access === undefined).map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });

  it('lets the roles that may send some event use the event routes, and no one else', () => {
    const roleSet = (list: readonly Role[]) => [...list].sort();
    const rule = (method: string, url: string) => t.app.routeRules.find((r) => r.method === method && r.url === url)?.access;
    const senders = roles.filter((role) => Object.values(applicationEventRoles).some((list) => list.includes(role)));
    expect(roleSet(rule('POST', '/api/applications/:id/events') as Role[])).toEqual(roleSet(senders));
    expect(roleSet(rule('POST', '/applications/:id/events') as Role[])).toEqual(roleSet(senders));
    expect(roleSet(access.stageEvents)).toEqual(roleSet(roles.filter((role) => Object.values(stageEventRoles).some((list) => list.includes(role)))));
  });

  it('keeps the auditor read-only and user administration to admins, whatever routes are added', () => {
    // An auditor signs in and out and changes its own password; nothing else it sends changes anything.
    // And its own inbox and notification settings (issue 12): read marks and choices, no record of the programme.
    // And starting a verification job (issue 17): it reads the ledger and keeps only where it found each stream sound.
    const sessionRoutes = new Set([
      'POST /login',
      'POST /logout',
      'POST /api/session',
      'DELETE /api/session',
      'POST /account/password',
      'POST /notifications/read',
      'POST /notifications/:id/open',
      'POST /api/notifications/read',
      'POST /account/notifications',
      'POST /api/audit/verify',
      'POST /audit/ledger',
    ]);
    const writesForAuditor = t.app.routeRules.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) && allows(r.access, 'auditor') && !sessionRoutes.has(`${r.method} ${r.url}`));
    expect(writesForAuditor.map((r) => `${r.method} ${r.url}`)).toEqual([]);
    const userAdmin = t.app.routeRules.filter((r) => r.url.startsWith('/admin/users'));
    expect(userAdmin.length).toBeGreaterThanOrEqual(8);
    for (const rule of userAdmin) expect(rule.access, `${rule.method} ${rule.url}`).toEqual(['admin']);
    const municipalityAdmin = t.app.routeRules.filter((r) => r.url.startsWith('/admin/municipalities'));
    expect(municipalityAdmin.map((r) => `${r.method} ${r.url}`).sort()).toEqual(['GET /admin/municipalities', 'GET /admin/municipalities/:id', 'POST /admin/municipalities', 'POST /admin/municipalities/:id']);
    for (const rule of municipalityAdmin) expect(rule.access, `${rule.method} ${rule.url}`).toEqual(['admin']);
    for (const type of Object.keys(applicationEventRoles)) expect(applicationEventRoles[type as keyof typeof applicationEventRoles]).not.toContain('auditor');
  });

  it('is the table written out above: every route lets in exactly whom it says, and no route is missing from it', () => {
    const declared = Object.fromEntries(routeTable(t.app).map((row) => [`${row.method} ${row.url}`, everyone.filter((who) => row.allowed[who])]));
    const expected = Object.fromEntries(Object.entries(expectedAccess).map(([route, rule]) => [route, expectedCallers(rule)]));
    // A new route shows here as a key the table lacks: add it above with whom it lets in.
    expect(declared).toEqual(expected);
  });

  it('is one table: eventTable says what the engine enforces, and that is the table written out above', () => {
    expect(eventTable(t.app.engine.registry).application).toBe(applicationEventRoles);
    expect(eventTable(t.app.engine.registry).stage).toBe(stageEventRoles);
    const sorted = (table: Record<string, Record<string, readonly Role[]>>) =>
      Object.fromEntries(Object.entries(table).map(([machine, events]) => [machine, Object.fromEntries(Object.entries(events).map(([type, list]) => [type, [...list].sort()]))]));
    expect(sorted(eventTable(t.app.engine.registry))).toEqual(sorted(expectedEventRoles));
  });

  it('walks every role × every route: exactly what the table allows is let through, and every refusal changes nothing', async () => {
    const rules: RouteRule[] = t.app.routeRules;
    const mismatches: string[] = [];
    let refusals = 0;
    let admissions = 0;
    for (const rule of rules) {
      const url = concreteUrl(rule.url, ids);
      for (const who of everyone) {
        const allowed = allowedByTable(rule, who);
        const send = await prepareRequest(t.app, t.db, who, rule.method, url);
        const before = totalChanges(t.db);
        const response = await send();
        const refused = refusedByTable(response, who, url);
        const where = `${who} ${rule.method} ${url} → ${response.statusCode}`;
        if (response.statusCode >= 500) mismatches.push(`${where}: a server error`);
        // A 403 from a route the table lets in would be a second, hidden table: the decision is the table's alone.
        if (allowed && (refused || response.statusCode === 403)) mismatches.push(`${where}: refused, but the table allows it`);
        if (!allowed && !refused) mismatches.push(`${where}: let through, but the table refuses it (${response.body.slice(0, 120)})`);
        if (!allowed) {
          refusals++;
          // The fresh credentials were made before `before`; the refusal itself may write no row.
          const wrote = totalChanges(t.db) - before;
          if (wrote !== 0) mismatches.push(`${where}: the refusal wrote ${wrote} row(s)`);
        } else admissions++;
      }
    }
    expect(mismatches).toEqual([]);
    expect(refusals).toBeGreaterThan(50);
    expect(admissions).toBeGreaterThan(50);
    // Every route × seven callers, each with fresh credentials: ~25 s alone, more beside other files on two cores.
  }, 120_000);
});

/** A payload each known event takes; an event added later is tried with `{}` (its refusals are still checked). */
function payloadFor(type: string, context: Record<string, any>, ids: { reviewerId: number } = { reviewerId: 0 }): Record<string, unknown> {
  const tasks = (context.tasks ?? []) as { key: string; done: boolean }[];
  const declared = ((context.conflicts ?? []) as { municipalityId: number }[]).map((conflict) => conflict.municipalityId);
  const payloads: Record<string, Record<string, unknown>> = {
    update: { beneficiaries: 321 },
    'return-for-revision': { remarks: [{ field: 'general', text: 'Уточните смету.' }] },
    reject: { reason: 'Не соответствует условиям.' },
    withdraw: { reason: 'Передумали.' },
    terminate: { reason: 'Подрядчик ушёл.' },
    score: { significance: 4 },
    award: { amountKopecks: 100 },
    'sign-agreement': { agreementNo: 'С-1', signedOn: '2020-01-01', amounts: { localBudget: 0, residents: 0, business: 0, ...(context.form?.costs ?? {}), subsidy: Number(context.awardedKopecks ?? 0) } },
    'record-contribution': { source: 'residents', amountKopecks: 100, receivedOn: '2020-01-01' },
    'cancel-contribution': { seq: ((context.contributions ?? []) as { seq: number }[])[0]?.seq ?? 1, reason: 'Ошибка.' },
    'sign-contract': { contractNo: '1', signedOn: '2020-01-01', contractor: 'ООО «Подрядчик»', contractorInn: '1852601814', priceKopecks: 100 },
    'record-milestone': { kind: 'works-started', on: '2020-01-01' },
    'report-progress': { percent: 90 },
    'record-monitoring': { visitedOn: '2020-01-01', inspector: 'Иванов', verdict: 'ok', finding: 'Всё по плану.' },
    'resolve-issue': { seq: ((context.visits ?? []) as { seq: number; verdict: string; resolution: unknown }[]).find((v) => v.verdict === 'issues' && !v.resolution)?.seq ?? 1, note: 'Устранено.' },
    'report-spending': { actual: { subsidy: 0, localBudget: 0, residents: 0, business: 0 } },
    schedule: { plannedStart: '2030-01-01', plannedEnd: '2030-02-01' },
    'complete-task': { task: tasks.find((task) => !task.done)?.key ?? 'none' },
    'reopen-task': { task: tasks.find((task) => task.done)?.key ?? 'none' },
    reopen: { reason: 'Повторная проверка.' },
    'record-recommendations': { text: 'Рекомендации по итогам.' },
    'review-document': { kind: 'meeting-minutes', verdict: 'remark', remark: 'Протокол не подписан.' },
    assign: { reviewerId: ids.reviewerId },
    'declare-conflict': { municipalityId: [1, 2, 3, 4].find((id) => !declared.includes(id)) ?? 5, reason: 'Работает в администрации.' },
    'withdraw-conflict': { municipalityId: declared[0] ?? 1 },
    'post-message': { text: 'Вопрос по заявке.' },
  };
  return payloads[type] ?? {};
}

interface Stream {
  id: string;
  machineId: string;
  state: string;
  version: number;
  snapshot: string;
}

describe('the event table', () => {
  it('walks every role × every event type of every machine: exactly the roles the table names may send it, and every refusal changes nothing', async () => {
    await openAllStages(t.app, t.db);
    // And a new programme whose stages are all still planned, for the events that planned stages take.
    const created = await requestAs(t.app, t.db, 'admin', 'POST', '/api/programmes', {
      body: { title: 'Новая программа', year: 2031, region: 'Удмуртская Республика', timeZone: 'Europe/Samara', fundKopecks: 1_000_000_00, capKopecks: 10_000_00, minLocalShareBp: 500, minResidentsShareBp: 300 },
    });
    expect(created.statusCode, created.body).toBe(201);
    const sqlite = t.db.$client;
    const applicantOf = new Map(
      sqlite.prepare<[], { municipality_id: number; login: string }>("SELECT municipality_id, min(login) AS login FROM users WHERE role = 'applicant' AND active = 1 GROUP BY municipality_id").all().map((r) => [r.municipality_id, r.login]),
    );
    /** How each machine's events reach the app from outside: the route and the sender's login. */
    const routeFor = (stream: Stream, role: Role): { url: string; login: string } | null => {
      if (stream.machineId === 'application') {
        const app = sqlite.prepare<[string], { id: number; municipality_id: number }>('SELECT id, municipality_id FROM applications WHERE stream_id = ?').get(stream.id)!;
        return { url: `/api/applications/${app.id}/events`, login: role === 'applicant' ? applicantOf.get(app.municipality_id)! : `${role}1` };
      }
      if (stream.machineId === 'reviewer') {
        const owner = sqlite.prepare<[number], { login: string }>('SELECT login FROM users WHERE id = ?').get(Number(stream.id.replace('reviewer-', '')))!;
        return { url: `/api/reviewers/${stream.id.replace('reviewer-', '')}/events`, login: role === 'reviewer' ? owner.login : role === 'applicant' ? 'applicant1' : `${role}1` };
      }
      if (stream.machineId === 'conversation') {
        const app = sqlite.prepare<[number], { id: number; municipality_id: number }>('SELECT id, municipality_id FROM applications WHERE id = ?').get(Number(stream.id.replace('conversation-', '')))!;
        return { url: `/api/applications/${app.id}/messages`, login: role === 'applicant' ? applicantOf.get(app.municipality_id)! : `${role}1` };
      }
      if (stream.machineId === 'stage') {
        const stage = sqlite.prepare<[string], { programme_id: number; no: number }>('SELECT programme_id, no FROM stages WHERE stream_id = ?').get(stream.id)!;
        return { url: `/api/programmes/${stage.programme_id}/stages/${stage.no}/events`, login: role === 'applicant' ? 'applicant1' : `${role}1` };
      }
      if (stream.machineId === 'journal') {
        const entry = sqlite.prepare<[string], { id: number; programme_id: number }>('SELECT id, programme_id FROM journal_entries WHERE stream_id = ?').get(stream.id)!;
        return { url: `/api/programmes/${entry.programme_id}/journal/${entry.id}/events`, login: role === 'applicant' ? 'applicant1' : `${role}1` };
      }
      return null;
    };
    /** A final meeting is linked to an application of its own municipality (issue 14). */
    const applicationOfEntry = (context: Record<string, any>) =>
      sqlite.prepare<[unknown, unknown], { id: number }>('SELECT id FROM applications WHERE programme_id = ? AND municipality_id = ? ORDER BY id').get(context.programmeId, context.fields?.municipalityId ?? -1)?.id;
    const streamsOf = (machineId: string) => sqlite.prepare<[string], Stream>('SELECT id, machine_id AS machineId, machine_version AS machineVersion, state, version, snapshot FROM streams WHERE machine_id = ? ORDER BY id').all(machineId);

    const problems: string[] = [];
    let checked = 0;
    for (const entry of t.app.engine.registry.machines()) {
      expect(streamsOf(entry.id).length, `the demo holds streams of ${entry.id}`).toBeGreaterThan(0);
      for (const type of Object.keys(entry.eventSchemas)) {
        const permitted = entry.eventRoles[type] ?? [];
        // The streams whose state has a transition for this event now.
        // A journal's final meeting without its application is what link-application takes: those first.
        const linkable = (s: Stream) => { const c = (JSON.parse(s.snapshot) as { context: Record<string, unknown> }).context; return c.kind === 'final-meeting' && c.applicationId === null ? 0 : 1; };
        // The recommendations belong to the closing stage (stage 12): those first.
        const closing = (s: Stream) => ((JSON.parse(s.snapshot) as { context: Record<string, unknown> }).context.key === 'closing' ? 0 : 1);
        const candidates = () =>
          streamsOf(entry.id)
            .filter((s) => t.app.engine.eventsInState(s as never).includes(type))
            .sort((a, b) => (type === 'link-application' ? linkable(a) - linkable(b) : type === 'record-recommendations' ? closing(a) - closing(b) : 0));
        if (candidates().length === 0) {
          problems.push(`${entry.id}/${type}: no stream in the demo is in a state that takes it`);
          continue;
        }
        for (const role of roles) {
          const allowed = permitted.includes(role);
          let succeeded = false;
          for (const stream of candidates().slice(0, allowed ? 12 : 1)) {
            const target = routeFor(stream, role);
            if (!target) {
              problems.push(`${entry.id}: no route known to send its events; add one to this test`);
              break;
            }
            const context = (JSON.parse(stream.snapshot) as { context: Record<string, unknown> }).context;
            // A document is attached by uploading its file (issue 7), not through the events route.
            // (`role` is the journal's name for the kind of document: a meeting's minutes.)
            const upload = multipart({ kind: 'meeting-minutes', role: 'minutes', expectedVersion: String(stream.version) }, { name: 'протокол.pdf', bytes: samples.pdf() });
            // An implementation's evidence is uploaded too (issue 11): the agreement's scan is taken in every state after the award.
            const evidence = multipart({ kind: 'agreement-scan', expectedVersion: String(stream.version) }, { name: 'соглашение.pdf', bytes: samples.pdf() });
            const uploaded = type === 'attach-evidence' ? evidence : upload;
            const uploader = type === 'attach-document' || type === 'attach-evidence' ? bearerFor(t.db, target.login) : '';
            const send =
              type === 'attach-document' || type === 'attach-evidence'
                ? () =>
                    t.app.inject({
                      method: 'POST',
                      url: target.url.replace(/\/events$/, type === 'attach-evidence' ? '/evidence' : '/documents'),
                      headers: { authorization: `Bearer ${uploader}`, 'content-type': uploaded.contentType },
                      payload: uploaded.payload,
                    })
                : await prepareRequest(t.app, t.db, role, 'POST', target.url, {
                    body: { type, expectedVersion: stream.version, ...payloadFor(type, context, { reviewerId: sqlite.prepare<[], { id: number }>("SELECT id FROM users WHERE login = 'reviewer1'").get()!.id }), ...(type === 'link-application' ? { applicationId: applicationOfEntry(context) } : {}) },
                    headers: { authorization: `Bearer ${bearerFor(t.db, target.login)}` },
                  });
            const before = totalChanges(t.db);
            const response = await send();
            checked++;
            const unchanged = () => totalChanges(t.db) === before;
            const where = `${role} ${type} on ${stream.id} (${stream.state}) → ${response.statusCode} ${response.body.slice(0, 160)}`;
            if (response.statusCode >= 500) problems.push(`${where}: a server error`);
            if (!allowed) {
              if (response.statusCode !== 403) problems.push(`${where}: should be refused with 403`);
              if (!unchanged()) problems.push(`${where}: the refusal changed something`);
              break;
            }
            if (response.statusCode === 403) {
              problems.push(`${where}: refused, but the table lets ${role} send ${type}`);
              break;
            }
            if (response.statusCode === 200 || response.statusCode === 201) {
              succeeded = true;
              break;
            }
            // award and not-award reach an application only through the commission's decision for the whole
            // ranking (test/int/commission-*.int.test.ts); sent one by one, the allowed role is told so.
            // Likewise a journal entry is superseded only by recording its correction (test/int/journal.int.test.ts).
            const reserved = type === 'supersede' ? 'journal.refused.correctionOnly' : 'commission.refused.decisionOnly';
            if ((type === 'award' || type === 'not-award' || type === 'supersede') && response.statusCode === 422 && response.body.includes(reserved)) {
              if (!unchanged()) problems.push(`${where}: a refusal changed something`);
              succeeded = true;
              break;
            }
            // After the award the demo's projects stand where their rules hold them (money short, no act yet, an open issue):
            // the allowed role is told what is missing, by the rule's code, and nothing is written.
            const ruleRefusals: Record<string, string[]> = {
              'confirm-contributions': ['contribution-short'],
              'complete-works': ['acceptance-act-missing', 'acceptance-milestone-missing'],
              close: ['spending-report-missing', 'monitoring-visit-missing', 'monitoring-issue-open', 'acceptance-act-missing'],
            };
            if (ruleRefusals[type] && response.statusCode === 422 && ruleRefusals[type].some((code) => response.body.includes(`"${code}"`))) {
              if (!unchanged()) problems.push(`${where}: a refusal changed something`);
              succeeded = true;
              break;
            }
            // Refused for the state or the payload, not the role: it must have changed nothing, and another stream may take it.
            if (!unchanged()) problems.push(`${where}: a refusal changed something`);
          }
          if (allowed && !succeeded && !problems.some((p) => p.includes(` ${type} `))) problems.push(`${entry.id}/${type}: ${role} is allowed but never succeeded on any candidate`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(roles.length * 20);
  });
});
