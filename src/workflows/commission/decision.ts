import { z } from 'zod';
import { zodProblems } from '../../domain/problems.ts';
import type { Actor } from '../../domain/roles.ts';
import { refusal, type Engine } from '../../engine/engine.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import { canonicalJson, sha256 } from '../../engine/ledger.ts';
import { ledgerHeadOf } from '../../engine/verify.ts';
import { decisionSeal } from '../../engine/decision-check.ts';
import { commissionReads, type DecisionMember, type DecisionView, type RankingView } from './reads.ts';
import { decisionRoles, whyNotDecide } from './rules.ts';
import { recordMeeting } from './meeting.ts';

/**
 * The commission's decision (issue 5): every accepted application awarded or not in one
 * transaction, with the ranking and the ledger head recorded for the protocol.
 */

export const decisionInputSchema = z.strictObject({
  /** The ids of the commission members present at the meeting. */
  membersPresent: z.array(z.number().int().positive()).min(1).max(100),
  /** The meeting, for the protocol (issue 16): its day, place, chair and secretary (members both); each may be left for the paper. */
  meeting: z
    .strictObject({
      heldOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
      place: z.string().trim().min(1).max(300).optional(),
      chairId: z.number().int().positive().optional(),
      secretaryId: z.number().int().positive().optional(),
    })
    .optional(),
});
/**
 * Records the commission's decision: `award` with the allocated amount, or `not-award`, to every
 * accepted application in one transaction — all of them or none. Refused while stage 7 is not
 * active, when any accepted application has fewer member scores than the quorum, when there is
 * nothing to decide, and a second time.
 */
export function recordDecision(engine: Engine, actor: Actor, programmeId: number, input: unknown): DecisionView {
  if (!decisionRoles.includes(actor.role)) throw new ForbiddenError('only the commission records its decision');
  const parsed = decisionInputSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError('the decision is invalid', zodProblems(parsed.error));
  const reads = commissionReads(engine.db);
  engine.transaction(() => {
    if (!reads.programme(programmeId)) throw new NotFoundError(`programme ${programmeId} not found`);
    const ranking = reads.liveRanking(programmeId)!;
    const problems = whyNotDecide(reads.decisionFacts(programmeId, ranking));
    if (problems.length > 0) throw refusal('decide', problems);
    const members = new Map(reads.members().map((m) => [m.id, m]));
    const present: DecisionMember[] = [];
    for (const id of new Set(parsed.data.membersPresent)) {
      const member = members.get(id);
      if (!member) throw new ValidationError('not a commission member', [{ field: 'membersPresent', code: 'unknown-member', params: { id } }]);
      present.push(member);
    }
    const meeting = parsed.data.meeting ?? {};
    for (const field of ['chairId', 'secretaryId'] as const) {
      if (meeting[field] !== undefined && !members.has(meeting[field])) throw new ValidationError('not a commission member', [{ field: `meeting.${field}`, code: 'unknown-member' }]);
    }
    // The record whole, made before the events it decides: each carries its seal (every column's
    // hash) in its facts, so verify proves the record by the chain (issue 17.2, src/engine/decision-check.ts).
    const { rows, ...rest } = ranking;
    const record: RankingView = { ...rest, rows: rows.map(({ streamId: _s, version: _v, ...shown }) => shown) };
    const columns = {
      programmeId,
      decidedAt: engine.now().toISOString(),
      decidedBy: canonicalJson({ id: actor.id, login: actor.login, name: actor.name, role: actor.role }),
      membersPresent: canonicalJson(present),
      record: canonicalJson(record),
    };
    const facts = { decision: decisionSeal(columns) };
    for (const row of ranking.rows) {
      // The log keeps codes, not words: the protocol and the history say them in the reader's language.
      const event =
        row.allocatedKopecks > 0
          ? { type: 'award', payload: { amountKopecks: row.allocatedKopecks } }
          : { type: 'not-award', payload: { why: row.why ?? 'over-remainder', rank: row.rank, count: ranking.rows.length } };
      engine.apply(row.streamId, event, row.version, actor, { channel: 'decision', facts });
    }
    const ledger = ledgerHeadOf(engine.db);
    reads.insertDecision({
      ...columns,
      recordHash: sha256(columns.record),
      ledgerHead: ledger.head,
      ledgerEvents: ledger.events,
    });
    recordMeeting(engine.db, programmeId, {
      heldOn: meeting.heldOn ?? null,
      place: meeting.place ?? null,
      chairName: meeting.chairId !== undefined ? members.get(meeting.chairId)!.name : null,
      secretaryName: meeting.secretaryId !== undefined ? members.get(meeting.secretaryId)!.name : null,
      membership: [...members.values()],
    });
  });
  return reads.decision(programmeId)!;
}
