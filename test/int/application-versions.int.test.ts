import { afterEach, describe, expect, it } from 'vitest';
import { insertUser as addLoggedUser } from '../../src/accounts/users.ts';
import { openDb, type Db } from '../../src/db/client.ts';
import type { Actor, Role } from '../../src/domain/roles.ts';
import { loadStreamEvents, replayStream } from '../../src/engine/replay.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { createApplication, sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { applicationStreamId } from '../../src/workflows/application/reads.ts';
import { workflowEngine } from '../../src/workflows/index.ts';
import { MachineRegistry, applicationV1, applicationV2, defaultRegistry, stageV1, stageV2 } from '../../machines/registry.ts';
import { stageMachineId, stageMachineVersion } from '../../machines/stage.ts';
import { sendStageEvent } from '../../src/workflows/stage/commands.ts';
import { stageStreamId } from '../../src/workflows/stage/reads.ts';
import { applicationMachineId, applicationMachineVersion } from '../../machines/application.ts';
import { completeForm, programmeWithActiveStages } from './fixtures.ts';

/**
 * The application machine's versions side by side (DESIGN §4.5): version 1 is frozen and stays
 * registered; a stream written with it moves to the current version at its next event through the
 * declared migration, and its whole history replays and verifies across the border.
 */
const opened: Db[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.$client.close();
});

function world() {
  const db = openDb({ path: ':memory:', synchronous: 'OFF' });
  opened.push(db);
  // Through insertUser: every user has its entry in the security log, which verify checks.
  const insertUser = { run: (login: string, name: string, role: Role, municipalityId: number | null) => ({ lastInsertRowid: addLoggedUser(db, { login, name, role, municipalityId, passwordHash: 'x', createdAt: '2027-01-01T00:00:00Z' }, null).id }) };
  const municipality = Number(db.$client.prepare("INSERT INTO municipalities (name, kind, population) VALUES ('Завьяловский район', 'municipal-okrug', 68000)").run().lastInsertRowid);
  const actor = (login: string, role: Role, municipalityId: number | null = null): Actor => ({ id: Number(insertUser.run(login, login, role, municipalityId).lastInsertRowid), login, name: login, role, municipalityId });
  const actors = { admin: actor('admin1', 'admin'), coordinator: actor('coordinator1', 'coordinator'), applicant: actor('applicant1', 'applicant', municipality), reviewer: actor('reviewer1', 'reviewer') };
  let clock = new Date('2027-04-01T07:00:00Z');
  const now = () => (clock = new Date(clock.getTime() + 60_000));
  // The installation as it was before version 2: version 1 is the current application machine.
  const before = defaultRegistry().register(applicationV1, { current: true }).register(stageV1, { current: true });
  const old = workflowEngine(db, { registry: before, now });
  const current = workflowEngine(db, { now });
  return { db, actors, old, current, now, actor };
}

