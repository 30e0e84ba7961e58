import type { Db } from '../../db/client.ts';
import type { stages } from '../../db/schema.ts';
import { perDatabase } from '../../db/statements.ts';
import type { StageFacts, StageStateName } from '../../../machines/stages.ts';
import { NotFoundError } from '../../engine/errors.ts';
import { journalReads } from '../journal/reads.ts';

export type StageRow = typeof stages.$inferSelect;

export const stageStreamId = (programmeId: number, no: number) => `stage-${programmeId}-${no}`;

const STAGE_COLUMNS =
  'id, stream_id AS streamId, programme_id AS programmeId, no, key, state, version, planned_start AS plannedStart, planned_end AS plannedEnd, started_at AS startedAt, completed_at AS completedAt, tasks_done AS tasksDone, tasks_total AS tasksTotal, updated_at AS updatedAt';

/** What the stages' side of the system reads, prepared once per database. */
export const stageReads = perDatabase((db: Db) => {
  const sqlite = db.$client;
  // The stages active now, by their streams' own state (the row the engine writes with each chained event, which
  // verify replays), not the stages table a page reads: an edit of that table lets no event through (issue 17.2).
  const activeKeys = sqlite.prepare<[number], { key: string }>(
    "SELECT st.key FROM stages st JOIN streams s ON s.id = st.stream_id WHERE st.programme_id = ? AND s.state = 'active' ORDER BY st.no",
  );
  const allOfProgramme = sqlite.prepare<[number], StageRow>(`SELECT ${STAGE_COLUMNS} FROM stages WHERE programme_id = ? ORDER BY no`);
  const byStream = sqlite.prepare<[string], StageRow>(`SELECT ${STAGE_COLUMNS} FROM stages WHERE stream_id = ?`);
  const byKey = sqlite.prepare<[number, string], StageRow>(`SELECT ${STAGE_COLUMNS} FROM stages WHERE programme_id = ? AND key = ?`);
  const countsByState = sqlite.prepare<[number], { state: string; count: number }>(APPLICATION_STATE_COUNTS_SQL);
  const programme = sqlite.prepare<[number], { fundKopecks: number; capKopecks: number }>('SELECT fund_kopecks AS fundKopecks, cap_kopecks AS capKopecks FROM programmes WHERE id = ?');
  const applicationCounts = (programmeId: number): Record<string, number> => Object.fromEntries(countsByState.all(programmeId).map((row) => [row.state, row.count]));
  return {
    activeStageKeys: (programmeId: number): string[] => activeKeys.all(programmeId).map((row) => row.key),
    stagesOf: (programmeId: number): StageRow[] => allOfProgramme.all(programmeId),
    stageOfStream: (streamId: string): StageRow | undefined => byStream.get(streamId),
    /** The stage of a programme by its key (`commission`), or undefined when the programme has none. */
    stageByKey: (programmeId: number, key: string): StageRow | undefined => byKey.get(programmeId, key),
    applicationCounts,
    /** What a stage's exit condition looks at, at this moment (machines/stages.ts). */
    stageFacts(programmeId: number): StageFacts {
      const rows = allOfProgramme.all(programmeId);
      return {
        stageStates: Object.fromEntries(rows.map((row) => [row.key, row.state as StageStateName])),
        applicationCounts: applicationCounts(programmeId),
        programme: programme.get(programmeId) ?? { fundKopecks: 0, capKopecks: 0 },
        unscheduledStages: rows.filter((row) => !row.plannedStart || !row.plannedEnd).map((row) => row.key),
        // The journal's evidence (issue 14): stages 1, 2 and 4 wait for an announcement, a training, the final meetings.
        journal: journalReads(db).counts(programmeId),
        appliedMunicipalities: journalReads(db).appliedMunicipalities(programmeId),
      };
    },
  };
});

/** A programme's applications per state, from the counter the triggers of migrations/0015 keep (issue 18.3): no pass over the applications. */
export const APPLICATION_STATE_COUNTS_SQL = 'SELECT state, sum(count) AS count FROM application_counts WHERE programme_id = ? AND count > 0 GROUP BY state';

export function findStage(db: Db, programmeId: number, no: number): StageRow {
  const row = stageReads(db).stageOfStream(stageStreamId(programmeId, no));
  if (!row) throw new NotFoundError(`stage ${no} of programme ${programmeId} not found`);
  return row;
}
