import type { Db } from '../db/client.ts';
import { statement } from '../db/statements.ts';
import type { ProjectionDifference } from './projections.ts';

/**
 * The facts stored with events checked against the streams they came from (issue 17.2). An event's
 * facts are what its guards read at that moment; replay trusts them, and the chain proves only
 * that they were not changed since. What is checked here is that they were right when written: the
 * active stages an event recorded must be the stages whose stage streams were active at its place
 * in the log — a forged stages table, or a bug, at write time shows here.
 */

/** A fact of an event that is not what the streams gave at its position: table `events`, key `stream/seq`, column `facts.<name>`. */
export interface FactDifference extends ProjectionDifference {
  stream: string;
  seq: number;
  position: number;
}

interface StageRow {
  streamId: string;
  programmeId: number;
  no: number;
  key: string;
}

interface FactRow {
  position: number;
  streamId: string;
  seq: number;
  machineId: string;
  toState: string;
  active: string | null;
}

/**
 * Every event whose `activeStages` fact is not the stages active at its position: one pass over the
 * log in order, keeping each stage stream's state as its events set it.
 */
export function factDifferences(db: Db): FactDifference[] {
  const stageRows = statement<[], StageRow>(db, 'SELECT stream_id AS streamId, programme_id AS programmeId, no, key FROM stages ORDER BY programme_id, no').all();
  const stagesOfProgramme = new Map<number, StageRow[]>();
  for (const row of stageRows) {
    const list = stagesOfProgramme.get(row.programmeId) ?? [];
    list.push(row);
    stagesOfProgramme.set(row.programmeId, list);
  }
  // The programme each stream that records active stages belongs to (its application, its journal entry).
  const programmeOf = new Map<string, number>(
    statement<[], { streamId: string; programmeId: number }>(
      db,
      'SELECT stream_id AS streamId, programme_id AS programmeId FROM applications UNION ALL SELECT stream_id, programme_id FROM journal_entries',
    )
      .all()
      .map((row) => [row.streamId, row.programmeId]),
  );
  const stateOf = new Map<string, string>();
  const found: FactDifference[] = [];
  const rows = statement<[], FactRow>(
    db,
    `SELECT position, stream_id AS streamId, seq, machine_id AS machineId, to_state AS toState,
       CASE WHEN machine_id = 'stage' THEN NULL ELSE json_extract(facts, '$.activeStages') END AS active
     FROM events WHERE machine_id = 'stage' OR json_type(facts, '$.activeStages') = 'array' ORDER BY position`,
  );
  for (const row of rows.iterate()) {
    if (row.machineId === 'stage') {
      // The stage stream's state after this event: what an event after it read.
      stateOf.set(row.streamId, row.toState);
      continue;
    }
    const programmeId = programmeOf.get(row.streamId);
    if (programmeId === undefined || row.active === null) continue;
    const derived = (stagesOfProgramme.get(programmeId) ?? []).filter((stage) => stateOf.get(stage.streamId) === 'active').map((stage) => stage.key);
    const stored = row.active;
    if (stored !== JSON.stringify(derived)) {
      found.push({ table: 'events', key: `${row.streamId}/${row.seq}`, column: 'facts.activeStages', stored, derived: JSON.stringify(derived), stream: row.streamId, seq: row.seq, position: row.position });
    }
  }
  return found;
}
