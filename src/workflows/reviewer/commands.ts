import type { Actor } from '../../domain/roles.ts';
import type { AppliedEvent, Engine } from '../../engine/engine.ts';
import { reviewerMachineId, reviewerStreamId } from '../../../machines/reviewer.ts';

/**
 * Declares a conflict of interest with a municipality (issue 16), opening the reviewer's stream at
 * the first declaration. `expectedVersion` is the stream's version as the page showed it (0: none yet).
 */
export function declareConflict(engine: Engine, actor: Actor, input: { municipalityId: number; reason: string }, expectedVersion: number): AppliedEvent {
  return engine.transaction(() => {
    const streamId = reviewerStreamId(actor.id);
    let version = expectedVersion;
    if (!engine.loadStream(streamId) && expectedVersion === 0) {
      version = engine.create({ streamId, kind: 'reviewer', machineId: reviewerMachineId, input: { userId: actor.id }, actor }).version;
    }
    return engine.apply(streamId, { type: 'declare-conflict', payload: input }, version, actor);
  });
}

/** Withdraws a declared conflict: the reviewer may review that municipality's applications again. */
export function withdrawConflict(engine: Engine, actor: Actor, municipalityId: number, expectedVersion: number): AppliedEvent {
  return engine.apply(reviewerStreamId(actor.id), { type: 'withdraw-conflict', payload: { municipalityId } }, expectedVersion, actor);
}

/** The version of a reviewer's stream, 0 before their first declaration. */
export function reviewerStreamVersion(engine: Engine, userId: number): number {
  return engine.loadStream(reviewerStreamId(userId))?.version ?? 0;
}
