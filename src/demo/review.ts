import type { Db } from '../db/client.ts';
import type { Actor } from '../domain/roles.ts';
import type { Engine } from '../engine/engine.ts';
import { sendApplicationEvent } from '../workflows/application/commands.ts';
import { declareConflict } from '../workflows/reviewer/commands.ts';

/**
 * The reviewers' working day in the demo (issue 16), made through the engine: a declared conflict
 * of interest, and the coordinator assigning the fresh submissions — half to reviewer1, some to
 * reviewer2, the rest left for the "unassigned" tab — so that "mine" holds a day's work.
 */
export function seedReviewDay(db: Db, engine: Engine, actors: { coordinator: Actor; reviewer: Actor; reviewer2: Actor }, programmeId: number, at: (moment: Date) => void, now: Date): void {
  const glazov = db.$client.prepare<[string], { id: number }>('SELECT id FROM municipalities WHERE name = ?').get('город Глазов');
  at(new Date(now.getTime() - 6 * 60 * 60 * 1000));
  if (glazov) declareConflict(engine, actors.reviewer2, { municipalityId: glazov.id, reason: 'Брат работает в администрации города Глазова.' }, 0);
  const unassigned = db.$client
    .prepare<[number], { id: number; version: number; municipalityId: number }>(
      `SELECT application_id AS id, version, municipality_id AS municipalityId FROM review_queue WHERE programme_id = ? AND lane = 'r:0' ORDER BY waiting_since, application_id`,
    )
    .all(programmeId);
  const conflicted = new Set(glazov ? [glazov.id] : []);
  unassigned.forEach((row, index) => {
    // Every other one to reviewer1, every fourth to reviewer2 (never an application of the municipality they declared), the rest unassigned.
    const reviewer = index % 2 === 0 ? actors.reviewer : index % 4 === 1 && !conflicted.has(row.municipalityId) ? actors.reviewer2 : null;
    if (!reviewer) return;
    at(new Date(now.getTime() - (5 - index * 0.1) * 60 * 60 * 1000));
    sendApplicationEvent(engine, actors.coordinator, row.id, 'assign', { reviewerId: reviewer.id }, row.version);
  });
}
