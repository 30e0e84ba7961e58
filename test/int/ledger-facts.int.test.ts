import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { demoDb } from '../demo-template.ts';
import type { LedgerProblem } from '../../src/engine/replay.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { EVENT_COLUMNS } from '../../src/engine/replay.ts';
import { GENESIS_HASH, canonicalJson, hashEvent, sha256 } from '../../src/engine/ledger.ts';
import type { EventRow } from '../../src/engine/rows.ts';
import { commissionReads } from '../../src/workflows/commission/reads.ts';
import { formatRoubles } from '../../src/domain/money.ts';
import { defaultRegistry } from '../../machines/registry.ts';

/**
 * Every fact a page shows or a guard reads is proven by the ledger (issue 17.2): the commission's
 * decision record against the seal its events carry, the facts stored with events against the
 * streams they came from.
 */
const registry = defaultRegistry();
const opened: Db[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.$client.close();
});

async function demo(): Promise<Db> {
  const db = await demoDb();
  opened.push(db);
  return db;
}

const mismatches = (problems: LedgerProblem[]) => problems.filter((p) => p.kind === 'projection-mismatch').map((p) => p.projection);

interface DecisionRow {
  id: number;
  programmeId: number;
  record: string;
  membersPresent: string;
  decidedBy: string;
}

function decided(db: Db): DecisionRow {
  const row = db.$client
    .prepare<[], DecisionRow>('SELECT id, programme_id AS programmeId, record, members_present AS membersPresent, decided_by AS decidedBy FROM commission_decisions ORDER BY id LIMIT 1')
    .get();
  expect(row).toBeDefined();
  return row!;
}

/** Edits the decision record behind the engine's back: the trigger that keeps it final dropped first. */
function forge(db: Db, set: string, ...values: unknown[]): void {
  db.$client.exec('DROP TRIGGER IF EXISTS commission_decisions_no_update');
  db.$client.prepare(`UPDATE commission_decisions SET ${set} WHERE id = ?`).run(...values, decided(db).id);
}

