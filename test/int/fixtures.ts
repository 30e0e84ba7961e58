import type { Actor } from '../../src/domain/roles.ts';
import type { ApplicationForm } from '../../src/domain/application.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { stageDefinitions, type StageKey } from '../../machines/stages.ts';
import type { DocumentRule } from '../../src/domain/documents.ts';
import { createProgramme, type ProgrammeInput, type ProgrammeRow } from '../../src/workflows/programme/create.ts';
import { sendStageEvent } from '../../src/workflows/stage/commands.ts';
import { recordJournalEntry } from '../../src/workflows/journal/commands.ts';
import { journalReads } from '../../src/workflows/journal/reads.ts';
import { DocumentStore, documentsDirFor } from '../../src/workflows/documents/store.ts';

/**
 * Records in the journal what a stage's exit condition waits for (issue 14): an announcement
 * before stage 1 completes, a training before stage 2, a final meeting in every municipality
 * that applied before stage 4. Returns how many events it wrote.
 */
export function recordStageEvidence(engine: Engine, coordinator: Actor, programmeId: number, no: number): number {
  const store = new DocumentStore(documentsDirFor(engine.db));
  const date = engine.now().toISOString().slice(0, 10);
  const record = (kind: string, fields: Record<string, unknown>) => recordJournalEntry(engine, store, coordinator, programmeId, { kind, fields }).version;
  if (no === 1) return record('announcement', { channel: 'site', date, title: 'Объявлен конкурсный отбор', link: 'https://example.org/konkurs' });
  if (no === 2) {
    const municipalityIds = engine.db.$client.prepare<[], { id: number }>('SELECT id FROM municipalities ORDER BY id LIMIT 3').all().map((row) => row.id);
    if (municipalityIds.length === 0) throw new Error('a training needs a municipality: create one first');
    return record('training', { date, topic: 'Как подготовить заявку', format: 'online', municipalityIds, participants: 25 });
  }
  if (no === 4) {
    let events = 0;
    for (const municipality of journalReads(engine.db).appliedMunicipalities(programmeId)) {
      const held = journalReads(engine.db).counts(programmeId).byMunicipality['final-meeting']?.[String(municipality.id)] ?? 0;
      if (held === 0) events += record('final-meeting', { municipalityId: municipality.id, settlement: 'с. Якшур-Бодья', date, attendance: 120, project: 'Ремонт дороги' });
    }
    return events;
  }
  return 0;
}

/** A programme as the tests create it: the demo's parameters, a year of their own. */
/** A form that every programme rule of the demo accepts. */
export const completeForm: ApplicationForm = {
  title: 'Ремонт дороги по ул. Лесной',
  projectType: 'roads',
  settlement: 'с. Якшур-Бодья',
  population: 2300,
  beneficiaries: 1100,
  meetingAttendance: 210,
  problem: 'Дорога разбита, в распутицу не проходит школьный автобус.',
  description: 'Отсыпка щебнем и асфальтирование 600 м дороги.',
  durationMonths: 5,
  costs: { subsidy: 120_000_000, localBudget: 12_000_000, residents: 6_000_000, business: 3_000_000 },
};

export const programmeInput: ProgrammeInput = {
  title: 'Наша инициатива — 2027',
  year: 2027,
  region: 'Удмуртская Республика',
  timeZone: 'Europe/Samara',
  fundKopecks: 6_000_000_000,
  capKopecks: 150_000_000,
  minLocalShareBp: 500,
  minResidentsShareBp: 300,
};

/** Planned dates for all twelve stages (stage n in month n), so that the preparation stage may complete. */
export function yearPlan(year: number): Record<number, { start: string; end: string }> {
  return Object.fromEntries(
    stageDefinitions.map((d) => {
      const month = String(d.no).padStart(2, '0');
      return [d.no, { start: `${year}-${month}-01`, end: `${year}-${month}-28` }];
    }),
  );
}

export interface StagedProgramme {
  programme: ProgrammeRow;
  programmeId: number;
  /** The current version of each stage stream, by stage number. */
  versions: Map<number, number>;
  /** How many events the fixture wrote: the twelve creations and every stage event after them. */
  events: number;
  /** Sends a coordinator's stage event at the stage's current version and keeps the version. */
  send(no: number, type: string, payload?: unknown): number;
  /** Records the journal's evidence the stage's exit waits for, ticks every task of an active stage and completes it. */
  complete(no: number): void;
}

/**
 * Creates a programme through `createProgramme` and drives its stages through the engine so that
 * exactly the stages in `active` are active: every stage before the last of them is started in
 * order (a stage cannot start while the one before it is planned), those not listed are completed
 * (all tasks ticked, exit condition holding), and the stages after the last one stay planned.
 * The engine must have `installStageHooks` installed.
 */
export function programmeWithActiveStages(
  engine: Engine,
  actors: { admin: Actor; coordinator: Actor },
  active: readonly StageKey[],
  /**
   * `documentRules`: the documents the programme requires. None by default: the workflow tests
   * are about the form and the stages; the document tests pass `defaultDocumentRules` (issue 7).
   */
  options: { input?: Partial<ProgrammeInput>; documentRules?: readonly DocumentRule[] } = {},
): StagedProgramme {
  const input = { ...programmeInput, ...options.input };
  const programme = createProgramme(engine, actors.admin, input, yearPlan(input.year), { documentRules: options.documentRules ?? [] });
  const versions = new Map(stageDefinitions.map((d) => [d.no, 1]));
  const staged: StagedProgramme = {
    programme,
    programmeId: programme.id,
    versions,
    events: stageDefinitions.length,
    send(no, type, payload = {}) {
      const version = sendStageEvent(engine, actors.coordinator, programme.id, no, type, payload, versions.get(no)!).version;
      versions.set(no, version);
      staged.events += 1;
      return version;
    },
    complete(no) {
      staged.events += recordStageEvidence(engine, actors.coordinator, programme.id, no);
      for (const task of stageDefinitions.find((d) => d.no === no)!.tasks) staged.send(no, 'complete-task', { task });
      staged.send(no, 'complete');
    },
  };
  const unknown = active.filter((key) => !stageDefinitions.some((d) => d.key === key));
  if (unknown.length > 0) throw new Error(`no such stages: ${unknown.join(', ')}`);
  const last = Math.max(0, ...stageDefinitions.filter((d) => active.includes(d.key)).map((d) => d.no));
  for (const definition of stageDefinitions.filter((d) => d.no <= last)) {
    staged.send(definition.no, 'start');
    if (!active.includes(definition.key)) staged.complete(definition.no);
  }
  return staged;
}
