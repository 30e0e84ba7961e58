import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { perDatabase } from '../db/statements.ts';
import { storageFaultOf } from '../db/storage-faults.ts';
import { sessions, users } from '../db/schema.ts';
import { sha256 } from '../engine/ledger.ts';
import { logSecurity } from './security-log.ts';
import type { Actor, Role } from '../domain/roles.ts';

export type SessionKind = 'cookie' | 'bearer';

export const SESSION_IDLE_MS = 2 * 60 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
export const TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

export interface Session {
  tokenHash: string;
  kind: SessionKind;
  actor: Actor;
}

/** Opens a session; the secret goes to the client once, the database keeps only its hash. */
export function openSession(db: Db, userId: number, kind: SessionKind, now = new Date()): { token: string; expiresAt: string } {
  const token = randomBytes(32).toString('base64url');
  const ttl = kind === 'cookie' ? SESSION_ABSOLUTE_MS : TOKEN_TTL_MS;
  const expiresAt = new Date(now.getTime() + ttl).toISOString();
  db.insert(sessions)
    .values({
      tokenHash: sha256(token),
      userId,
      kind,
      createdAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
      expiresAt,
    })
    .run();
  return { token, expiresAt };
}

interface SessionRow {
  tokenHash: string;
  kind: string;
  expiresAt: string;
  lastSeenAt: string;
  revokedAt: string | null;
  id: number;
  login: string;
  name: string;
  role: string;
  municipalityId: number | null;
  active: number;
}

const sessionStatements = perDatabase((db) => ({
  find: db.$client.prepare<[string], SessionRow>(
    `SELECT s.token_hash AS tokenHash, s.kind, s.expires_at AS expiresAt, s.last_seen_at AS lastSeenAt, s.revoked_at AS revokedAt,
       u.id, u.login, u.name, u.role, u.municipality_id AS municipalityId, u.active
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`,
  ),
  touch: db.$client.prepare<[string, string]>('UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?'),
}));

/**
 * Signs a user in: a new session and its entry in the security log (issue 17.2, ASVS 7.1), one
 * transaction. `from` is the address the request came from, as the log keeps it.
 */
export function signIn(db: Db, actor: Actor, kind: SessionKind, now: Date, from: string): { token: string; expiresAt: string } {
  return db.$client.transaction(() => {
    const opened = openSession(db, actor.id, kind, now);
    logSecurity(db.$client, { at: now, actor, action: 'signed-in', subject: actor.id, details: { kind, from } });
    return opened;
  })();
}

/** Signs a session out: revoked, and its entry in the security log, one transaction. */
export function signOut(db: Db, session: Session, now: Date, from: string): void {
  db.$client.transaction(() => {
    revokeSession(db, session.tokenHash, now);
    logSecurity(db.$client, { at: now, actor: session.actor, action: 'signed-out', subject: session.actor.id, details: { kind: session.kind, from } });
  })();
}

/** The session behind a token, if it is live: not revoked, not past its absolute or idle expiry, its user active. */
export function findSession(db: Db, token: string, kind: SessionKind, now = new Date()): Session | undefined {
  if (token.length < 20 || token.length > 200) return undefined;
  const tokenHash = sha256(token);
  // Every request asks this: one statement prepared per database, no query built per call (issue 18).
  const row = sessionStatements(db).find.get(tokenHash);
  if (!row || row.kind !== kind || row.revokedAt || !row.active) return undefined;
  const nowIso = now.toISOString();
  if (row.expiresAt <= nowIso) return undefined;
  if (kind === 'cookie' && now.getTime() - Date.parse(row.lastSeenAt) > SESSION_IDLE_MS) return undefined;
  // Touch at most once a minute: a read should not write on every request.
  if (now.getTime() - Date.parse(row.lastSeenAt) > 60_000) {
    try {
      sessionStatements(db).touch.run(nowIso, tokenHash);
    } catch (error) {
      // A disk that cannot take the touch (full, read-only) must not stop a read: the write that matters answers 503.
      if (!storageFaultOf(error)) throw error;
    }
  }
  return {
    tokenHash,
    kind,
    actor: { id: row.id, login: row.login, name: row.name, role: row.role as Role, municipalityId: row.municipalityId },
  };
}

export function revokeSession(db: Db, tokenHash: string, now = new Date()): void {
  db.update(sessions).set({ revokedAt: now.toISOString() }).where(sql`${sessions.tokenHash} = ${tokenHash}`).run();
}
