import { sql } from 'drizzle-orm';
import type { AnyMachineSnapshot } from 'xstate';
import type { Db } from '../db/client.ts';
import { applications, programmes, stages } from '../db/schema.ts';
import type { Actor } from '../domain/roles.ts';
import { stageMachineId, type StageContext } from '../../machines/stage.ts';
import { stageDefinitions, stagesOwning, type StageFacts, type StageStateName } from '../../machines/stages.ts';
import type { AppliedEvent, Engine, StreamRow } from './engine.ts';
import { NotAllowedError, NotFoundError } from './errors.ts';

export type StageRow = typeof stages.$inferSelect;

export const stageStreamId = (programmeId: number, no: number) => `stage-${programmeId}-${no}`;

/** The reads the stage side of the engine needs, prepared once. */
export function stageReads(db: Db) {
  const activeKeys = db
    .select({ key: stages.key })
    .from(stages)
    .where(sql`${stages.programmeId} = ${sql.placeholder('programmeId')} AND ${stages.state} = 'active'`)
    .orderBy(stages.no)
    .prepare();
  const allOfProgramme = db
    .select()
    .from(stages)
    .where(sql`${stages.programmeId} = ${sql.placeholder('programmeId')}`)
    .orderBy(stages.no)
    .prepare();
  const byStream = db
    .select()
    .from(stages)
    .where(sql`${stages.streamId} = ${sql.placeholder('streamId')}`)
    .prepare();
  const countsByState = db
    .select({ state: applications.state, count: sql<number>`count(*)` })
    .from(applications)
    .where(sql`${applications.programmeId} = ${sql.placeholder('programmeId')}`)
    .groupBy(applications.state)
    .prepare();
  const programme = db
    .select({ fundKopecks: programmes.fundKopecks, capKopecks: programmes.capKopecks })
    .from(programmes)
    .where(sql`${programmes.id} = ${sql.placeholder('programmeId')}`)
    .prepare();
  return {
    activeStageKeys: (programmeId: number): string[] => activeKeys.all({ programmeId }).map((row) => row.key),
    stagesOf: (programmeId: number): StageRow[] => allOfProgramme.all({ programmeId }),
    stageOfStream: (streamId: string): StageRow | undefined => byStream.get({ streamId }),
    applicationCounts: (programmeId: number): Record<string, number> =>
      Object.fromEntries(countsByState.all({ programmeId }).map((row) => [row.state, row.count])),
    stageFacts(programmeId: number): StageFacts {
      const rows = allOfProgramme.all({ programmeId });
      return {
        stageStates: Object.fromEntries(rows.map((row) => [row.key, row.state as StageStateName])),
        applicationCounts: Object.fromEntries(countsByState.all({ programmeId }).map((row) => [row.state, row.count])),
        programme: programme.get({ programmeId }) ?? { fundKopecks: 0, capKopecks: 0 },
        unscheduledStages: rows.filter((row) => !row.plannedStart || !row.plannedEnd).map((row) => row.key),
      };
    },
  };
}

/** Whether an application event may be sent while these stages are active: one of them owns it, or no stage does. */
export function stageOpenFor(eventType: string, activeStages: readonly string[]): boolean {
  const owners = stagesOwning(eventType);
  return owners.length === 0 || owners.some((stage) => activeStages.includes(stage.key));
}

/**
 * Refuses an application event no active stage owns, naming the stages that would have to be
 * active. Events that no stage owns (withdraw, terminate) pass: the state alone decides them.
 */
export function assertStageOpen(eventType: string, activeStages: readonly string[]): void {
  if (stageOpenFor(eventType, activeStages)) return;
  const owners = stagesOwning(eventType);
  throw new NotAllowedError(
    `${eventType} is possible only while one of these stages is active: ${owners.map((s) => s.title.en).join(', ')}`,
    { event: eventType, stages: owners.map((s) => s.key).join(',') },
    'stage.closed',
  );
}

