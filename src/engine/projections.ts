import type { StateValue } from 'xstate';
import type { Db } from '../db/client.ts';
import { totalCostKopecks } from '../domain/application.ts';
import { implementationFigures } from '../domain/implementation.ts';
import { significanceCenti } from '../domain/criteria.ts';
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

/** A stream's rows in one table, by their key (as a person finds the row: the application's id, `id/member`). */
type Rows = Map<string, Record<string, Value>>;

interface Projection {
  table: string;
  /** The machines whose streams have rows in the table. */
  machineId: string;
  /** The stored rows, by stream id, with the columns checked. */
  load(db: Db): Map<string, Rows>;
  /** The same rows and columns, from the verified stream; `key` is the stream's key in its main table (its application's id). */
  derive(stream: VerifiedStream, value: StateValue, context: unknown, key: string | undefined): Rows;
}

/** Groups rows by their stream: one row a stream, or several. */
function byStream<R extends { stream_id: string }>(rows: R[], keyOf: (row: R) => string): Map<string, Rows> {
  const grouped = new Map<string, Rows>();
  for (const { stream_id, ...rest } of rows) {
    const row = rest as unknown as Record<string, Value>;
    const { id: _id, member_id: _member, ...columns } = row;
    const found = grouped.get(stream_id) ?? new Map<string, Record<string, Value>>();
    found.set(keyOf({ stream_id, ...rest } as R), columns);
    grouped.set(stream_id, found);
  }
  return grouped;
}

const one = (key: string | undefined, row: Record<string, Value>): Rows => new Map(key === undefined ? [] : [[key, row]]);

/**
 * The projections verify re-derives from the ledger (issue 17.2): what the pages, the API and the
 * guards read — the stream rows' state, the applications list, the scoring input and the members'
 * scores the ranking reads, and the stages table — column by column, from the snapshot the events
 * replay to. Each derives exactly as
 * the kind's `project` writes the row (src/workflows/application/kind.ts, src/workflows/stage/kind.ts);
 * a column written otherwise (the search text, which a migration also filled) is not checked here.
 */
const projections: Projection[] = [
  {
    table: 'streams',
    machineId: '*',
    load: (db) =>
      byStream(db.$client.prepare<[], { stream_id: string; state: string; updated_at: string }>('SELECT id AS stream_id, state, updated_at FROM streams').all(), (r) => r.stream_id),
    derive: (stream, value) => one(stream.id, { state: stateToString(value), updated_at: stream.lastAt }),
  },
  {
    table: 'applications',
    machineId: applicationMachineId,
    load: (db) =>
      byStream(
        db.$client
          .prepare<[], { id: number; stream_id: string }>(
            `SELECT id, stream_id, programme_id, municipality_id, title, project_type, settlement, state, version, subsidy_kopecks, total_kopecks,
               awarded_kopecks, first_submitted_at, agreed_kopecks, received_kopecks, spent_kopecks, progress_percent, updated_at FROM applications`,
          )
          .all(),
        (r) => String(r.id),
      ),
    derive: (stream, value, context, key) => {
      const c = context as ApplicationContext;
      return one(key, {
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
        // After the award (issue 11): the same function as the kind's projection.
        ...((f) => ({ agreed_kopecks: f.agreedKopecks, received_kopecks: f.receivedKopecks, spent_kopecks: f.spentKopecks, progress_percent: f.progressPercent }))(implementationFigures(c)),
        updated_at: stream.lastAt,
      });
    },
  },
  {
    // What the form-derived criteria of the ranking read (src/workflows/commission/projection.ts).
    table: 'application_scoring',
    machineId: applicationMachineId,
    load: (db) =>
      byStream(
        db.$client
          .prepare<[], { stream_id: string; application_id: number }>(
            `SELECT a.stream_id, s.application_id, s.population, s.beneficiaries, s.meeting_attendance, s.subsidy_kopecks, s.local_budget_kopecks,
               s.residents_kopecks, s.business_kopecks, s.non_monetary_kopecks
             FROM application_scoring s JOIN applications a ON a.id = s.application_id`,
          )
          .all()
          .map(({ application_id, ...row }) => ({ ...row, id: application_id })),
        (r) => String(r.id),
      ),
    derive: (_stream, _value, context, key) => {
      const form = (context as ApplicationContext).form;
      return one(key, {
        population: form.population ?? 0,
        beneficiaries: form.beneficiaries ?? 0,
        meeting_attendance: form.meetingAttendance ?? 0,
        subsidy_kopecks: form.costs?.subsidy ?? 0,
        local_budget_kopecks: form.costs?.localBudget ?? 0,
        residents_kopecks: form.costs?.residents ?? 0,
        business_kopecks: form.costs?.business ?? 0,
        non_monetary_kopecks: (form.nonMonetary?.labour ?? 0) + (form.nonMonetary?.materials ?? 0),
      });
    },
  },
  {
    // Each commission member's current score, which the ranking sums.
    table: 'scores',
    machineId: applicationMachineId,
    load: (db) =>
      byStream(
        db.$client
          .prepare<[], { stream_id: string; application_id: number; member_id: number }>(
            'SELECT a.stream_id, s.application_id, s.member_id, s.significance_centi, s.comment, s.at FROM scores s JOIN applications a ON a.id = s.application_id',
          )
          .all()
          .map(({ application_id, ...row }) => ({ ...row, id: application_id })),
        (r) => `${(r as unknown as { id: number }).id}/${r.member_id}`,
      ),
    derive: (_stream, _value, context, key) => {
      const scores = (context as ApplicationContext).scores ?? {};
      if (key === undefined) return new Map();
      return new Map(
        Object.entries(scores).map(([member, score]) => [`${key}/${member}`, { significance_centi: significanceCenti(score.significance), comment: score.comment ?? null, at: score.at }]),
      );
    },
  },
  {
    table: 'stages',
    machineId: stageMachineId,
    load: (db) =>
      byStream(
        db.$client
          .prepare<[], { id: number; stream_id: string }>(
            `SELECT id, stream_id, programme_id, no, key, state, version, planned_start, planned_end, started_at, completed_at, tasks_done, tasks_total, updated_at FROM stages`,
          )
          .all(),
        (r) => String(r.id),
      ),
    derive: (stream, value, context, key) => {
      const c = context as StageContext;
      return one(key, {
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
      });
    },
  },
];

