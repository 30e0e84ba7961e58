import type { Problem } from '../../domain/problems.ts';
import type { Role } from '../../domain/roles.ts';
import { applicationEventRoles, stageClosed } from '../../../machines/application.ts';

/**
 * The commission's rules (issue 5), pure: when members may score, when the decision may be
 * recorded, when the criteria may still change. The pages ask these to offer their forms, the
 * commands throw what they return.
 */

/** What the decision's rules look at, at the moment it is asked. */
export interface DecisionFacts {
  decided: boolean;
  /** The state of stage 7, `commission`. */
  stageState: string;
  /** Every accepted application waiting for the decision, with how many members scored it. */
  rows: { applicationId: number; scoreCount: number }[];
  quorum: number;
}

export function whyNotDecide(facts: DecisionFacts): Problem[] {
  if (facts.decided) return [{ code: 'commission.refused.decided' }];
  if (facts.stageState !== 'active') return [{ code: 'commission.refused.stage', params: { stage: 'commission' } }];
  if (facts.rows.length === 0) return [{ code: 'commission.refused.nothing' }];
  const short = facts.rows.filter((row) => row.scoreCount < facts.quorum);
  if (short.length === 0) return [];
  return [{ code: 'commission.refused.quorum', params: { count: short.length, quorum: facts.quorum, ids: short.map((row) => `№${row.applicationId}`).join(', ') } }];
}

/** Members score while stage 7 is active and the decision is not recorded (after it, nothing is accepted any more). */
export function whyNotScore(role: Role, activeStages: readonly string[], decided: boolean): Problem[] {
  const problems: Problem[] = applicationEventRoles.score.includes(role) ? [] : [{ code: 'role', params: { role } }];
  if (decided) problems.push({ code: 'commission.refused.decided' });
  return [...problems, ...stageClosed('score', activeStages)];
}

/** Who may record the decision: whoever may send its events. */
export const decisionRoles: readonly Role[] = applicationEventRoles.award;

/** The criteria, weights, quorum and partial option are fixed once stage 7 has started. */
export function whyNotChangeSettings(commissionStageState: string): Problem[] {
  return commissionStageState === 'planned' ? [] : [{ code: 'commission.refused.settings-fixed', params: { stage: 'commission' } }];
}
