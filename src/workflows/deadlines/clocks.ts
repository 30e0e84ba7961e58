import type { Db } from '../../db/client.ts';
import { perDatabase } from '../../db/statements.ts';
import type { EventListener } from '../../engine/engine.ts';
import type { ApplicationContext } from '../../../machines/application.ts';
import { clockAfter, deadlineOf, type ClockKind, type Deadline } from './rules.ts';
import { deadlineSettings } from './settings.ts';

const clockStatements = perDatabase((db: Db) => {
  const sqlite = db.$client;
  return {
    start: sqlite.prepare(
      `INSERT INTO application_clocks (application_id, programme_id, kind, started_at) VALUES (@applicationId, @programmeId, @kind, @startedAt)
       ON CONFLICT (application_id) DO UPDATE SET kind = @kind, started_at = @startedAt, reminded_at = NULL, overdue_at = NULL`,
    ),
    stop: sqlite.prepare<[number]>('DELETE FROM application_clocks WHERE application_id = ?'),
    /** The review queue's sortable deadline column (issue 16 left it to this issue). */
    queueDeadline: sqlite.prepare<[string | null, number]>('UPDATE review_queue SET deadline_at = ? WHERE application_id = ?'),

    forApplications: sqlite.prepare<[string], { applicationId: number; programmeId: number; kind: ClockKind; startedAt: string }>(
      'SELECT application_id AS applicationId, programme_id AS programmeId, kind, started_at AS startedAt FROM application_clocks WHERE application_id IN (SELECT value FROM json_each(?))',
    ),
  };
});

/** The engine listener that keeps each application's clock with its events, in their transaction. */
export function clockListener(db: Db): EventListener {
  return (stream, snapshot, event) => {
    if (event.machineId !== 'application' || event.type === 'create') return;
    const next = clockAfter(event.type);
    if (next === 'keep') return;
    const applicationId = Number(stream.id.slice('application-'.length));
    if (next === 'stop') {
      clockStatements(db).stop.run(applicationId);
      clockStatements(db).queueDeadline.run(null, applicationId);
      return;
    }
    const context = snapshot.context as ApplicationContext;
    clockStatements(db).start.run({ applicationId, programmeId: context.programmeId, kind: next, startedAt: event.at });
    clockStatements(db).queueDeadline.run(deadlineOf(next, event.at, deadlineSettings(db, context.programmeId), new Date(event.at)).dueAt, applicationId);
  };
}

/** The deadline running on each of these applications now, by id: what the queue and the page show. */
export function deadlinesFor(db: Db, applicationIds: readonly number[], now: Date): Map<number, Deadline> {
  const result = new Map<number, Deadline>();
  if (applicationIds.length === 0) return result;
  const settings = new Map<number, ReturnType<typeof deadlineSettings>>();
  for (const clock of clockStatements(db).forApplications.all(JSON.stringify(applicationIds))) {
    let programme = settings.get(clock.programmeId);
    if (!programme) {
      programme = deadlineSettings(db, clock.programmeId);
      settings.set(clock.programmeId, programme);
    }
    result.set(clock.applicationId, deadlineOf(clock.kind, clock.startedAt, programme, now));
  }
  return result;
}