/** The stored projection rows, read once per verify (in its snapshot), to compare stream by stream. */
export function projectionRows(db: Db) {
  const loaded = projections.map((projection) => ({ projection, rows: projection.load(db) }));
  // A stream's key in its main table (the application's or the stage's id), for the tables keyed by it.
  const keyOf = (streamId: string): string | undefined => {
    for (const table of ['applications', 'stages']) {
      const rows = loaded.find((l) => l.projection.table === table)!.rows.get(streamId);
      if (rows) return [...rows.keys()][0];
    }
    return undefined;
  };
  return {
    /** Every column of the stream's rows that is not what its verified snapshot gives; a row missing or left over, as column `*`. */
    differences(stream: VerifiedStream): ProjectionDifference[] {
      const { value, context } = JSON.parse(stream.snapshot) as { value: StateValue; context: unknown };
      const key = keyOf(stream.id);
      const found: ProjectionDifference[] = [];
      for (const { projection, rows } of loaded) {
        if (projection.machineId !== '*' && projection.machineId !== stream.machineId) continue;
        const stored: Rows = rows.get(stream.id) ?? new Map();
        let derived: Rows;
        try {
          derived = projection.derive(stream, value, context, key);
        } catch {
          // A snapshot without what the projection reads (an older machine version): nothing to compare.
          continue;
        }
        if (derived.size === 0 && stored.size === 0 && projection.table !== 'scores') {
          // The stream's own row is missing from its main table: named by the stream.
          found.push({ table: projection.table, key: stream.id, column: '*', stored: null, derived: 'a row' });
          continue;
        }
        for (const [rowKey, want] of derived) {
          const have = stored.get(rowKey);
          if (!have) {
            found.push({ table: projection.table, key: rowKey, column: '*', stored: null, derived: 'a row' });
            continue;
          }
          for (const [column, derivedValue] of Object.entries(want)) {
            const storedValue = have[column] ?? null;
            if (storedValue !== derivedValue) found.push({ table: projection.table, key: rowKey, column, stored: storedValue, derived: derivedValue });
          }
        }
        for (const rowKey of stored.keys()) {
          if (!derived.has(rowKey)) found.push({ table: projection.table, key: rowKey, column: '*', stored: 'a row', derived: null });
        }
      }
      return found;
    },
  };
}
