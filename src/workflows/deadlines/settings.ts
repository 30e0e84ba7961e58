import type { Db } from '../../db/client.ts';
import { recordSetting } from '../../engine/settings-log.ts';
import { perDatabase } from '../../db/statements.ts';
import { zodProblems } from '../../domain/problems.ts';
import type { Actor } from '../../domain/roles.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import { deadlineOf, defaultDeadlines, type ClockKind, deadlineSettingsSchema, type DeadlineSettings } from './rules.ts';

const settingsStatements = perDatabase((db: Db) => ({
  get: db.$client.prepare<[number], DeadlineSettings & { updatedAt: string; updatedBy: string | null }>(
    'SELECT review_days AS reviewDays, answer_days AS answerDays, remind_days AS remindDays, updated_at AS updatedAt, updated_by AS updatedBy FROM programme_deadlines WHERE programme_id = ?',
  ),
  upsert: db.$client.prepare(
    `INSERT INTO programme_deadlines (programme_id, review_days, answer_days, remind_days, updated_at, updated_by) VALUES (@programmeId, @reviewDays, @answerDays, @remindDays, @updatedAt, @updatedBy)
     ON CONFLICT (programme_id) DO UPDATE SET review_days = @reviewDays, answer_days = @answerDays, remind_days = @remindDays, updated_at = @updatedAt, updated_by = @updatedBy`,
  ),
  programme: db.$client.prepare<[number], { id: number }>('SELECT id FROM programmes WHERE id = ?'),
  clocks: db.$client.prepare<[number], { applicationId: number; kind: ClockKind; startedAt: string }>(
    'SELECT application_id AS applicationId, kind, started_at AS startedAt FROM application_clocks WHERE programme_id = ?',
  ),
  queueDeadline: db.$client.prepare<[string | null, number]>('UPDATE review_queue SET deadline_at = ? WHERE application_id = ?'),
}));

/** The programme's deadlines, or the defaults while nobody set them. */
export function deadlineSettings(db: Db, programmeId: number): DeadlineSettings & { custom: boolean } {
  const row = settingsStatements(db).get.get(programmeId);
  return row ? { reviewDays: row.reviewDays, answerDays: row.answerDays, remindDays: row.remindDays, custom: true } : { ...defaultDeadlines, custom: false };
}

/** Sets a programme's deadlines (admins); every problem beside its field, nothing written on any. */
export function saveDeadlineSettings(db: Db, actor: Actor, programmeId: number, input: unknown, now: Date): DeadlineSettings {
  if (actor.role !== 'admin') throw new ForbiddenError('only an admin sets the deadlines');
  if (!settingsStatements(db).programme.get(programmeId)) throw new NotFoundError(`programme ${programmeId} not found`);
  const parsed = deadlineSettingsSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError('the deadlines are invalid', zodProblems(parsed.error));
  const days = parsed.data;
  const problems = days.remindDays >= Math.min(days.reviewDays, days.answerDays) ? [{ field: 'remindDays', code: 'deadlines.remind-too-early' }] : [];
  if (problems.length > 0) throw new ValidationError('the deadlines are invalid', problems);
  db.transaction(
    () => {
      settingsStatements(db).upsert.run({ programmeId, ...days, updatedAt: now.toISOString(), updatedBy: actor.login });
      recordSetting(db.$client, 'programme_deadlines', programmeId, now, actor);
      requeueDeadlines(db, programmeId);
    },
    { behavior: 'immediate' },
  );
  return days;
}

/** After a programme's deadlines change: the review queue's deadline column of its open clocks, again. */
function requeueDeadlines(db: Db, programmeId: number): void {
  const settings = deadlineSettings(db, programmeId);
  const s = settingsStatements(db);
  for (const clock of s.clocks.all(programmeId)) s.queueDeadline.run(deadlineOf(clock.kind, clock.startedAt, settings, new Date(clock.startedAt)).dueAt, clock.applicationId);
}
