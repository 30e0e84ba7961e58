import type { Db } from '../../db/client.ts';
import { perDatabase } from '../../db/statements.ts';
import { deadlineOf, type ClockKind } from '../deadlines/rules.ts';
import { deadlineSettings } from '../deadlines/settings.ts';
import { writeNotifications, type OutboxOptions } from './outbox.ts';
import { stageAudience, type NotificationPlan } from './rules.ts';

/**
 * The reminders (issue 12): before a deadline to whoever it waits on, after it to the
 * coordinators, and before an active stage's planned end to the people who act in it. Written
 * through the same outbox as every notification, each once: a clock's reminder and notice are
 * marked on the clock in the same transaction, and every row has its key.
 */

const DAY = 24 * 60 * 60 * 1000;

const schedulerStatements = perDatabase((db: Db) => {
  const sqlite = db.$client;
  return {
    clocks: sqlite.prepare<[], { applicationId: number; programmeId: number; kind: ClockKind; startedAt: string; remindedAt: string | null; overdueAt: string | null; municipalityId: number; title: string }>(
      `SELECT c.application_id AS applicationId, c.programme_id AS programmeId, c.kind, c.started_at AS startedAt, c.reminded_at AS remindedAt, c.overdue_at AS overdueAt,
              a.municipality_id AS municipalityId, a.title
       FROM application_clocks c JOIN applications a ON a.id = c.application_id WHERE c.reminded_at IS NULL OR c.overdue_at IS NULL`,
    ),
    markReminded: sqlite.prepare<[string, number, string]>('UPDATE application_clocks SET reminded_at = ? WHERE application_id = ? AND started_at = ?'),
    markOverdue: sqlite.prepare<[string, number, string]>('UPDATE application_clocks SET overdue_at = ? WHERE application_id = ? AND started_at = ?'),
    activeStages: sqlite.prepare<[], { programmeId: number; no: number; key: string; plannedEnd: string; streamId: string }>(
      "SELECT programme_id AS programmeId, no, key, planned_end AS plannedEnd, stream_id AS streamId FROM stages WHERE state = 'active' AND planned_end IS NOT NULL",
    ),
  };
});

/** One pass of the scheduler at `now`: writes what has come due and returns how many notifications. */
export function runReminders(db: Db, outbox: OutboxOptions, now: Date): number {
  const s = schedulerStatements(db);
  const at = now.toISOString();
  let written = 0;
  for (const clock of s.clocks.all()) {
    const settings = deadlineSettings(db, clock.programmeId);
    const deadline = deadlineOf(clock.kind, clock.startedAt, settings, now);
    const base = { params: { id: clock.applicationId, title: clock.title, dueAt: deadline.dueAt }, link: `/applications/${clock.applicationId}`, programmeId: clock.programmeId, applicationId: clock.applicationId, exclude: [] };
    const key = (kind: string) => `${kind}:${clock.applicationId}:${clock.startedAt}`;
    db.transaction(
      () => {
        if (!clock.remindedAt && (deadline.soon || deadline.overdue)) {
          const plan: NotificationPlan =
            clock.kind === 'review'
              ? { ...base, kind: 'review-due', audience: [{ to: 'handling-reviewer', applicationId: clock.applicationId }] }
              : { ...base, kind: 'answer-due', audience: [{ to: 'applicants', municipalityId: clock.municipalityId }] };
          // A deadline already past gets its notice below, not a reminder that it is near.
          if (deadline.soon) written += writeNotifications(db, outbox, [plan], at, () => key(plan.kind));
          s.markReminded.run(at, clock.applicationId, clock.startedAt);
        }
        if (!clock.overdueAt && deadline.overdue) {
          const kind = clock.kind === 'review' ? 'review-overdue' : 'answer-overdue';
          written += writeNotifications(db, outbox, [{ ...base, kind, audience: [{ to: 'role', role: 'coordinator' }] }], at, () => key(kind));
          s.markOverdue.run(at, clock.applicationId, clock.startedAt);
        }
      },
      { behavior: 'immediate' },
    );
  }
  for (const stage of s.activeStages.all()) {
    const settings = deadlineSettings(db, stage.programmeId);
    const end = Date.parse(`${stage.plannedEnd}T23:59:59Z`);
    if (Number.isNaN(end) || now.getTime() > end || end - now.getTime() > Math.max(1, settings.remindDays) * DAY) continue;
    const roles = stageAudience(stage.key);
    if (roles.length === 0) continue;
    const plan: NotificationPlan = {
      kind: 'stage-closing',
      audience: [...roles.map((role) => ({ to: 'role' as const, role })), { to: 'role', role: 'coordinator' }],
      params: { stage: stage.key, no: stage.no, plannedEnd: stage.plannedEnd },
      link: `/programmes/${stage.programmeId}/stages/${stage.no}`,
      programmeId: stage.programmeId,
      applicationId: null,
      exclude: [],
    };
    written += db.transaction(() => writeNotifications(db, outbox, [plan], at, () => `stage-closing:${stage.streamId}:${stage.plannedEnd}`), { behavior: 'immediate' });
  }
  return written;
}

/** Runs the reminders every `intervalMs` until stopped. */
export class ReminderScheduler {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly outbox: OutboxOptions,
    private readonly options: { intervalMs?: number; now?: () => Date; log?: { warn(object: unknown, message: string): void } } = {},
  ) {}

  start(): void {
    if (this.timer) return;
    const tick = () => {
      try {
        runReminders(this.db, this.outbox, (this.options.now ?? (() => new Date()))());
      } catch (error) {
        this.options.log?.warn({ error: error instanceof Error ? error.message : String(error) }, 'the reminders could not be written');
      }
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs ?? 60_000);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