describe('the application machine, version 1 and the current version', () => {
  it('keeps version 1 registered beside the current one', () => {
    const registry = defaultRegistry();
    expect(registry.latest(applicationMachineId).version).toBe(applicationMachineVersion);
    expect(applicationMachineVersion).toBeGreaterThan(1);
    expect(registry.get(applicationMachineId, 1)).toBe(applicationV1);
  });

  it('moves a stream written with version 1 over at its next event, and its history replays and verifies across the border', () => {
    const w = world();
    const programme = programmeWithActiveStages(w.old, w.actors, ['documentation', 'intake']);
    const created = createApplication(w.old, w.actors.applicant, { programmeId: programme.programmeId, form: completeForm });
    let version = sendApplicationEvent(w.old, w.actors.applicant, created.id, 'submit', {}, created.version).version;
    version = sendApplicationEvent(w.old, w.actors.reviewer, created.id, 'start-review', {}, version).version;
    const streamId = applicationStreamId(created.id);
    expect(w.current.loadStream(streamId)!.machineVersion).toBe(1);

    // The upgrade: the same database, the current registry. The next event moves the stream over.
    const accepted = sendApplicationEvent(w.current, w.actors.reviewer, created.id, 'accept', {}, version);
    expect(accepted.state).toBe('accepted');
    const rows = loadStreamEvents(w.db, streamId);
    expect(rows.map((row) => row.machineVersion)).toEqual([1, 1, 1, applicationMachineVersion]);
    expect(w.current.loadStream(streamId)!.machineVersion).toBe(applicationMachineVersion);

    const replayed = replayStream(w.current.registry, w.current.loadStream(streamId)!, rows);
    expect(replayed.problems).toEqual([]);
    expect(replayed.steps.map((step) => [step.machineVersion, step.replayedState])).toEqual([
      [1, 'draft'],
      [1, 'submitted'],
      [1, 'under-review'],
      [applicationMachineVersion, 'accepted'],
    ]);
    expect(verifyLedger(w.db, w.current.registry).problems).toEqual([]);
    // Without version 1 the old events cannot be replayed: the history names each of them.
    const withoutV1 = new MachineRegistry();
    for (const entry of defaultRegistry().entries()) if (entry !== applicationV1) withoutV1.register(entry);
    expect(replayStream(withoutV1, w.current.loadStream(streamId)!, rows).problems.filter((p) => p.kind === 'unknown-machine-version').map((p) => p.seq)).toEqual([1, 2, 3]);
  });

  it('migrates a version 1 snapshot to an unassigned one, and the assignment events of version 2 replay and verify across the border', () => {
    const w = world();
    const programme = programmeWithActiveStages(w.old, w.actors, ['documentation', 'intake']);
    const created = createApplication(w.old, w.actors.applicant, { programmeId: programme.programmeId, form: completeForm });
    const version = sendApplicationEvent(w.old, w.actors.applicant, created.id, 'submit', {}, created.version).version;
    const streamId = applicationStreamId(created.id);
    const stored = JSON.parse(w.current.loadStream(streamId)!.snapshot) as { context: Record<string, unknown> };
    expect(stored.context).not.toHaveProperty('assigneeId');

    // Version 1 knows no assignment: the current machine takes the stream over at `assign`.
    const assigned = sendApplicationEvent(w.current, w.actors.coordinator, created.id, 'assign', { reviewerId: w.actors.reviewer.id }, version);
    expect(assigned.snapshot.context.assigneeId).toBe(w.actors.reviewer.id);
    const released = sendApplicationEvent(w.current, w.actors.reviewer, created.id, 'release', {}, assigned.version);
    expect(released.snapshot.context.assigneeId).toBeNull();
    const started = sendApplicationEvent(w.current, w.actors.reviewer, created.id, 'start-review', {}, released.version);
    expect(started.snapshot.context.assigneeId).toBe(w.actors.reviewer.id);

    const rows = loadStreamEvents(w.db, streamId);
    expect(rows.map((row) => [row.type, row.machineVersion])).toEqual([
      ['create', 1],
      ['submit', 1],
      ['assign', applicationMachineVersion],
      ['release', applicationMachineVersion],
      ['start-review', applicationMachineVersion],
    ]);
    // The facts the rule read travel in the event: the assignee as the users table had them.
    expect(JSON.parse(rows[2]!.facts).assignee).toEqual({ id: w.actors.reviewer.id, role: 'reviewer', active: true });
    const replayed = replayStream(w.current.registry, w.current.loadStream(streamId)!, rows);
    expect(replayed.problems).toEqual([]);
    expect(replayed.steps.map((step) => step.replayedState)).toEqual(['draft', 'submitted', 'submitted', 'submitted', 'under-review']);
    expect(verifyLedger(w.db, w.current.registry).problems).toEqual([]);
    // The migration itself: a version 1 context gains an empty assignee and keeps everything else.
    const migrate = w.current.registry.get(applicationMachineId, 2)!.migrate!;
    const v1 = { value: 'submitted', status: 'active', context: stored.context };
    expect(migrate(v1)).toEqual({ ...v1, context: { ...stored.context, assigneeId: null } });
  });

  it('does the same for a stage: a version 1 stage stream moves over at its next event and verifies', () => {
    const w = world();
    const programme = programmeWithActiveStages(w.old, w.actors, ['preparation']);
    const streamId = stageStreamId(programme.programmeId, 1);
    expect(w.current.loadStream(streamId)!.machineVersion).toBe(1);
    sendStageEvent(w.current, w.actors.coordinator, programme.programmeId, 1, 'complete-task', { task: 'parameters' }, programme.versions.get(1)!);
    const rows = loadStreamEvents(w.db, streamId);
    expect(rows.at(-1)!.machineVersion).toBe(stageMachineVersion);
    expect(rows.slice(0, -1).every((row) => row.machineVersion === 1)).toBe(true);
    expect(replayStream(w.current.registry, w.current.loadStream(streamId)!, rows).problems).toEqual([]);
    expect(verifyLedger(w.db, w.current.registry).problems).toEqual([]);
    expect(w.current.registry.get(stageMachineId, 1)).toBe(stageV1);
  });

  it('moves a version 2 closing stage to version 3 at its recommendations (issue 13), and the history replays and verifies across the border', () => {
    const w = world();
    const registry = defaultRegistry().register(stageV2, { current: true });
    const old = workflowEngine(w.db, { registry, now: w.now });
    const programme = programmeWithActiveStages(old, w.actors, ['documentation', 'intake', 'commission', 'legal', 'procurement', 'works', 'monitoring', 'closing']);
    const streamId = stageStreamId(programme.programmeId, 12);
    expect(w.current.loadStream(streamId)!.machineVersion).toBe(2);
    // Version 2 does not know the event: the old installation refuses it.
    expect(() => sendStageEvent(old, w.actors.coordinator, programme.programmeId, 12, 'record-recommendations', { text: 'Рано.' }, programme.versions.get(12)!)).toThrow(/unknown event type/);
    const recorded = sendStageEvent(w.current, w.actors.coordinator, programme.programmeId, 12, 'record-recommendations', { text: 'Сохранить обучение групп.' }, programme.versions.get(12)!);
    expect((recorded.snapshot.context as { recommendations?: { text: string }[] }).recommendations?.map((r) => r.text)).toEqual(['Сохранить обучение групп.']);
    const rows = loadStreamEvents(w.db, streamId);
    expect(rows.at(-1)!.machineVersion).toBe(stageMachineVersion);
    expect(stageMachineVersion).toBe(3);
    expect(rows.slice(0, -1).every((row) => row.machineVersion === 2)).toBe(true);
    expect(replayStream(w.current.registry, w.current.loadStream(streamId)!, rows).problems).toEqual([]);
    expect(verifyLedger(w.db, w.current.registry).problems).toEqual([]);
    expect(w.current.registry.get(stageMachineId, 2)).toBe(stageV2);
  });

  it('moves a version 2 stream in the middle of its works to version 3 (issue 11): what version 2 recorded is kept, and the works go on to closed', () => {
    const w = world();
    const registry = defaultRegistry().register(applicationV2, { current: true });
    const old = workflowEngine(w.db, { registry, now: w.now });
    const stages = ['documentation', 'intake', 'commission', 'legal', 'procurement', 'works', 'monitoring', 'closing'] as const;
    const programme = programmeWithActiveStages(old, w.actors, stages);
    const created = createApplication(old, w.actors.applicant, { programmeId: programme.programmeId, form: completeForm });
    const streamId = applicationStreamId(created.id);
    const commission = w.actor('commission1', 'commission');
    const subsidy = completeForm.costs!.subsidy!;
    let version = created.version;
    const onOld = (who: Actor, type: string, payload: Record<string, unknown> = {}) =>
      (version = (type === 'award' ? old.apply(streamId, { type, payload }, version, who, { channel: 'decision' }) : sendApplicationEvent(old, who, created.id, type, payload, version)).version);
    onOld(w.actors.applicant, 'submit');
    onOld(w.actors.reviewer, 'start-review');
    onOld(w.actors.reviewer, 'accept');
    onOld(commission, 'award', { amountKopecks: subsidy });
    onOld(w.actors.coordinator, 'start-implementation');
    onOld(w.actors.coordinator, 'sign-agreement', { agreementNo: 'С-2026/007' });
    onOld(w.actors.coordinator, 'confirm-contributions');
    onOld(w.actors.coordinator, 'sign-contract', { contractor: 'ООО «Монолит»', priceKopecks: subsidy - 5_000_000 });
    onOld(w.actors.coordinator, 'record-monitoring', { finding: 'Работы идут.' });
    expect(w.current.loadStream(streamId)!).toMatchObject({ machineVersion: 2, state: 'implementation.works' });

    // The upgrade: the next event runs on version 3, through the declared migration.
    const onNew = (who: Actor, type: string, payload: Record<string, unknown> = {}) =>
      (version = (type === 'attach-evidence' ? w.current.apply(streamId, { type, payload }, version, who, { channel: 'upload' }) : sendApplicationEvent(w.current, who, created.id, type, payload, version)).version);
    const day = w.now().toISOString().slice(0, 10);
    onNew(w.actors.applicant, 'report-progress', { percent: 60 });
    const migrated = JSON.parse(w.current.loadStream(streamId)!.snapshot) as { context: Record<string, any> };
    expect(migrated.context.agreement).toEqual({ agreementNo: 'С-2026/007', signedOn: null, at: null, amounts: { ...completeForm.costs, subsidy } });
    expect(migrated.context.contract).toMatchObject({ contractor: 'ООО «Монолит»', priceKopecks: subsidy - 5_000_000, contractNo: null, contractorInn: null });
    expect(migrated.context.visits).toEqual([expect.objectContaining({ finding: 'Работы идут.', verdict: 'ok', inspector: null, seq: 0 })]);
    expect(migrated.context).not.toHaveProperty('monitoring');
    expect(migrated.context).not.toHaveProperty('agreementNo');
    onNew(w.actors.applicant, 'attach-evidence', { kind: 'acceptance-act', name: 'акт.pdf', size: 1000, mediaType: 'application/pdf', sha256: 'e'.repeat(64) });
    onNew(w.actors.applicant, 'record-milestone', { kind: 'acceptance-signed', on: day });
    onNew(w.actors.coordinator, 'complete-works');
    onNew(w.actors.coordinator, 'record-contribution', { source: 'subsidy', amountKopecks: subsidy, receivedOn: day });
    onNew(w.actors.applicant, 'report-spending', { actual: { subsidy: subsidy - 5_000_000, localBudget: 0, residents: 0, business: 0 } });
    // Version 2's finding counts as the visit closing asks for.
    onNew(w.actors.coordinator, 'close');

    const rows = loadStreamEvents(w.db, streamId);
    expect(rows.filter((row) => row.machineVersion === 2).map((row) => row.type)).toContain('sign-contract');
    expect(rows.filter((row) => row.machineVersion === 3).map((row) => row.type)).toEqual(['report-progress', 'attach-evidence', 'record-milestone', 'complete-works', 'record-contribution', 'report-spending', 'close']);
    const replayed = replayStream(w.current.registry, w.current.loadStream(streamId)!, rows);
    expect(replayed.problems).toEqual([]);
    expect(replayed.steps.at(-1)!.replayedState).toBe('closed');
    expect(verifyLedger(w.db, w.current.registry).problems).toEqual([]);
  });
});
