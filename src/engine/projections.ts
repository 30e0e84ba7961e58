import type { StateValue } from 'xstate';
import type { Db } from '../db/client.ts';
import { totalCostKopecks } from '../domain/application.ts';
import { applicationMachineId, type ApplicationContext } from '../../machines/application.ts';
import { stageMachineId, type StageContext } from '../../machines/stage.ts';
import { stateToString } from './snapshots.ts';

/** One value of a projection row as stored or as derived. */
type Value = string | number | null;

/** A column of a projection that is not what the ledger gives: the table, the row's key, the column, both values. */
export interface ProjectionDifference {
  table: string;
  key: string;
  column: string;
  stored: Value;
  derived: Value;
}

/** What a stream's projection rows are derived from: the stream as verify found it sound. */
export interface VerifiedStream {
  id: string;
  machineId: string;
  /** The snapshot replay reached (persisted: value, context, status), verified against the stored one. */
  snapshot: string;
  /** How many events the log holds for it, and when the last was written. */
  length: number;
  lastAt: string;
}

interface Projection {
  table: string;
  /** The machines whose streams have a row in the table. */
  machineId: string;
  /** The stored rows, by stream id: their key (as a person finds the row) and the columns checked. */
  load(db: Db): Map<string, { key: string; row: Record<string, Value> }>;
  /** The same columns, from the verified stream. */
  derive(stream: VerifiedStream, value: StateValue, context: unknown): Record<string, Value>;
}

/**
 * The projections verify re-derives from the ledger (issue 17.2): what the pages, the API and the
 * guards read, column by column, from the snapshot the events replay to. Each derives exactly as
 * the kind's `project` writes the row (src/workflows/application/kind.ts, src/workflows/stage/kind.ts);
 * a column written otherwise (the search text, which a migration also filled) is not checked here.
 */
const projections: Projection[] = [
  {
    table: 'streams',
    machineId: '*',
    load: (db) =>
      new Map(
        db.$client
          .prepare<[], { id: string; state: string; updatedAt: string }>('SELECT id, state, updated_at AS updatedAt FROM streams')
          .all()
          .map((r) => [r.id, { key: r.id, row: { state: r.state, updated_at: r.updatedAt } }]),
      ),
    derive: (stream, value) => ({ state: stateToString(value), updated_at: stream.lastAt }),
  },
  {
    table: 'applications',
    machineId: applicationMachineId,
    load: (db) =>
      new Map(
        db.$client
          .prepare<[], Record<string, Value> & { id: number; stream_id: string }>(
            `SELECT id, stream_id, programme_id, municipality_id, title, project_type, settlement, state, version, subsidy_kopecks, total_kopecks,
               awarded_kopecks, first_submitted_at, updated_at FROM applications`,
          )
          .all()
          .map(({ id, stream_id, ...row }) => [stream_id, { key: String(id), row }]),
      ),
    derive: (stream, value, context) => {
      const c = context as ApplicationContext;
      return {
        programme_id: c.programmeId,
        municipality_id: c.municipalityId,
        title: c.form.title ?? '',
        project_type: c.form.projectType ?? null,
        settlement: c.form.settlement ?? null,
        state: stateToString(value),
        version: stream.length,
        subsidy_kopecks: c.form.costs?.subsidy ?? 0,
        total_kopecks: totalCostKopecks(c.form.costs),
        awarded_kopecks: c.awardedKopecks ?? null,
        first_submitted_at: c.firstSubmittedAt ?? null,
        updated_at: stream.lastAt,
      };
    },
  },
  {
    table: 'stages',
    machineId: stageMachineId,
    load: (db) =>
      new Map(
        db.$client
          .prepare<[], Record<string, Value> & { id: number; stream_id: string }>(
            `SELECT id, stream_id, programme_id, no, key, state, version, planned_start, planned_end, started_at, completed_at, tasks_done, tasks_total, updated_at FROM stages`,
          )
          .all()
          .map(({ id, stream_id, ...row }) => [stream_id, { key: String(id), row }]),
      ),
    derive: (stream, value, context) => {
      const c = context as StageContext;
      return {
        programme_id: c.programmeId,
        no: c.no,
        key: c.key,
        state: stateToString(value),
        version: stream.length,
        planned_start: c.plannedStart ?? null,
        planned_end: c.plannedEnd ?? null,
        started_at: c.startedAt ?? null,
        completed_at: c.completedAt ?? null,
        tasks_done: c.tasks.filter((t) => t.done).length,
        tasks_total: c.tasks.length,
        updated_at: stream.lastAt,
      };
    },
  },
];

/** The stored projection rows, read once per verify (in its snapshot), to compare stream by stream. */
export function projectionRows(db: Db) {
  const loaded = projections.map((projection) => ({ projection, rows: projection.load(db) }));
  return {
    /** Every column of the stream's rows that is not what its verified snapshot gives; a row that is missing, as column `*`. */
    differences(stream: VerifiedStream): ProjectionDifference[] {
      const { value, context } = JSON.parse(stream.snapshot) as { value: StateValue; context: unknown };
      const found: ProjectionDifference[] = [];
      for (const { projection, rows } of loaded) {
        if (projection.machineId !== '*' && projection.machineId !== stream.machineId) continue;
        const stored = rows.get(stream.id);
        if (!stored) {
          found.push({ table: projection.table, key: stream.id, column: '*', stored: null, derived: 'a row' });
          continue;
        }
        let derived: Record<string, Value>;
        try {
          derived = projection.derive(stream, value, context);
        } catch {
          // A snapshot without what the projection reads (an older machine version): nothing to compare.
          continue;
        }
        for (const [column, want] of Object.entries(derived)) {
          const have = stored.row[column] ?? null;
          if (have !== want) found.push({ table: projection.table, key: stored.key, column, stored: have, derived: want });
        }
      }
      return found;
    },
  };
}