/** The stage side of the write path: facts for start and complete, refusals in words, the projection. */
export function installStageHooks(engine: Engine): void {
  const reads = stageReads(engine.db);
  const project = engine.db
    .update(stages)
    .set({
      state: sql`${sql.placeholder('state')}`,
      version: sql`${sql.placeholder('version')}`,
      plannedStart: sql`${sql.placeholder('plannedStart')}`,
      plannedEnd: sql`${sql.placeholder('plannedEnd')}`,
      startedAt: sql`${sql.placeholder('startedAt')}`,
      completedAt: sql`${sql.placeholder('completedAt')}`,
      tasksDone: sql`${sql.placeholder('tasksDone')}`,
      tasksTotal: sql`${sql.placeholder('tasksTotal')}`,
      updatedAt: sql`${sql.placeholder('updatedAt')}`,
    })
    .where(sql`${stages.streamId} = ${sql.placeholder('streamId')}`)
    .prepare();

  engine.hook(stageMachineId, {
    facts(stream, type) {
      const stage = reads.stageOfStream(stream.id);
      if (!stage) return {};
      if (type === 'start') {
        const previous = reads.stagesOf(stage.programmeId).find((row) => row.no === stage.no - 1);
        return { previousState: previous?.state ?? null };
      }
      if (type === 'complete') return { exit: reads.stageFacts(stage.programmeId) };
      return {};
    },
    explainRefusal(stream, snapshot, type, facts) {
      const context = snapshot.context as StageContext;
      const state = stream.state;
      if (type === 'start' && state === 'planned' && facts.previousState === 'planned') {
        const previous = stageDefinitions.find((d) => d.no === context.no - 1)!;
        throw new NotAllowedError(`the stage before, ${previous.title.en}, has not started`, { stage: previous.key }, 'stage.refused.previous-planned');
      }
      if (type === 'complete' && state === 'active') {
        const open = context.tasks.filter((t) => !t.done).length;
        if (open > 0) throw new NotAllowedError(`${open} task(s) of the checklist are not done`, { count: open }, 'stage.refused.tasks-open');
        const definition = stageDefinitions.find((d) => d.key === context.key);
        const verdict = definition?.exit(facts.exit as StageFacts);
        if (verdict && !verdict.holds) throw new NotAllowedError(`the exit condition does not hold: ${verdict.code}`, verdict.params ?? {}, `stage.exit.${verdict.code}`);
      }
      if ((type === 'complete-task' || type === 'reopen-task') && state !== 'active') {
        throw new NotAllowedError('tasks are ticked only while the stage is active', {}, 'stage.refused.not-active');
      }
      return [];
    },
    project(stream: StreamRow, snapshot: AnyMachineSnapshot) {
      const context = snapshot.context as StageContext;
      project.run({
        streamId: stream.id,
        state: stream.state,
        version: stream.version,
        plannedStart: context.plannedStart,
        plannedEnd: context.plannedEnd,
        startedAt: context.startedAt,
        completedAt: context.completedAt,
        tasksDone: context.tasks.filter((t) => t.done).length,
        tasksTotal: context.tasks.length,
        updatedAt: stream.updatedAt,
      });
    },
  });
}

/** Creates the twelve stage streams of a new programme, planned, inside the caller's transaction. */
export function createStages(engine: Engine, actor: Actor, programmeId: number, planned: Record<number, { start: string; end: string }> = {}): AppliedEvent[] {
  return stageDefinitions.map((definition) => {
    const streamId = stageStreamId(programmeId, definition.no);
    const dates = planned[definition.no];
    return engine.create({
      streamId,
      kind: 'stage',
      machineId: stageMachineId,
      input: {
        programmeId,
        no: definition.no,
        key: definition.key,
        tasks: definition.tasks.map((t) => t.key),
        plannedStart: dates?.start ?? null,
        plannedEnd: dates?.end ?? null,
      },
      actor,
      afterCreate: (stream) => {
        engine.db
          .insert(stages)
          .values({
            streamId,
            programmeId,
            no: definition.no,
            key: definition.key,
            state: stream.state,
            version: stream.version,
            plannedStart: dates?.start ?? null,
            plannedEnd: dates?.end ?? null,
            tasksTotal: definition.tasks.length,
            updatedAt: stream.updatedAt,
          })
          .run();
      },
    });
  });
}

export function findStage(engine: Engine, programmeId: number, no: number): StageRow {
  const row = stageReads(engine.db).stageOfStream(stageStreamId(programmeId, no));
  if (!row) throw new NotFoundError(`stage ${no} of programme ${programmeId} not found`);
  return row;
}

export function sendStageEvent(engine: Engine, actor: Actor, programmeId: number, no: number, type: string, payload: unknown, expectedVersion: number): AppliedEvent {
  findStage(engine, programmeId, no);
  return engine.apply(stageStreamId(programmeId, no), { type, payload }, expectedVersion, actor);
}
