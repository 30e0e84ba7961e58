import type { AnyMachineSnapshot } from 'xstate';
import type { Db } from '../../db/client.ts';
import { perDatabase } from '../../db/statements.ts';
import type { Role } from '../../domain/roles.ts';
import type { EventListener, EventRow, StreamRow } from '../../engine/engine.ts';
import { sha256 } from '../../engine/ledger.ts';
import { messageVisibleTo } from '../../../machines/conversation.ts';
import { emailByDefault, plansForEvent, type Audience, type NotificationKind, type NotificationPlan } from './rules.ts';

/**
 * The transactional outbox (issue 12): the notifications an event causes are written by an engine
 * listener inside the event's own transaction, one row per user, with its e-mail queued when mail
 * is on, the user has an address and wants that kind by e-mail. The delivery worker sends them.
 */

export interface OutboxOptions {
  /** SMTP is configured: rows for users with an address are queued for e-mail. */
  mail: boolean;
  /** The domain of every Message-ID (the public URL's host). */
  messageIdDomain: string;
}

interface Recipient {
  id: number;
  role: Role;
  email: string | null;
}

const USER_COLUMNS = 'id, role, email';

const outboxStatements = perDatabase((db: Db) => {
  const sqlite = db.$client;
  return {
    registrationNo: sqlite.prepare<[number], { registrationNo: string | null }>('SELECT registration_no AS registrationNo FROM applications WHERE id = ?'),
    applicantsOf: sqlite.prepare<[number], Recipient>(`SELECT ${USER_COLUMNS} FROM users WHERE role = 'applicant' AND municipality_id = ? AND active = 1 ORDER BY id`),
    ofRole: sqlite.prepare<[string], Recipient>(`SELECT ${USER_COLUMNS} FROM users WHERE role = ? AND active = 1 ORDER BY id`),
    byIds: sqlite.prepare<[string], Recipient>(`SELECT ${USER_COLUMNS} FROM users WHERE id IN (SELECT value FROM json_each(?)) AND active = 1 ORDER BY id`),
    lastReviewer: sqlite.prepare<[string], { actor: string }>("SELECT actor FROM events WHERE stream_id = ? AND type = 'start-review' ORDER BY seq DESC LIMIT 1"),
    assignee: sqlite.prepare<[number], { assigneeId: number | null }>('SELECT assignee_id AS assigneeId FROM review_queue WHERE application_id = ?'),
    preference: sqlite.prepare<[number, string], { email: number }>('SELECT email FROM notification_preferences WHERE user_id = ? AND kind = ?'),
    insert: sqlite.prepare(
      `INSERT OR IGNORE INTO notifications (user_id, kind, event_position, dedupe_key, programme_id, application_id, params, link, created_at, mail_state, mail_to, message_id, next_attempt_at)
       VALUES (@userId, @kind, @eventPosition, @dedupeKey, @programmeId, @applicationId, @params, @link, @createdAt, @mailState, @mailTo, @messageId, @nextAttemptAt)`,
    ),
  };
});

/** The users an audience names, active ones only. */
function resolve(db: Db, audience: Audience): Recipient[] {
  const s = outboxStatements(db);
  switch (audience.to) {
    case 'applicants':
      return s.applicantsOf.all(audience.municipalityId);
    case 'role':
      return s.ofRole.all(audience.role);
    case 'users':
      return audience.ids.length === 0 ? [] : s.byIds.all(JSON.stringify(audience.ids));
    case 'handling-reviewer': {
      // The reviewer it is assigned to (issue 16), else the one who last took it up.
      const assigned = s.assignee.get(audience.applicationId)?.assigneeId ?? null;
      const row = assigned === null ? s.lastReviewer.get(`application-${audience.applicationId}`) : undefined;
      const id = assigned ?? (row ? (JSON.parse(row.actor) as { id: number }).id : null);
      const handling = id === null ? [] : s.byIds.all(JSON.stringify([id])).filter((user) => user.role === 'reviewer');
      return handling.length > 0 ? handling : s.ofRole.all('reviewer');
    }
  }
}

/** Whether the user wants this kind by e-mail: their choice, or the kind's default. */
export function wantsEmail(db: Db, userId: number, kind: NotificationKind): boolean {
  const row = outboxStatements(db).preference.get(userId, kind);
  return row ? row.email === 1 : emailByDefault(kind);
}

/** The Message-ID of a notification's e-mail: fixed by who and what, so a second sending is the same message. */
export function messageIdFor(userId: number, dedupeKey: string, domain: string): string {
  return `<isu-ib.${sha256(`${userId}|${dedupeKey}`).slice(0, 32)}@${domain}>`;
}

/**
 * Writes the notifications of plans, once per user and key (a second writer of the same key is
 * ignored: the scheduler may run twice, a retried command may repeat). Returns how many were new.
 */
export function writeNotifications(db: Db, options: OutboxOptions, plans: readonly NotificationPlan[], at: string, key: (plan: NotificationPlan) => string, eventPosition: number | null = null): number {
  const s = outboxStatements(db);
  let written = 0;
  for (const plan of plans) {
    const seen = new Set<number>(plan.exclude);
    // The application's registration number, as the projection has it in this same transaction (issue 13).
    const number = plan.applicationId === null || plan.applicationId === undefined ? undefined : s.registrationNo.get(plan.applicationId)?.registrationNo;
    const params = JSON.stringify(number ? { ...plan.params, number } : plan.params);
    const dedupeKey = key(plan);
    for (const audience of plan.audience) {
      for (const user of resolve(db, audience)) {
        if (seen.has(user.id)) continue;
        seen.add(user.id);
        // However an audience was put together, an internal note never reaches an applicant.
        if (!messageVisibleTo({ internal: plan.kind === 'internal-note' }, user.role)) continue;
        const mailed = options.mail && user.email !== null && user.email !== '' && wantsEmail(db, user.id, plan.kind);
        const result = s.insert.run({
          userId: user.id,
          kind: plan.kind,
          eventPosition,
          dedupeKey,
          programmeId: plan.programmeId,
          applicationId: plan.applicationId,
          params,
          link: plan.link,
          createdAt: at,
          mailState: mailed ? 'pending' : 'none',
          mailTo: mailed ? user.email : null,
          messageId: mailed ? messageIdFor(user.id, dedupeKey, options.messageIdDomain) : null,
          nextAttemptAt: mailed ? at : null,
        });
        written += result.changes;
      }
    }
  }
  return written;
}

/** The engine listener: every event's notifications, in its transaction. */
export function notificationListener(db: Db, options: OutboxOptions): EventListener {
  return (stream: StreamRow, snapshot: AnyMachineSnapshot, event: EventRow) => {
    if (event.type === 'create') return;
    const plans = plansForEvent({
      machineId: event.machineId,
      streamId: stream.id,
      type: event.type,
      seq: event.seq,
      payload: JSON.parse(event.payload) as Record<string, unknown>,
      actor: JSON.parse(event.actor) as { id: number; role: Role; name: string },
      fromState: event.fromState,
      toState: event.toState,
      context: snapshot.context,
    });
    if (plans.length === 0) return;
    writeNotifications(db, options, plans, event.at, (plan) => `event:${event.position}:${plan.kind}`, event.position);
  };
}
