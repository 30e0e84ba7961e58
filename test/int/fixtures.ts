import type { Actor } from '../../src/domain/roles.ts';
import type { ApplicationForm } from '../../src/domain/application.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { stageDefinitions, type StageKey } from '../../machines/stages.ts';
import type { DocumentRule } from '../../src/domain/documents.ts';
import { createProgramme, type ProgrammeInput, type ProgrammeRow } from '../../src/workflows/programme/create.ts';
import { sendStageEvent } from '../../src/workflows/stage/commands.ts';

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
  /** Ticks every task of an active stage and completes it. */
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