describe('the commission decision is proven by the ledger', () => {
  it('the untouched demo decision is proven, and its protocol says so', async () => {
    const db = await demo();
    const row = decided(db);
    expect(verifyLedger(db, registry).problems).toEqual([]);
    expect(commissionReads(db).decision(row.programmeId)!.unproven).toEqual([]);
  });

  it('an allocated amount raised in the record (its hash recomputed): the row, the column and the amount are named', async () => {
    const db = await demo();
    const row = decided(db);
    const record = JSON.parse(row.record) as { rows: { applicationId: number; allocatedKopecks: number }[] };
    const target = record.rows.find((r) => r.allocatedKopecks > 0)!;
    const was = target.allocatedKopecks;
    target.allocatedKopecks = 90_000_000;
    const text = canonicalJson(record);
    forge(db, 'record = ?, record_hash = ?', text, sha256(text));
    const found = mismatches(verifyLedger(db, registry).problems);
    expect(found).toContainEqual(expect.objectContaining({ table: 'commission_decisions', key: String(row.programmeId), column: 'record' }));
    expect(found).toContainEqual({
      table: 'commission_decisions',
      key: String(row.programmeId),
      column: `record.rows[application ${target.applicationId}].allocatedKopecks`,
      stored: 90_000_000,
      derived: was,
    });
    // The protocol does not print the forged amount silently: it warns, and prints the amount of the award event.
    const view = commissionReads(db).decision(row.programmeId)!;
    expect(view.unproven).toContain('record');
    expect(view.record.rows.find((r) => r.applicationId === target.applicationId)!.allocatedKopecks).toBe(was);
  });

  it('the record changed without its hash: record_hash is named too', async () => {
    const db = await demo();
    const row = decided(db);
    forge(db, 'record = ?', row.record.replace('"allocatedKopecks":', '"allocatedKopecks":1'));
    const columns = mismatches(verifyLedger(db, registry).problems).map((d) => d!.column);
    expect(columns).toEqual(expect.arrayContaining(['record_hash', 'record']));
  });

  it('the members present and the decider changed: each named by its column', async () => {
    const db = await demo();
    const row = decided(db);
    const present = JSON.parse(row.membersPresent) as { id: number }[];
    forge(db, 'members_present = ?, decided_by = ?', JSON.stringify(present.slice(1)), row.decidedBy.replace(/"name":"[^"]*"/, '"name":"Someone Else"'));
    const found = mismatches(verifyLedger(db, registry).problems);
    expect(found.map((d) => d!.column).sort()).toEqual(['decided_by', 'members_present']);
    expect(found.every((d) => d!.table === 'commission_decisions' && d!.key === String(row.programmeId))).toBe(true);
    expect(commissionReads(db).decision(row.programmeId)!.unproven.sort()).toEqual(['decided_by', 'members_present']);
  });

  it('the time of the decision and the ledger head it quotes', async () => {
    const db = await demo();
    forge(db, "decided_at = '2020-01-01T00:00:00.000Z', ledger_events = ledger_events - 1");
    const columns = mismatches(verifyLedger(db, registry).problems).map((d) => d!.column).sort();
    expect(columns).toEqual(['decided_at', 'ledger_head']);
  });
});

/**
 * Writes a fact that was wrong when written, as a bug or a forged table at write time would: the
 * event's facts changed and the stream's chain recomputed from it on (the triggers dropped), so
 * that every hash is sound and only the fact itself can be wrong.
 */
function rewriteFacts(db: Db, streamId: string, seq: number, edit: (facts: Record<string, unknown>) => Record<string, unknown>): void {
  const sqlite = db.$client;
  sqlite.exec('DROP TRIGGER IF EXISTS events_no_update');
  const rows = sqlite.prepare<[string], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? ORDER BY seq`).all(streamId);
  let prevHash = rows.find((r) => r.seq === seq - 1)?.hash ?? GENESIS_HASH;
  const update = sqlite.prepare('UPDATE events SET facts = ?, prev_hash = ?, hash = ? WHERE position = ?');
  for (const row of rows.filter((r) => r.seq >= seq)) {
    const { hash: _old, ...rest } = row;
    const facts = row.seq === seq ? canonicalJson(edit(JSON.parse(row.facts) as Record<string, unknown>)) : row.facts;
    const hash = hashEvent({ ...rest, facts, prevHash });
    update.run(facts, prevHash, hash, row.position);
    prevHash = hash;
  }
  sqlite.prepare('UPDATE streams SET head_hash = ? WHERE id = ?').run(prevHash, streamId);
}

const factProblems = (problems: LedgerProblem[]) => problems.filter((p) => p.kind === 'fact-mismatch');

describe('the facts stored with events are checked against the streams at their position', () => {
  it('the demo’s facts all agree with its stage streams', async () => {
    const db = await demo();
    expect(factProblems(verifyLedger(db, registry).problems)).toEqual([]);
  });

  it('a submission that recorded the commission among the active stages, its chain sound: verify names the event and the fact', async () => {
    const db = await demo();
    const event = db.$client
      .prepare<[], { streamId: string; seq: number; facts: string }>("SELECT stream_id AS streamId, seq, facts FROM events WHERE type = 'submit' AND facts NOT LIKE '%\"commission\"%' ESCAPE '\\' ORDER BY position LIMIT 1")
      .get()!;
    expect(event).toBeDefined();
    const was = (JSON.parse(event.facts) as { activeStages: string[] }).activeStages;
    rewriteFacts(db, event.streamId, event.seq, (facts) => ({ ...facts, activeStages: [...was, 'commission'] }));
    const report = verifyLedger(db, registry);
    // Every hash of the stream holds: only the fact is wrong (and the head a later decision quoted, which the rewrite changed).
    expect(report.problems.filter((p) => p.kind !== 'fact-mismatch' && p.projection?.column !== 'ledger_head')).toEqual([]);
    expect(factProblems(report.problems)).toEqual([
      expect.objectContaining({
        stream: event.streamId,
        seq: event.seq,
        projection: { table: 'events', key: `${event.streamId}/${event.seq}`, column: 'facts.activeStages', stored: JSON.stringify([...was, 'commission']), derived: JSON.stringify(was) },
      }),
    ]);
  });

  it('a stage left out of a later event’s facts is named too', async () => {
    const db = await demo();
    const event = db.$client
      .prepare<[], { streamId: string; seq: number; facts: string }>("SELECT stream_id AS streamId, seq, facts FROM events WHERE json_array_length(facts, '$.activeStages') > 0 ORDER BY position DESC LIMIT 1")
      .get()!;
    const was = (JSON.parse(event.facts) as { activeStages: string[] }).activeStages;
    rewriteFacts(db, event.streamId, event.seq, (facts) => ({ ...facts, activeStages: [] }));
    expect(factProblems(verifyLedger(db, registry).problems).map((p) => p.projection)).toEqual([
      { table: 'events', key: `${event.streamId}/${event.seq}`, column: 'facts.activeStages', stored: '[]', derived: JSON.stringify(was) },
    ]);
  });
});

describe('the security log', () => {
  const PASSWORD = 'a long enough passphrase for tests';

  it('has an entry for every demo user, and verify finds the users table as it folds', async () => {
    const db = await demo();
    const { verifySecurityLog } = await import('../../src/accounts/security-log.ts');
    const users = db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM users').get()!.n;
    const created = db.$client.prepare<[], { n: number }>("SELECT count(DISTINCT subject) AS n FROM security_log WHERE action = 'user-created'").get()!.n;
    expect(created).toBe(users);
    expect(verifySecurityLog(db)).toEqual({ problems: [], differences: [], entries: expect.any(Number) });
  });

  it('every administrative action writes one chained entry, in its transaction, naming who did it', async () => {
    const db = await demo();
    const admin = await import('../../src/accounts/user-admin.ts');
    const { verifySecurityLog } = await import('../../src/accounts/security-log.ts');
    const root = db.$client.prepare<[], { id: number; login: string; role: 'admin' }>("SELECT id, login, role FROM users WHERE role = 'admin' LIMIT 1").get()!;
    const municipality = db.$client.prepare<[], { id: number }>('SELECT id FROM municipalities ORDER BY id LIMIT 1').get()!.id;
    const entries = () => db.$client.prepare<[], { action: string; subject: string; actor: string; details: string }>('SELECT action, subject, actor, details FROM security_log ORDER BY position').all();
    const before = entries().length;
    const user = await admin.createUser(db, { login: 'log.reviewer', name: 'Log Reviewer', role: 'reviewer', password: PASSWORD }, new Date(), root);
    admin.changeUser(db, user.id, { name: 'Log Applicant', role: 'applicant', municipalityId: municipality }, new Date(), root);
    await admin.resetPassword(db, user.id, `${PASSWORD}!`, `${PASSWORD}!`, new Date(), root);
    admin.revokeUserSessions(db, user.id, new Date(), root);
    admin.deactivateUser(db, root as never, user.id);
    admin.activateUser(db, user.id, new Date(), root);
    await admin.changeOwnPassword(db, user.id, { current: `${PASSWORD}!`, password: `${PASSWORD}?`, confirmation: `${PASSWORD}?` }, 'no-such-token');
    // A refused change writes nothing.
    expect(() => admin.changeUser(db, user.id, { name: '', role: 'nobody' })).toThrow();
    const added = entries().slice(before);
    expect(added.map((e) => e.action)).toEqual(['user-created', 'user-changed', 'password-reset', 'sessions-revoked', 'user-deactivated', 'user-activated', 'password-changed']);
    expect(added.every((e) => e.subject === String(user.id))).toBe(true);
    expect(JSON.parse(added[0]!.actor)).toEqual({ id: root.id, login: root.login, role: 'admin' });
    expect(JSON.parse(added[1]!.details)).toMatchObject({ role: 'applicant', municipalityId: municipality, from: { role: 'reviewer', municipalityId: null } });
    expect(JSON.stringify(added)).not.toContain(PASSWORD);
    expect(verifySecurityLog(db).problems).toEqual([]);
    expect(verifySecurityLog(db).differences).toEqual([]);
    expect(verifyLedger(db, registry).problems).toEqual([]);
  });

  it('a role, a municipality and the active flag edited in the users table: verify names each', async () => {
    const db = await demo();
    const reviewer = db.$client.prepare<[], { id: number }>("SELECT id FROM users WHERE role = 'reviewer' ORDER BY id LIMIT 1").get()!.id;
    const applicant = db.$client.prepare<[], { id: number; municipalityId: number }>("SELECT id, municipality_id AS municipalityId FROM users WHERE role = 'applicant' ORDER BY id LIMIT 1").get()!;
    db.$client.prepare("UPDATE users SET role = 'admin' WHERE id = ?").run(reviewer);
    db.$client.prepare('UPDATE users SET municipality_id = (SELECT max(id) FROM municipalities WHERE id <> ?), active = 0 WHERE id = ?').run(applicant.municipalityId, applicant.id);
    const found = mismatches(verifyLedger(db, registry).problems);
    expect(found).toEqual(
      expect.arrayContaining([
        { table: 'users', key: String(reviewer), column: 'role', stored: 'admin', derived: 'reviewer' },
        expect.objectContaining({ table: 'users', key: String(applicant.id), column: 'municipality_id', derived: applicant.municipalityId }),
        { table: 'users', key: String(applicant.id), column: 'active', stored: 0, derived: 1 },
      ]),
    );
    expect(found).toHaveLength(3);
  });

  it('a user inserted behind the application’s back has no entry: named', async () => {
    const db = await demo();
    const id = Number(db.$client.prepare("INSERT INTO users (login, name, role, password_hash, created_at) VALUES ('ghost', 'Ghost', 'admin', 'x', '2026-01-01T00:00:00.000Z')").run().lastInsertRowid);
    expect(mismatches(verifyLedger(db, registry).problems)).toEqual([{ table: 'users', key: String(id), column: '*', stored: 'a row', derived: 'no entry in the security log' }]);
  });

  it('an entry edited, or the last removed, with the trigger dropped: the chain names it', async () => {
    const db = await demo();
    db.$client.exec('DROP TRIGGER security_log_no_update; DROP TRIGGER security_log_no_delete');
    const first = db.$client.prepare<[], { position: number; details: string }>('SELECT position, details FROM security_log ORDER BY position LIMIT 1').get()!;
    db.$client.prepare('UPDATE security_log SET details = ? WHERE position = ?').run(first.details.replace(/"role":"[a-z]+"/, '"role":"admin"'), first.position);
    const last = db.$client.prepare<[], { position: number }>('SELECT max(position) AS position FROM security_log').get()!.position;
    db.$client.prepare('DELETE FROM security_log WHERE position = ?').run(last);
    const problems = verifyLedger(db, registry).problems.filter((p) => p.stream === 'security_log' && p.kind !== 'projection-mismatch');
    expect(problems).toEqual([
      expect.objectContaining({ kind: 'hash-mismatch', seq: first.position }),
      expect.objectContaining({ kind: 'missing-event', message: `security log entries up to ${last} were written, the log ends at ${last - 1}` }),
    ]);
  });

  it('the append-only trigger refuses a change', async () => {
    const db = await demo();
    expect(() => db.$client.prepare("UPDATE security_log SET action = 'user-activated'").run()).toThrow(/append-only/);
    expect(() => db.$client.prepare('DELETE FROM security_log').run()).toThrow(/append-only/);
  });
});

describe('the settings log: programmes, commission settings, deadlines and document requirements re-derived', () => {
  const adminOf = (db: Db) => db.$client.prepare<[], { id: number; login: string; name: string; role: 'admin'; municipalityId: null }>("SELECT id, login, name, role, municipality_id AS municipalityId FROM users WHERE role = 'admin' LIMIT 1").get()!;

  it('every programme’s settings are in the log as they stand', async () => {
    const db = await demo();
    const { verifySettingsLog } = await import('../../src/engine/settings-log.ts');
    const result = verifySettingsLog(db);
    expect(result.problems).toEqual([]);
    expect(result.differences).toEqual([]);
    const programmes = db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM programmes').get()!.n;
    expect(result.entries.filter((e) => e.table === 'programmes')).toHaveLength(programmes);
    expect(result.entries.some((e) => e.table === 'document_requirements')).toBe(true);
    expect(result.entries.some((e) => e.table === 'commission_settings')).toBe(true);
  });

  it('each table edited behind the engine’s back: verify names table, key and column', async () => {
    const db = await demo();
    const sqlite = db.$client;
    const requirement = sqlite.prepare<[], { programmeId: number; projectType: string; kind: string; required: number }>(
      'SELECT programme_id AS programmeId, project_type AS projectType, kind, required FROM document_requirements ORDER BY id LIMIT 1',
    ).get()!;
    const gone = sqlite.prepare<[], { programmeId: number; projectType: string; kind: string }>('SELECT programme_id AS programmeId, project_type AS projectType, kind FROM document_requirements ORDER BY id DESC LIMIT 1').get()!;
    const settings = sqlite.prepare<[], { programmeId: number; quorum: number }>('SELECT programme_id AS programmeId, quorum FROM commission_settings ORDER BY programme_id LIMIT 1').get()!;
    const programme = sqlite.prepare<[], { id: number; fund: number }>('SELECT id, fund_kopecks AS fund FROM programmes ORDER BY id LIMIT 1').get()!;
    sqlite.prepare('UPDATE document_requirements SET required = 1 - required WHERE programme_id = ? AND project_type = ? AND kind = ?').run(requirement.programmeId, requirement.projectType, requirement.kind);
    sqlite.prepare('DELETE FROM document_requirements WHERE programme_id = ? AND project_type = ? AND kind = ?').run(gone.programmeId, gone.projectType, gone.kind);
    sqlite.prepare('UPDATE commission_settings SET quorum = quorum + 1 WHERE programme_id = ?').run(settings.programmeId);
    sqlite.prepare("UPDATE programmes SET fund_kopecks = fund_kopecks + 100, savings_rule = 'refund' WHERE id = ?").run(programme.id);
    const deadlines = sqlite.prepare<[], { programmeId: number; reviewDays: number }>('SELECT programme_id AS programmeId, review_days AS reviewDays FROM programme_deadlines LIMIT 1').get();
    if (deadlines) sqlite.prepare('UPDATE programme_deadlines SET review_days = review_days + 5 WHERE programme_id = ?').run(deadlines.programmeId);
    const found = mismatches(verifyLedger(db, registry).problems);
    const expected = [
      { table: 'document_requirements', key: `${requirement.programmeId}/${requirement.projectType}/${requirement.kind}`, column: 'required', stored: 1 - requirement.required, derived: requirement.required },
      { table: 'document_requirements', key: `${gone.programmeId}/${gone.projectType}/${gone.kind}`, column: '*', stored: null, derived: 'a row' },
      { table: 'commission_settings', key: String(settings.programmeId), column: 'quorum', stored: settings.quorum + 1, derived: settings.quorum },
      { table: 'programmes', key: String(programme.id), column: 'fund_kopecks', stored: programme.fund + 100, derived: programme.fund },
      expect.objectContaining({ table: 'programmes', key: String(programme.id), column: 'savings_rule', stored: 'refund' }),
      ...(deadlines ? [{ table: 'programme_deadlines', key: String(deadlines.programmeId), column: 'review_days', stored: deadlines.reviewDays + 5, derived: deadlines.reviewDays }] : []),
    ];
    expect(found).toEqual(expect.arrayContaining(expected));
    expect(found).toHaveLength(expected.length);
  });

  it('the portal’s public document kinds: set through the application, logged and proven; edited behind its back, named', async () => {
    const db = await demo();
    const { savePublicDocumentKinds } = await import('../../src/workflows/programme/public-settings.ts');
    const { workflowEngine } = await import('../../src/workflows/index.ts');
    const engine = workflowEngine(db);
    const programme = db.$client.prepare<[], { id: number }>('SELECT id FROM programmes ORDER BY id LIMIT 1').get()!;
    savePublicDocumentKinds(engine, adminOf(db), programme.id, { documentKinds: ['object-photos'] });
    expect(mismatches(verifyLedger(db, registry).problems)).toEqual([]);
    db.$client.prepare(`UPDATE programme_public_settings SET document_kinds = '["meeting-minutes","object-photos"]' WHERE programme_id = ?`).run(programme.id);
    expect(mismatches(verifyLedger(db, registry).problems)).toEqual([
      expect.objectContaining({ table: 'programme_public_settings', key: String(programme.id), column: 'document_kinds', stored: '["meeting-minutes","object-photos"]', derived: '["object-photos"]' }),
    ]);
  });

  it('changes made through the application are logged, and verify stays clean — the facts of earlier events included', async () => {
    const db = await demo();
    const { saveDocumentRequirement, removeDocumentRequirement } = await import('../../src/workflows/documents/requirements.ts');
    const { saveProgrammeCode } = await import('../../src/workflows/application/registration.ts');
    const { workflowEngine } = await import('../../src/workflows/index.ts');
    const engine = workflowEngine(db);
    const admin = adminOf(db);
    const submitted = db.$client.prepare<[], { programmeId: number }>("SELECT a.programme_id AS programmeId FROM events e JOIN applications a ON a.stream_id = e.stream_id WHERE e.type = 'submit' LIMIT 1").get()!;
    const before = db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM settings_log').get()!.n;
    // The programme now asks for sponsor letters, and no longer for the budget extract: the submissions made before asked otherwise.
    saveDocumentRequirement(engine, admin, submitted.programmeId, { projectType: '*', kind: 'sponsor-letters', required: true, fileTypes: ['pdf'], maxBytes: 1024 * 1024 });
    removeDocumentRequirement(engine, admin, submitted.programmeId, '*', 'budget-extract');
    expect(saveProgrammeCode(db, submitted.programmeId, 'ТСТ', admin)).toBe(true);
    const added = db.$client.prepare<[number], { action: string; subject: string; actor: string }>('SELECT action, subject, actor FROM settings_log WHERE position > ? ORDER BY position').all(before);
    expect(added.map((e) => [e.action, e.subject])).toEqual([
      ['set', `document_requirements:${submitted.programmeId}/*/sponsor-letters`],
      ['remove', `document_requirements:${submitted.programmeId}/*/budget-extract`],
      ['set', `programmes:${submitted.programmeId}`],
    ]);
    expect(JSON.parse(added[0]!.actor)).toMatchObject({ login: admin.login });
    expect(verifyLedger(db, registry).problems).toEqual([]);
  });

  it('a submission that recorded the wrong documents as required, its chain sound: verify names the fact', async () => {
    const db = await demo();
    const event = db.$client
      .prepare<[], { streamId: string; seq: number; facts: string }>("SELECT stream_id AS streamId, seq, facts FROM events WHERE type = 'submit' AND json_array_length(facts, '$.requiredDocuments') > 1 ORDER BY position DESC LIMIT 1")
      .get()!;
    expect(event).toBeDefined();
    const was = (JSON.parse(event.facts) as { requiredDocuments: string[] }).requiredDocuments;
    rewriteFacts(db, event.streamId, event.seq, (facts) => ({ ...facts, requiredDocuments: was.slice(1) }));
    const found = factProblems(verifyLedger(db, registry).problems).map((p) => p.projection);
    expect(found).toEqual([{ table: 'events', key: `${event.streamId}/${event.seq}`, column: 'facts.requiredDocuments', stored: JSON.stringify(was.slice(1)), derived: JSON.stringify(was) }]);
  });
});

describe('the programme’s rules and the documents’ rules in the facts', () => {
  it('a submission that recorded a lower minimum local share, and an upload that recorded other file rules: both named', async () => {
    const db = await demo();
    const submit = db.$client
      .prepare<[], { streamId: string; seq: number; facts: string }>("SELECT stream_id AS streamId, seq, facts FROM events WHERE type = 'submit' AND json_type(facts, '$.rules') = 'object' ORDER BY position DESC LIMIT 1")
      .get()!;
    const upload = db.$client
      .prepare<[string], { streamId: string; seq: number; facts: string }>("SELECT stream_id AS streamId, seq, facts FROM events WHERE type = 'attach-document' AND stream_id <> ? ORDER BY position DESC LIMIT 1")
      .get(submit.streamId)!;
    expect(upload).toBeDefined();
    const rules = (JSON.parse(submit.facts) as { rules: { minLocalShareBp: number } }).rules;
    rewriteFacts(db, submit.streamId, submit.seq, (facts) => ({ ...facts, rules: { ...rules, minLocalShareBp: 0 } }));
    rewriteFacts(db, upload.streamId, upload.seq, (facts) => ({ ...facts, documentRules: [] }));
    const found = factProblems(verifyLedger(db, registry).problems).map((p) => [p.projection!.key, p.projection!.column]);
    expect(found).toEqual(
      expect.arrayContaining([
        [`${submit.streamId}/${submit.seq}`, 'facts.rules'],
        [`${upload.streamId}/${upload.seq}`, 'facts.documentRules'],
      ]),
    );
    expect(found).toHaveLength(2);
  });
});

describe('the protocol page', () => {
  it('warns, in an alert, when the decision record it prints is not what the ledger sealed', async () => {
    const { startApp, login } = await import('./http-helpers.ts');
    const t = await startApp();
    try {
      const row = decided(t.db);
      const browser = await login(t.app, 'coordinator1');
      const clean = await browser.get(`/programmes/${row.programmeId}/protocol`);
      expect(clean.statusCode).toBe(200);
      expect(clean.body).not.toContain('decision-unproven');
      const record = JSON.parse(row.record) as { rows: { allocatedKopecks: number }[] };
      const target = record.rows.find((r) => r.allocatedKopecks > 0)!;
      const was = target.allocatedKopecks;
      expect(clean.body).toContain(`${formatRoubles(was)} ₽</strong>`);
      target.allocatedKopecks = 90_000_000;
      const text = canonicalJson(record);
      forge(t.db, 'record = ?, record_hash = ?', text, sha256(text));
      const forged = await browser.get(`/programmes/${row.programmeId}/protocol`);
      expect(forged.statusCode).toBe(200);
      expect(forged.body).toMatch(/class="notice notice--error decision-unproven" role="alert">[^<]*record/);
      // The forged 900 000 ₽ is not printed: the amount is the award event's.
      expect(forged.body).not.toContain(formatRoubles(90_000_000));
      expect(forged.body).toContain(`${formatRoubles(was)} ₽</strong>`);
    } finally {
      await t.close();
    }
  });
});

describe('a database from before the logs (migration 0018)', () => {
  it('has its users and settings entered once, as they stand, and verifies clean; the facts of earlier events are not judged by them', async () => {
    const db = await demo();
    const sqlite = db.$client;
    // The logs as migration 0018 leaves them on an older database: empty, never written.
    sqlite.exec(`DROP TRIGGER security_log_no_delete; DROP TRIGGER settings_log_no_delete;
      DELETE FROM security_log; DELETE FROM settings_log; DELETE FROM sqlite_sequence WHERE name IN ('security_log', 'settings_log')`);
    const { recordExistingEntries } = await import('../../src/db/existing-logs.ts');
    recordExistingEntries(db);
    const users = sqlite.prepare<[], { n: number }>('SELECT count(*) AS n FROM users').get()!.n;
    expect(sqlite.prepare<[], { n: number }>("SELECT count(*) AS n FROM security_log WHERE action = 'user-recorded'").get()!.n).toBe(users);
    expect(sqlite.prepare<[], { n: number }>("SELECT count(*) AS n FROM settings_log WHERE action <> 'recorded'").get()!.n).toBe(0);
    expect(verifyLedger(db, registry).problems).toEqual([]);
    // Once: a second open enters nothing more.
    const entries = sqlite.prepare<[], { n: number }>('SELECT count(*) AS n FROM security_log').pluck();
    const before = entries.get();
    recordExistingEntries(db);
    expect(entries.get()).toBe(before);
  });
});

describe('the security log page', () => {
  it('shows admins and auditors the entries, escaped and paged; others are refused', async () => {
    const { startApp, login } = await import('./http-helpers.ts');
    const { createUser } = await import('../../src/accounts/user-admin.ts');
    const t = await startApp();
    try {
      for (let i = 0; i < 55; i += 1) {
        await createUser(t.db, { login: `page.user${i}`, name: `<script>alert(${i})</script>`, role: 'reviewer', password: 'a long enough passphrase for tests' });
      }
      const auditor = await login(t.app, 'auditor1');
      const page = await auditor.get('/audit/security-log');
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain('<script>alert(');
      expect(page.body).toContain('&lt;script&gt;alert(54)');
      expect(page.body).toContain('page.user54');
      const older = /href="\/audit\/security-log\?before=(\d+)"/.exec(page.body);
      expect(older).not.toBeNull();
      const next = await auditor.get(`/audit/security-log?before=${older![1]}`);
      expect(next.statusCode).toBe(200);
      expect(next.body).toContain('page.user0');
      expect(next.body).not.toContain('page.user54');
      expect((await (await login(t.app, 'admin1')).get('/audit/security-log')).statusCode).toBe(200);
      expect((await (await login(t.app, 'reviewer1')).get('/audit/security-log')).statusCode).toBe(403);
      // A role edited behind the application's back shows on the page too.
      t.db.$client.prepare("UPDATE users SET role = 'admin' WHERE login = 'page.user1'").run();
      const warned = await auditor.get('/audit/security-log');
      expect(warned.body).toContain('role="alert"');
    } finally {
      await t.close();
    }
  });
});
