import type { Db } from '../../db/client.ts';
import { perDatabase } from '../../db/statements.ts';
import { NotFoundError, NotAllowedError } from '../../engine/errors.ts';

/** The outbox's lists and counts (what test/int/query-plans checks). */
export const OUTBOX_LISTS = {
  counts: 'SELECT mail_state AS state, count(*) AS n FROM notifications GROUP BY mail_state',
  failed: `SELECT n.id, n.kind, n.mail_to AS mailTo, n.attempts, n.last_error AS lastError, n.created_at AS createdAt, u.login, u.name
     FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.mail_state = 'failed' ORDER BY n.id DESC LIMIT 200`,
  waiting: `SELECT n.id, n.kind, n.mail_to AS mailTo, n.attempts, n.last_error AS lastError, n.next_attempt_at AS nextAttemptAt, u.login
     FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.mail_state = 'pending' AND n.attempts > 0 ORDER BY n.next_attempt_at LIMIT 200`,
};

/** The outbox as the admin sees it (issue 12): how many e-mails stand in each state, and those that failed for good. */
const adminStatements = perDatabase((db: Db) => ({
  counts: db.$client.prepare<[], { state: string; n: number }>(OUTBOX_LISTS.counts),
  failed: db.$client.prepare<[], { id: number; kind: string; mailTo: string | null; attempts: number; lastError: string | null; createdAt: string; login: string; name: string }>(
    OUTBOX_LISTS.failed,
  ),
  waiting: db.$client.prepare<[], { id: number; kind: string; mailTo: string | null; attempts: number; lastError: string | null; nextAttemptAt: string | null; login: string }>(
    OUTBOX_LISTS.waiting,
  ),
  state: db.$client.prepare<[number], { state: string }>('SELECT mail_state AS state FROM notifications WHERE id = ?'),
  retry: db.$client.prepare<[string, number]>("UPDATE notifications SET mail_state = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL, mail_to = COALESCE((SELECT email FROM users WHERE users.id = notifications.user_id), mail_to) WHERE id = ? AND mail_state = 'failed'"),
}));

export function outboxSummary(db: Db) {
  const s = adminStatements(db);
  const counts: Record<string, number> = Object.fromEntries(s.counts.all().map((row) => [row.state, row.n]));
  return { counts, failed: s.failed.all(), retrying: s.waiting.all() };
}

/** Sends a failed e-mail again from the first attempt (the admin fixed the address, or the server is back). */
export function retryFailed(db: Db, id: number, now: Date): void {
  const row = adminStatements(db).state.get(id);
  if (!row) throw new NotFoundError(`notification ${id} not found`);
  if (row.state !== 'failed') throw new NotAllowedError('only a failed e-mail is sent again', {}, 'mail.refused.not-failed');
  adminStatements(db).retry.run(now.toISOString(), id);
}
