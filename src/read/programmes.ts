import { dateTimeFormat } from '../domain/intl.ts';
import type { Db } from '../db/client.ts';
import type { Actor } from '../domain/roles.ts';
import type { Engine } from '../engine/engine.ts';
import { stageReads, type StageRow } from '../engine/stages.ts';
import type { StageContext } from '../../machines/stage.ts';
import { stageDefinitions } from '../../machines/stages.ts';

export interface StageView {
  no: number;
  key: string;
  title: { ru: string; en: string };
  state: string;
  version: number;
  plannedStart: string | null;
  plannedEnd: string | null;
  startedAt: string | null;
  completedAt: string | null;
  tasks: { key: string; title: { ru: string; en: string }; done: boolean; doneAt: string | null; doneBy: string | null }[];
  reopenings: { at: string; reason: string }[];
  ownsEvents: readonly string[];
  holdsStates: readonly string[];
  allowedEvents: string[];
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
      const entry = engine.registry.get(stream.machineId, stream.machineVersion);
      return {
        no: row.no,
        key: row.key,
        title: definition.title,
        state: row.state,
        version: row.version,
        plannedStart: row.plannedStart,
        plannedEnd: row.plannedEnd,
        startedAt: row.startedAt,
        completedAt: row.completedAt,
        tasks: context.tasks.map((task) => {
          const known = definition.tasks.find((t) => t.key === task.key);
          return { ...task, title: { ru: known?.ru ?? task.key, en: known?.en ?? task.key } };
        }),
        reopenings: context.reopenings,
        ownsEvents: definition.ownsEvents,
        holdsStates: definition.holdsStates,
        allowedEvents: entry ? engine.eventsInState(stream).filter((type) => entry.eventRoles[type]?.includes(actor.role)) : [],
        overdue: isOverdue(row, today),
      };
    });
}

export function applicationCountsOf(db: Db, programmeId: number): Record<string, number> {
  return stageReads(db).applicationCounts(programmeId);
}
