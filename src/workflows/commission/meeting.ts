import type { Db } from '../../db/client.ts';
import { canonicalJson } from '../../engine/ledger.ts';
import type { DecisionMember } from './reads.ts';

/** The meeting a decision was taken at, as the protocol prints it (issue 16). */
export interface CommissionMeeting {
  heldOn: string | null;
  place: string | null;
  chairName: string | null;
  secretaryName: string | null;
  /** Every commission member when the decision was taken: the protocol sets those present against them. */
  membership: DecisionMember[];
}

/** Writes the meeting of the programme's decision, inside the decision's transaction. */
export function recordMeeting(db: Db, programmeId: number, meeting: CommissionMeeting): void {
  const decision = db.$client.prepare<[number], { id: number }>('SELECT id FROM commission_decisions WHERE programme_id = ?').get(programmeId)!;
  db.$client
    .prepare('INSERT INTO commission_meetings (decision_id, held_on, place, chair_name, secretary_name, membership) VALUES (?, ?, ?, ?, ?, ?)')
    .run(decision.id, meeting.heldOn, meeting.place, meeting.chairName, meeting.secretaryName, canonicalJson(meeting.membership));
}

/** The meeting of a decision; a decision recorded before meetings were kept has none. */
export function meetingOf(db: Db, decisionId: number): CommissionMeeting | null {
  const row = db.$client
    .prepare<[number], { heldOn: string | null; place: string | null; chairName: string | null; secretaryName: string | null; membership: string }>(
      'SELECT held_on AS heldOn, place, chair_name AS chairName, secretary_name AS secretaryName, membership FROM commission_meetings WHERE decision_id = ?',
    )
    .get(decisionId);
  return row ? { ...row, membership: JSON.parse(row.membership) as DecisionMember[] } : null;
}
