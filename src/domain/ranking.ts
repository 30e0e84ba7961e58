/**
 * The ranking and the allocation of the subsidy fund (issue 5), pure: the same inputs give the
 * same protocol on every machine, and a municipality can check its row with a pencil.
 */

export interface Candidate {
  id: number;
  /** The total score in hundredths of a point (exact integers: ties are real ties). */
  totalCenti: number;
  /** The first submission, UTC ISO; the earlier one wins a tie. */
  firstSubmittedAt: string | null;
  requestedKopecks: number;
}

export interface AllocationRules {
  fundKopecks: number;
  capKopecks: number;
  /** Offer the first application that does not fit in what is left of the fund the rest of it. */
  partialAward: boolean;
}

/** Why an application got nothing. */
export type SkipReason = 'above-cap' | 'over-remainder' | 'nothing-requested';
export type Outcome = 'award' | 'partial' | 'skip';

export interface AllocatedRow<T extends Candidate = Candidate> {
  candidate: T;
  /** 1, 2, 3 … — ties are broken, so every rank is unique. */
  rank: number;
  allocatedKopecks: number;
  /** What is left of the fund after this row. */
  fundLeftKopecks: number;
  outcome: Outcome;
  why: SkipReason | null;
}

/** Total descending; a tie goes to the earlier first submission, then to the lower number. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.totalCenti !== b.totalCenti) return b.totalCenti - a.totalCenti;
  const at = a.firstSubmittedAt ?? '\uffff';
  const bt = b.firstSubmittedAt ?? '\uffff';
  if (at !== bt) return at < bt ? -1 : 1;
  return a.id - b.id;
}

export function rankCandidates<T extends Candidate>(candidates: readonly T[]): T[] {
  return [...candidates].sort(compareCandidates);
}

/**
 * Goes down the ranking: an application gets its requested subsidy when it is within the cap and
 * fits in what is left of the fund; otherwise it is skipped and the next one is tried. With the
 * partial option, the first one that does not fit the remainder is offered all of the remainder.
 */
export function allocate<T extends Candidate>(ranked: readonly T[], rules: AllocationRules): AllocatedRow<T>[] {
  let fundLeftKopecks = Math.max(0, rules.fundKopecks);
  let partialOffered = false;
  return ranked.map((candidate, index) => {
    const requested = candidate.requestedKopecks;
    const row = (allocatedKopecks: number, outcome: Outcome, why: SkipReason | null): AllocatedRow<T> => {
      fundLeftKopecks -= allocatedKopecks;
      return { candidate, rank: index + 1, allocatedKopecks, fundLeftKopecks, outcome, why };
    };
    if (requested <= 0) return row(0, 'skip', 'nothing-requested');
    if (requested > rules.capKopecks) return row(0, 'skip', 'above-cap');
    if (requested <= fundLeftKopecks) return row(requested, 'award', null);
    if (rules.partialAward && !partialOffered && fundLeftKopecks > 0) {
      partialOffered = true;
      return row(fundLeftKopecks, 'partial', null);
    }
    return row(0, 'skip', 'over-remainder');
  });
}

/** The ranking and the allocation in one step. */
export function rankAndAllocate<T extends Candidate>(candidates: readonly T[], rules: AllocationRules): AllocatedRow<T>[] {
  return allocate(rankCandidates(candidates), rules);
}
