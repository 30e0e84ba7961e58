import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder, type Db } from '../../src/db/client.ts';
import { demoDb } from '../demo-template.ts';
import { commissionReads } from '../../src/workflows/commission/reads.ts';

/** The statements of one migration file, as drizzle's migrator runs them. */
function migration(name: string): string[] {
  return readFileSync(join(migrationsFolder, name), 'utf8').split('--> statement-breakpoint').map((s) => s.trim()).filter(Boolean);
}

describe('migration 0006: the scoring projection of applications made before it existed', () => {
  let db: Db;
  beforeAll(async () => {
    db = await demoDb({ now: '2027-06-15T09:00:00Z' });
  });
  afterAll(() => db.$client.close());

  it('fills application_scoring and scores from the snapshots, exactly as the projection writes them, and the ranking reads the same', () => {
    const sqlite = db.$client;
    const scoring = () => sqlite.prepare('SELECT * FROM application_scoring ORDER BY application_id').all();
    const scores = () => sqlite.prepare('SELECT * FROM scores ORDER BY application_id, member_id').all();
    const before = { scoring: scoring(), scores: scores(), ranking: commissionReads(db).liveRanking(2) };
    expect(before.scores.length, 'the demo has scored applications').toBeGreaterThan(0);
    // A database from before migration 0003's projections: the rows are not there.
    sqlite.exec('DELETE FROM scores; DELETE FROM application_scoring;');
    for (const statement of migration('0006_backfill_scoring.sql')) sqlite.exec(statement);
    expect(scoring()).toEqual(before.scoring);
    expect(scores()).toEqual(before.scores);
    expect(commissionReads(db).liveRanking(2)).toEqual(before.ranking);
    // Run again, it adds nothing.
    for (const statement of migration('0006_backfill_scoring.sql')) sqlite.exec(statement);
    expect(scores()).toEqual(before.scores);
  });
});

describe('migration 0012: the registration numbers of applications submitted before them', () => {
  let db: Db;
  beforeAll(async () => {
    db = await demoDb({ now: '2027-06-15T09:00:00Z' });
  });
  afterAll(() => db.$client.close());

  it('numbers them in the order of their first submission, as the write path numbered the demo, and the list finds them by it', () => {
    const sqlite = db.$client;
    const numbers = () =>
      sqlite
        .prepare<[], { id: number; no: string | null; seq: number | null; search: string }>(
          'SELECT id, registration_no AS no, registration_seq AS seq, search FROM applications ORDER BY id',
        )
        .all();
    const before = numbers();
    expect(before.filter((r) => r.no !== null).length, 'the demo has numbered applications').toBeGreaterThan(10);
    // A database from before numbers: none given, the search text without them.
    const rows = sqlite.prepare<[], { id: number; title: string; settlement: string | null }>('SELECT id, title, settlement FROM applications').all();
    const reset = sqlite.prepare('UPDATE applications SET registration_no = NULL, registration_seq = NULL, search = ? WHERE id = ?');
    for (const row of rows) reset.run(`${row.title} ${row.settlement ?? ''}`.toLocaleLowerCase('ru'), row.id);
    for (const statement of migration('0012_backfill_registration_numbers.sql')) sqlite.exec(statement);
    expect(numbers()).toEqual(before);
    // Run again, it changes nothing.
    for (const statement of migration('0012_backfill_registration_numbers.sql')) sqlite.exec(statement);
    expect(numbers()).toEqual(before);
  });
});
