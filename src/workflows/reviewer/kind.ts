import type { AnyMachineSnapshot } from 'xstate';
import type { Db } from '../../db/client.ts';
import type { StreamKind, StreamRow } from '../../engine/engine.ts';
import { reviewerMachineId, reviewerOverseerRoles, type ReviewerContext } from '../../../machines/reviewer.ts';
import { reviewerReads } from './reads.ts';


/**
 * The reviewer kind of stream (issue 16): a reviewer's declared conflicts of interest. Its facts
 * say whether the municipality named exists; its projection is `reviewer_conflicts`, which the
 * application's assignment rules read.
 */
export function reviewerKind(db: Db): StreamKind {
  const reads = reviewerReads(db);
  const clear = db.$client.prepare<[number]>('DELETE FROM reviewer_conflicts WHERE reviewer_id = ?');
  const insert = db.$client.prepare<[{ reviewerId: number; municipalityId: number; reason: string; declaredAt: string }]>(
    'INSERT INTO reviewer_conflicts (reviewer_id, municipality_id, reason, declared_at) VALUES (@reviewerId, @municipalityId, @reason, @declaredAt)',
  );
  const userOf = (stream: StreamRow) => (JSON.parse(stream.snapshot) as { context: ReviewerContext }).context.userId;
  return {
    machineId: reviewerMachineId,
    maySee: (stream, actor) => actor.id === userOf(stream) || reviewerOverseerRoles.includes(actor.role),
    facts(_stream, _type, payload) {
      const id = (payload as { municipalityId?: unknown } | undefined)?.municipalityId;
      return typeof id === 'number' ? { municipalityKnown: reads.municipalityExists(id) } : {};
    },
    project(_stream: StreamRow, snapshot: AnyMachineSnapshot) {
      const context = snapshot.context as ReviewerContext;
      clear.run(context.userId);
      for (const conflict of context.conflicts) insert.run({ reviewerId: context.userId, municipalityId: conflict.municipalityId, reason: conflict.reason, declaredAt: conflict.since });
    },
  };
}
