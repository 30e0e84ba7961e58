import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMachine, type AnyStateMachine } from 'xstate';
import { openDb, type Db } from '../../src/db/client.ts';
import { demoFiles } from '../demo-template.ts';
import { withoutDocumentRequirements } from './http-helpers.ts';
import { Engine } from '../../src/engine/engine.ts';
import { loadStreamEvents, replayStream, type LedgerProblem } from '../../src/engine/replay.ts';
import type { Actor } from '../../src/domain/roles.ts';
import { MachineRegistry, defaultRegistry, type PersistedMachineSnapshot, type RegisteredMachine } from '../../machines/registry.ts';
import { applicationMachine, applicationMachineId } from '../../machines/application.ts';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applicationStreamId } from '../../src/workflows/application/reads.ts';
import { createApplication, sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { installWorkflows } from '../../src/workflows/index.ts';

/**
 * Machine versions in practice (issue 4, point 5). A next version of the application machine
 * (`NEW`, made here) renames `under-review` to `in-review` and brings a snapshot migration. The
 * demo's streams, written with the current version (`OLD`), keep replaying with it, new ones are
 * written and replayed with `NEW`, a stream that crosses the border replays through the
 * migration, and an unknown version or state is reported, never thrown.
 */

/** The application statechart's config with one state renamed, targets and all. */
function renamed(config: unknown, from: string, to: string): unknown {
  if (Array.isArray(config)) return config.map((item) => renamed(item, from, to));
  if (config === null || typeof config !== 'object' || Object.getPrototypeOf(config) !== Object.prototype) return config;
  return Object.fromEntries(
    Object.entries(config as Record<string, unknown>).map(([key, value]) => {
      if (key === 'states' && value && typeof value === 'object') {
        return [key, Object.fromEntries(Object.entries(value).map(([name, node]) => [name === from ? to : name, renamed(node, from, to)]))];
      }
      if (key === 'target' && value === from) return [key, to];
      if (key === 'initial' && value === from) return [key, to];
      return [key, renamed(value, from, to)];
    }),
  );
}

function machineWith(from: string, to: string): AnyStateMachine {
  return createMachine(renamed(applicationMachine.config, from, to) as never, applicationMachine.implementations as never);
}

const v1 = defaultRegistry().latest(applicationMachineId);
const OLD = v1.version;
const NEW = OLD + 1;
const renameMigration = (snapshot: PersistedMachineSnapshot): PersistedMachineSnapshot => ({
  ...snapshot,
  value: snapshot.value === 'under-review' ? 'in-review' : snapshot.value,
});

function v2(extra: Partial<RegisteredMachine> = {}): RegisteredMachine {
  return { ...v1, version: NEW, machine: machineWith('under-review', 'in-review'), migrate: renameMigration, ...extra };
}

function registryWith(...entries: RegisteredMachine[]): MachineRegistry {
  const registry = defaultRegistry();
  for (const entry of entries) registry.register(entry);
  return registry;
}

let template: string;
const opened: Db[] = [];
beforeAll(async () => {
  template = await demoFiles(mkdtempSync(join(tmpdir(), 'isu-ib-versions-')), { now: '2027-05-20T09:00:00.000Z', name: 'demo.sqlite' });
  const db = openDb({ path: template, synchronous: 'OFF' });
  withoutDocumentRequirements(db);
  db.$client.pragma('wal_checkpoint(TRUNCATE)');
  db.$client.close();
}, 60_000);
afterEach(() => {
  for (const db of opened.splice(0)) db.$client.close();
});

let copies = 0;
function world(registry: MachineRegistry) {
  const path = template.replace('demo.sqlite', `copy-${(copies += 1)}.sqlite`);
  copyFileSync(template, path);
  const db = openDb({ path, synchronous: 'OFF' });
  opened.push(db);
  const engine = new Engine(db, { registry, now: () => new Date('2027-05-21T08:00:00.000Z') });
  installWorkflows(engine);
  const user = (login: string): Actor => {
    const row = db.$client.prepare<[string], Actor>('SELECT id, login, name, role, municipality_id AS municipalityId FROM users WHERE login = ?').get(login)!;
    return row;
  };
  const inState = (state: string) => db.$client.prepare<[string], { id: number; version: number }>("SELECT a.id, a.version FROM applications a WHERE a.state = ? AND a.programme_id = (SELECT MAX(id) FROM programmes) ORDER BY a.id LIMIT 1").get(state)!;
  const replay = (id: number, reg = registry) => {
    const streamId = applicationStreamId(id);
    return replayStream(reg, engine.loadStream(streamId)!, loadStreamEvents(db, streamId));
  };
  return { db, engine, user, inState, replay };
}

const kinds = (problems: LedgerProblem[]) => problems.map((p) => p.kind);

describe('two versions of the application machine side by side', () => {
  it('old streams replay with the old version while the new one is current', () => {
    const w = world(registryWith(v2()));
    expect(w.engine.registry.latest(applicationMachineId).version).toBe(NEW);
    const report = verifyLedger(w.db, w.engine.registry);
    expect(report.problems).toEqual([]);
    const old = w.inState('under-review');
    const result = w.replay(old.id);
    expect(result.ok).toBe(true);
    expect(result.steps.every((s) => s.machineVersion === OLD)).toBe(true);
    expect(result.steps.at(-1)!.replayedState).toBe('under-review');
  });

  it('new streams are written and replayed with the new version, renamed state and all', () => {
    const w = world(registryWith(v2()));
    const applicant = w.user('applicant1');
    const programmeId = w.db.$client.prepare<[], { id: number }>('SELECT MAX(id) AS id FROM programmes').get()!.id;
    const form = { title: 'Освещение ул. Новой', projectType: 'street-lighting' as const, settlement: 'с. Завьялово', population: 1200, beneficiaries: 400, meetingAttendance: 90, problem: 'Темно.', description: 'Двадцать фонарей.', durationMonths: 4, costs: { subsidy: 50_000_000, localBudget: 5_000_000, residents: 3_000_000, business: 1_000_000 } };
    const created = createApplication(w.engine, applicant, { programmeId, form });
    let version = sendApplicationEvent(w.engine, applicant, created.id, 'submit', {}, created.version).version;
    const review = sendApplicationEvent(w.engine, w.user('reviewer1'), created.id, 'start-review', {}, version);
    expect(review.state).toBe('in-review');
    version = review.version;
    sendApplicationEvent(w.engine, w.user('reviewer1'), created.id, 'accept', {}, version);
    const rows = loadStreamEvents(w.db, applicationStreamId(created.id));
    expect(rows.map((r) => r.machineVersion)).toEqual([NEW, NEW, NEW, NEW]);
    expect(rows.map((r) => r.toState)).toEqual(['draft', 'submitted', 'in-review', 'accepted']);
    const result = w.replay(created.id);
    expect(result.problems).toEqual([]);
    expect(result.steps.map((s) => s.replayedState)).toEqual(['draft', 'submitted', 'in-review', 'accepted']);
    // Replayed without the new version, the new stream is reported, not thrown.
    const withoutV2 = w.replay(created.id, defaultRegistry());
    expect(withoutV2.ok).toBe(false);
    expect(withoutV2.problems.filter((p) => p.kind === 'unknown-machine-version').map((p) => p.seq)).toEqual([1, 2, 3, 4]);
    expect(verifyLedger(w.db, defaultRegistry()).problems.some((p) => p.stream === applicationStreamId(created.id) && p.kind === 'unknown-machine-version')).toBe(true);
  });

  it('an old stream crosses to the new version through the migration at its next event, and replays across the border', () => {
    const w = world(registryWith(v2()));
    const old = w.inState('under-review');
    const applied = sendApplicationEvent(w.engine, w.user('reviewer1'), old.id, 'return-for-revision', { remarks: [{ field: 'general', text: 'Приложите смету.' }] }, old.version);
    expect(applied.state).toBe('returned');
    const rows = loadStreamEvents(w.db, applicationStreamId(old.id));
    expect(rows.at(-1)!.machineVersion).toBe(NEW);
    expect(rows.slice(0, -1).every((r) => r.machineVersion === OLD)).toBe(true);
    expect(w.engine.loadStream(applicationStreamId(old.id))!.machineVersion).toBe(NEW);
    const result = w.replay(old.id);
    expect(result.problems).toEqual([]);
    expect(result.steps.at(-2)!.replayedState).toBe('under-review');
    expect(result.steps.at(-1)).toMatchObject({ replayedState: 'returned', machineVersion: NEW, matches: true });
    expect(verifyLedger(w.db, w.engine.registry).problems).toEqual([]);
  });

  it('without a migration, an old stream stays on its version', () => {
    const w = world(registryWith(v2({ migrate: undefined })));
    const old = w.inState('under-review');
    sendApplicationEvent(w.engine, w.user('reviewer1'), old.id, 'accept', {}, old.version);
    expect(loadStreamEvents(w.db, applicationStreamId(old.id)).at(-1)!.machineVersion).toBe(OLD);
    expect(verifyLedger(w.db, w.engine.registry).problems).toEqual([]);
  });
});

describe('what cannot be replayed is reported, never thrown', () => {
  it('an event of the new version with that version no longer registered: unknown machine version, by seq', () => {
    const w = world(registryWith(v2()));
    const old = w.inState('under-review');
    sendApplicationEvent(w.engine, w.user('reviewer1'), old.id, 'accept', {}, old.version);
    const result = w.replay(old.id, defaultRegistry());
    const last = result.steps.at(-1)!;
    expect(result.problems).toContainEqual(expect.objectContaining({ stream: applicationStreamId(old.id), seq: last.seq, kind: 'unknown-machine-version' }));
    expect(last.replayedState).toBeNull();
  });

  it('the old version redefined without a state its streams used: unknown state, by seq', () => {
    const w = world(defaultRegistry());
    const old = w.inState('under-review');
    const broken = new MachineRegistry().register({ ...v1, machine: machineWith('under-review', 'in-review') });
    const result = w.replay(old.id, broken);
    expect(result.ok).toBe(false);
    const review = loadStreamEvents(w.db, applicationStreamId(old.id)).find((r) => r.toState === 'under-review')!;
    expect(result.problems).toContainEqual(expect.objectContaining({ seq: review.seq, kind: 'unknown-state' }));
    // The whole ledger verifies to a report, with a problem for each stream that used the state.
    const report = verifyLedger(w.db, broken);
    expect(report.ok).toBe(false);
    expect(kinds(report.problems)).toContain('unknown-state');
  });

  it('a migration into a state the new version lacks: unknown state at its first event', () => {
    const w = world(registryWith(v2()));
    const old = w.inState('under-review');
    sendApplicationEvent(w.engine, w.user('reviewer1'), old.id, 'accept', {}, old.version);
    const badMigration = registryWith(v2({ migrate: (s) => ({ ...s, value: 'nowhere' }) }));
    const result = w.replay(old.id, badMigration);
    expect(result.problems).toContainEqual(expect.objectContaining({ seq: old.version + 1, kind: 'unknown-state' }));
  });

  it('a migration that throws, or none at all, is a replay error at that event', () => {
    const w = world(registryWith(v2()));
    const old = w.inState('under-review');
    sendApplicationEvent(w.engine, w.user('reviewer1'), old.id, 'accept', {}, old.version);
    const throwing = w.replay(old.id, registryWith(v2({ migrate: () => { throw new Error('cannot'); } })));
    expect(throwing.problems).toContainEqual(expect.objectContaining({ seq: old.version + 1, kind: 'replay-error' }));
    const missing = w.replay(old.id, registryWith(v2({ migrate: undefined })));
    expect(missing.problems).toContainEqual(expect.objectContaining({ seq: old.version + 1, kind: 'replay-error' }));
  });

  it('the engine refuses, as a 422 and without writing, an event on a stream whose version is not registered', () => {
    const w = world(registryWith(v2()));
    const old = w.inState('under-review');
    sendApplicationEvent(w.engine, w.user('reviewer1'), old.id, 'accept', {}, old.version);
    const engine = new Engine(w.db, { registry: defaultRegistry() });
    installWorkflows(engine);
    const count = () => w.db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()!.n;
    const before = count();
    expect(() => sendApplicationEvent(engine, w.user('commission1'), old.id, 'score', { significance: 4 }, old.version + 1)).toThrow(/not registered/);
    expect(count()).toBe(before);
  });
});
