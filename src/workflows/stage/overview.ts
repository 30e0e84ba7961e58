import { dateTimeFormat } from '../../domain/intl.ts';
import type { Problem } from '../../domain/problems.ts';
import type { Actor } from '../../domain/roles.ts';
import type { Engine, EventOption } from '../../engine/engine.ts';
import type { StageContext } from '../../../machines/stage.ts';
import { stageDefinitions } from '../../../machines/stages.ts';
import { stageReads, type StageRow } from './reads.ts';

export interface StageView {
  no: number;
  key: string;
  state: string;
  version: number;
  plannedStart: string | null;
  plannedEnd: string | null;
  startedAt: string | null;
  completedAt: string | null;
  tasks: { key: string; done: boolean; doneAt: string | null; doneBy: string | null }[];
  reopenings: { at: string; reason: string }[];
  ownsEvents: readonly string[];
  holdsStates: readonly string[];
  /** The events this actor may send now (no rule blocks them). */
  allowedEvents: string[];
  /** Every event the state takes and the role may send, with what the stage's rules say of it now. */
  options: EventOption[];
  overdue: boolean;
}

/** The programme's date today, in its own time zone: what "overdue" is measured against. */
export function localToday(timeZone: string, now: Date): string {
  return dateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** A stage is overdue when it is not completed and its planned end is behind the programme's today. */
export function isOverdue(stage: Pick<StageRow, 'state' | 'plannedEnd'>, today: string): boolean {
  return stage.state !== 'completed' && stage.plannedEnd !== null && stage.plannedEnd < today;
}

/** The twelve stages of a programme with their checklists and what this actor may do with each. */
export function programmeStages(engine: Engine, actor: Actor, programmeId: number, timeZone: string, now: Date): StageView[] {
  const today = localToday(timeZone, now);
  return stageReads(engine.db)
    .stagesOf(programmeId)
    .map((row) => {
      const definition = stageDefinitions.find((d) => d.key === row.key)!;
      const stream = engine.loadStream(row.streamId)!;
      const context = (JSON.parse(stream.snapshot) as { context: StageContext }).context;
      const options = engine.eventOptions(stream, actor);
      return {
        no: row.no,
        key: row.key,
        state: row.state,
        version: row.version,
        plannedStart: row.plannedStart,
        plannedEnd: row.plannedEnd,
        startedAt: row.startedAt,
        completedAt: row.completedAt,
        tasks: context.tasks,
        reopenings: context.reopenings,
        ownsEvents: definition.ownsEvents,
        holdsStates: definition.holdsStates,
        allowedEvents: options.filter((option) => option.open).map((option) => option.type),
        options,
        overdue: isOverdue(row, today),
      };
    });
}

/** Why the stage cannot be completed now, as the coordinator would be told on pressing the button. */
export function completionBlockers(stage: StageView): Problem[] {
  return stage.options.find((option) => option.type === 'complete')?.problems ?? [];
}
