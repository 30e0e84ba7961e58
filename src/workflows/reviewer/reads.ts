import type { Db } from '../../db/client.ts';
import { perDatabase } from '../../db/statements.ts';
import { reviewingEventTypes } from '../../../machines/application.ts';

export interface DeclaredConflict {
  municipalityId: number;
  municipalityName: string;
  reason: string;
  declaredAt: string;
}

export interface ReviewerOption {
  id: number;
  name: string;
  /** Declared a conflict of interest with the municipality asked about. */
  conflict: boolean;
}

/** Conflicts of interest and reviewers, as the assignment rules and the pages read them (issue 16). */
export const reviewerReads = perDatabase((db: Db) => {
  const sqlite = db.$client;
  const conflictedWith = sqlite.prepare<[number], { reviewerId: number }>('SELECT reviewer_id AS reviewerId FROM reviewer_conflicts WHERE municipality_id = ? ORDER BY reviewer_id');
  const conflictsOf = sqlite.prepare<[number], DeclaredConflict>(
    `SELECT c.municipality_id AS municipalityId, m.name AS municipalityName, c.reason, c.declared_at AS declaredAt
     FROM reviewer_conflicts c JOIN municipalities m ON m.id = c.municipality_id WHERE c.reviewer_id = ? ORDER BY m.name`,
  );
  const user = sqlite.prepare<[number], { id: number; role: string; active: number }>('SELECT id, role, active FROM users WHERE id = ?');
  const reviewers = sqlite.prepare<[number], { id: number; name: string; conflict: number }>(
    `SELECT u.id, u.name, EXISTS (SELECT 1 FROM reviewer_conflicts c WHERE c.reviewer_id = u.id AND c.municipality_id = ?) AS conflict
     FROM users u WHERE u.role = 'reviewer' AND u.active = 1 ORDER BY u.name`,
  );
  const municipalityExists = sqlite.prepare<[number], { id: number }>('SELECT id FROM municipalities WHERE id = ?');
  const nameOf = sqlite.prepare<[number], { name: string }>('SELECT name FROM users WHERE id = ?');
  return {
    /** The reviewers who declared a conflict of interest with the municipality. */
    conflictedReviewers: (municipalityId: number): number[] => conflictedWith.all(municipalityId).map((row) => row.reviewerId),
    conflictsOf: (reviewerId: number): DeclaredConflict[] => conflictsOf.all(reviewerId),
    /** A user as `assign`'s rule reads them: their role and whether they may sign in. */
    assignee: (id: number): { id: number; role: string; active: boolean } | null => {
      const row = user.get(id);
      return row ? { id: row.id, role: row.role, active: row.active === 1 } : null;
    },
    /** The active reviewers, each marked when they declared a conflict with the municipality (0: none asked). */
    reviewers: (municipalityId = 0): ReviewerOption[] => reviewers.all(municipalityId).map((row) => ({ id: row.id, name: row.name, conflict: row.conflict === 1 })),
    municipalityExists: (id: number): boolean => municipalityExists.get(id) !== undefined,
    /** A user's name, for the assignee shown on the application page. */
    nameOf: (id: number): string | null => nameOf.get(id)?.name ?? null,
  };
});

/**
 * The facts an application event carries for the assignment rules (machines/application.ts):
 * who declared a conflict with its municipality — for a reviewer's events and `assign` — and, for
 * `assign`, the user the payload names. Nothing at all for other events, to keep events small.
 */
export function assignmentFacts(db: Db, municipalityId: number | undefined, type: string, payload: unknown): Record<string, unknown> {
  if (municipalityId === undefined || (type !== 'assign' && !(reviewingEventTypes as readonly string[]).includes(type))) return {};
  const reads = reviewerReads(db);
  const conflicted = reads.conflictedReviewers(municipalityId);
  const facts: Record<string, unknown> = conflicted.length > 0 ? { conflictedReviewers: conflicted } : {};
  if (type === 'assign' && payload !== undefined) {
    const reviewerId = (payload as { reviewerId?: unknown }).reviewerId;
    facts.assignee = typeof reviewerId === 'number' ? reads.assignee(reviewerId) : null;
  }
  return facts;
}
