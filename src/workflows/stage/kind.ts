import type { AnyMachineSnapshot } from 'xstate';
import type { Db } from '../../db/client.ts';
import type { StreamKind, StreamRow } from '../../engine/engine.ts';
import { stageMachineId, type StageContext } from '../../../machines/stage.ts';
import { informingFacts, stageHoldsInforming } from '../informing/rounds.ts';
import { stageReads } from './reads.ts';

/**
 * The stage kind of stream (DESIGN §2): the facts `start` and `complete` need (the stage before,
 * the exit condition's counts) and the `stages` projection the timeline and the gating read.
 */
export function stageKind(db: Db): StreamKind {
  const reads = stageReads(db);
  const project = db.$client.prepare(
    `UPDATE stages SET state = @state, version = @version, planned_start = @plannedStart, planned_end = @plannedEnd, started_at = @startedAt,
       completed_at = @completedAt, tasks_done = @tasksDone, tasks_total = @tasksTotal, updated_at = @updatedAt WHERE stream_id = @streamId`,
  );
  return {
    machineId: stageMachineId,
    facts(stream, type) {
      const stage = reads.stageOfStream(stream.id);
      if (!stage) return {};
      if (type === 'start') {
        const previous = reads.stagesOf(stage.programmeId).find((row) => row.no === stage.no - 1);
        return { previousState: previous?.state ?? null };
      }
      if (type === 'complete') return { exit: reads.stageFacts(stage.programmeId) };
      // The stage that informs the participants ticks that task from the delivery record (issue 12).
      if (type === 'complete-task' && stageHoldsInforming(stage.key)) return { informing: informingFacts(db, stage.programmeId) };
      return {};
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
  };
}
