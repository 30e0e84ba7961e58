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
  digest,
  everyone,
  firstApplicationOf,
  openAllStages,
  prepareRequest,
  refusedByTable,
  requestAs,
  type SampleIds,
} from './security-helpers.ts';
import { multipart, samples } from './document-samples.ts';

/**
 * The authorisation table (issue 6), walked whole: every role (and a visitor) against every
 * route the app registers, and every role against every event type of every registered machine.
 * Routes and events added later are walked too: the routes come from the app's own record of
 * them, the events from the machine registry.
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
    const sessionRoutes = new Set(['POST /login', 'POST /logout', 'POST /api/session', 'DELETE /api/session', 'POST /account/password']);
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

  it('is one table: routeTable and eventTable say what the hooks and the engine enforce', () => {
    const table = routeTable(t.app);
    for (const row of table) for (const role of roles) expect(row.allowed[role]).toBe(allows(row.access, role));
    expect(eventTable(t.app.engine.registry).application).toBe(applicationEventRoles);
    expect(eventTable(t.app.engine.registry).stage).toBe(stageEventRoles);
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
        const before = allowed ? null : digest(t.db);
        const response = await send();
        const refused = refusedByTable(response, who, url);
        const where = `${who} ${rule.method} ${url} → ${response.statusCode}`;
        if (response.statusCode >= 500) mismatches.push(`${where}: a server error`);
        // A 403 from a route the table lets in would be a second, hidden table: the decision is the table's alone.
        if (allowed && (refused || response.statusCode === 403)) mismatches.push(`${where}: refused, but the table allows it`);
        if (!allowed && !refused) mismatches.push(`${where}: let through, but the table refuses it (${response.body.slice(0, 120)})`);
        if (!allowed) {
          refusals++;
          const after = digest(t.db);
          // The fresh credentials were made before `before`; nothing else may differ.
          if (JSON.stringify(after) !== JSON.stringify(before)) mismatches.push(`${where}: the refusal changed ${Object.keys(after).filter((k) => after[k] !== before![k]).join(', ')}`);
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
function payloadFor(type: string, context: Record<string, any>): Record<string, unknown> {
  const tasks = (context.tasks ?? []) as { key: string; done: boolean }[];
  const payloads: Record<string, Record<string, unknown>> = {
    update: { beneficiaries: 321 },
    'return-for-revision': { remarks: [{ field: 'general', text: 'Уточните смету.' }] },
    reject: { reason: 'Не соответствует условиям.' },
    withdraw: { reason: 'Передумали.' },
    terminate: { reason: 'Подрядчик ушёл.' },
    score: { significance: 4 },
    award: { amountKopecks: 100 },
    'sign-agreement': { agreementNo: 'С-1' },
    'sign-contract': { contractor: 'ООО «Подрядчик»', priceKopecks: 100 },
    'report-progress': { percent: 90 },
    'record-monitoring': { finding: 'Всё по плану.' },
    schedule: { plannedStart: '2030-01-01', plannedEnd: '2030-02-01' },
    'complete-task': { task: tasks.find((task) => !task.done)?.key ?? 'none' },
    'reopen-task': { task: tasks.find((task) => task.done)?.key ?? 'none' },
    reopen: { reason: 'Повторная проверка.' },
    'review-document': { kind: 'meeting-minutes', verdict: 'remark', remark: 'Протокол не подписан.' },
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
        const candidates = () => streamsOf(entry.id).filter((s) => t.app.engine.eventsInState(s as never).includes(type)).sort((a, b) => (type === 'link-application' ? linkable(a) - linkable(b) : 0));
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
            const uploader = type === 'attach-document' ? bearerFor(t.db, target.login) : '';
            const send =
              type === 'attach-document'
                ? () =>
                    t.app.inject({
                      method: 'POST',
                      url: target.url.replace(/\/events$/, '/documents'),
                      headers: { authorization: `Bearer ${uploader}`, 'content-type': upload.contentType },
                      payload: upload.payload,
                    })
                : await prepareRequest(t.app, t.db, role, 'POST', target.url, {
                    body: { type, expectedVersion: stream.version, ...payloadFor(type, context), ...(type === 'link-application' ? { applicationId: applicationOfEntry(context) } : {}) },
                    headers: { authorization: `Bearer ${bearerFor(t.db, target.login)}` },
                  });
            const before = digest(t.db);
            const response = await send();
            checked++;
            const where = `${role} ${type} on ${stream.id} (${stream.state}) → ${response.statusCode} ${response.body.slice(0, 160)}`;
            if (response.statusCode >= 500) problems.push(`${where}: a server error`);
            if (!allowed) {
              if (response.statusCode !== 403) problems.push(`${where}: should be refused with 403`);
              if (JSON.stringify(digest(t.db)) !== JSON.stringify(before)) problems.push(`${where}: the refusal changed something`);
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
              if (JSON.stringify(digest(t.db)) !== JSON.stringify(before)) problems.push(`${where}: a refusal changed something`);
              succeeded = true;
              break;
            }
            // Refused for the state or the payload, not the role: it must have changed nothing, and another stream may take it.
            if (JSON.stringify(digest(t.db)) !== JSON.stringify(before)) problems.push(`${where}: a refusal changed something`);
          }
          if (allowed && !succeeded && !problems.some((p) => p.includes(` ${type} `))) problems.push(`${entry.id}/${type}: ${role} is allowed but never succeeded on any candidate`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(roles.length * 20);
  });
});
