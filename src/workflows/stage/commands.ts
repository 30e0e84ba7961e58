import type { Actor } from '../../domain/roles.ts';
import type { AppliedEvent, Engine } from '../../engine/engine.ts';
import { stageMachineId } from '../../../machines/stage.ts';
import { stageDefinitions } from '../../../machines/stages.ts';
import { findStage, stageStreamId } from './reads.ts';

/** Creates the twelve stage streams of a new programme, planned, inside the caller's transaction. */
export function createStages(engine: Engine, actor: Actor, programmeId: number, planned: Record<number, { start: string; end: string }> = {}): AppliedEvent[] {
  const insert = engine.db.$client.prepare(
    `INSERT INTO stages (stream_id, programme_id, no, key, state, version, planned_start, planned_end, tasks_total, updated_at)
     VALUES (@streamId, @programmeId, @no, @key, @state, @version, @plannedStart, @plannedEnd, @tasksTotal, @updatedAt)`,
  );
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
        tasks: [...definition.tasks],
        plannedStart: dates?.start ?? null,
        plannedEnd: dates?.end ?? null,
      },
      actor,
      afterCreate: (stream) => {
        insert.run({
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
        });
      },
    });
  });
}

/** Sends a coordinator's event to one stage of a programme, through the one write path. */
export function sendStageEvent(engine: Engine, actor: Actor, programmeId: number, no: number, type: string, payload: unknown, expectedVersion: number): AppliedEvent {
  findStage(engine.db, programmeId, no);
  return engine.apply(stageStreamId(programmeId, no), { type, payload }, expectedVersion, actor);
}
