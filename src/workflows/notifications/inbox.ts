import type { Db } from '../../db/client.ts';
import { perDatabase } from '../../db/statements.ts';
import type { FieldProblem } from '../../domain/problems.ts';
import { NotFoundError, ValidationError } from '../../engine/errors.ts';
import { emailByDefault, notificationKinds, type NotificationKind } from './rules.ts';

/** One notification as its owner sees it: the inbox page and `GET /api/notifications`. */
export interface InboxItem {
  id: number;
  kind: string;
  params: Record<string, string | number>;
  link: string;
  createdAt: string;
  readAt: string | null;
  programmeId: number | null;
  applicationId: number | null;
  timeZone: string | null;
  mail: { state: string; sentAt: string | null };
}

const INBOX_LIMIT = 200;

const INBOX_COLUMNS = `n.id, n.kind, n.params, n.link, n.created_at AS createdAt, n.read_at AS readAt, n.programme_id AS programmeId, n.application_id AS applicationId,
    p.time_zone AS timeZone, n.mail_state AS mailState, n.sent_at AS sentAt FROM notifications n LEFT JOIN programmes p ON p.id = n.programme_id`;
/** The inbox's two lists, unread and read, newest first (what test/int/query-plans checks). */
export const INBOX_LISTS = {
  unread: `SELECT ${INBOX_COLUMNS} WHERE n.user_id = ? AND n.read_at IS NULL ORDER BY n.id DESC LIMIT ?`,
  read: `SELECT ${INBOX_COLUMNS} WHERE n.user_id = ? AND n.read_at IS NOT NULL ORDER BY n.id DESC LIMIT ?`,
};

const inboxStatements = perDatabase((db: Db) => {
  const sqlite = db.$client;
  type Row = Omit<InboxItem, 'params' | 'mail'> & { params: string; mailState: string; sentAt: string | null };
  return {
    unreadCount: sqlite.prepare<[number], { n: number }>('SELECT count(*) AS n FROM notifications WHERE user_id = ? AND read_at IS NULL'),
    // Unread first, newest first within each: two ranges of the same index.
    unread: sqlite.prepare<[number, number], Row>(INBOX_LISTS.unread),
    read: sqlite.prepare<[number, number], Row>(INBOX_LISTS.read),
    one: sqlite.prepare<[number, number], { id: number; link: string; readAt: string | null }>('SELECT id, link, read_at AS readAt FROM notifications WHERE id = ? AND user_id = ?'),
    markIds: sqlite.prepare<[string, number, string]>('UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL AND id IN (SELECT value FROM json_each(?))'),
    markAll: sqlite.prepare<[string, number]>('UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL'),
    preferences: sqlite.prepare<[number], { kind: string; email: number }>('SELECT kind, email FROM notification_preferences WHERE user_id = ?'),
    setPreference: sqlite.prepare<[number, string, number]>('INSERT INTO notification_preferences (user_id, kind, email) VALUES (?, ?, ?) ON CONFLICT (user_id, kind) DO UPDATE SET email = excluded.email'),
    setLang: sqlite.prepare<[string, number]>('UPDATE users SET lang = ? WHERE id = ?'),
    profile: sqlite.prepare<[number], { email: string | null; lang: string }>('SELECT email, lang FROM users WHERE id = ?'),
  };
});

function toItem(row: Omit<InboxItem, 'params' | 'mail'> & { params: string; mailState: string; sentAt: string | null }): InboxItem {
  const { mailState, sentAt, params, ...rest } = row;
  return { ...rest, params: JSON.parse(params) as Record<string, string | number>, mail: { state: mailState, sentAt } };
}

export function unreadCount(db: Db, userId: number): number {
  return inboxStatements(db).unreadCount.get(userId)!.n;
}

/** The user's notifications, the unread ones first, newest first. */
export function inbox(db: Db, userId: number, options: { unreadOnly?: boolean } = {}): InboxItem[] {
  const s = inboxStatements(db);
  const unread = s.unread.all(userId, INBOX_LIMIT).map(toItem);
  if (options.unreadOnly) return unread;
  return [...unread, ...s.read.all(userId, Math.max(0, INBOX_LIMIT - unread.length)).map(toItem)];
}

/** A notification of this user's, or "not found" (someone else's is not found either). */
export function ownNotification(db: Db, userId: number, id: number): { id: number; link: string } {
  const row = inboxStatements(db).one.get(id, userId);
  if (!row) throw new NotFoundError(`notification ${id} not found`);
  return row;
}

/** Marks notifications read: the ones named (of this user's; others' are not touched), or all. Returns how many changed. */
export function markRead(db: Db, userId: number, request: { ids?: unknown; all?: unknown }, now: Date): number {
  const s = inboxStatements(db);
  if (request.all === true) return s.markAll.run(now.toISOString(), userId).changes;
  const ids = request.ids;
  const problems: FieldProblem[] = [];
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > 500) problems.push({ field: 'ids', code: 'notifications.ids-required' });
  else if (!ids.every((id) => typeof id === 'number' && Number.isInteger(id) && id > 0 && id <= Number.MAX_SAFE_INTEGER)) problems.push({ field: 'ids', code: 'notifications.ids-invalid' });
  if (problems.length > 0) throw new ValidationError('name the notifications to mark read, or all', problems);
  return s.markIds.run(now.toISOString(), userId, JSON.stringify(ids)).changes;
}

/** Which kinds the user gets by e-mail, with the defaults filled in. */
export function emailPreferences(db: Db, userId: number): Record<NotificationKind, boolean> {
  const chosen = new Map(inboxStatements(db).preferences.all(userId).map((row) => [row.kind, row.email === 1]));
  return Object.fromEntries(notificationKinds.map((kind) => [kind, chosen.get(kind) ?? emailByDefault(kind)])) as Record<NotificationKind, boolean>;
}

/** Saves the user's choice for every kind at once (a form sends only the ticked ones) and their language. */
export function saveEmailPreferences(db: Db, userId: number, wanted: ReadonlySet<string>, lang: 'ru' | 'en'): void {
  const s = inboxStatements(db);
  db.transaction(
    () => {
      for (const kind of notificationKinds) s.setPreference.run(userId, kind, wanted.has(kind) ? 1 : 0);
      s.setLang.run(lang, userId);
    },
    { behavior: 'immediate' },
  );
}

export function userProfile(db: Db, userId: number): { email: string | null; lang: string } {
  return inboxStatements(db).profile.get(userId) ?? { email: null, lang: 'ru' };
}
