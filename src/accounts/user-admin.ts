import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { municipalities, sessions, users } from '../db/schema.ts';
import type { FieldProblem } from '../domain/application.ts';
import { roles, type Actor, type Role } from '../domain/roles.ts';
import { NotAllowedError, NotFoundError, ValidationError } from '../engine/errors.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { passwordProblems } from './password-policy.ts';
import { hasForbiddenCharacters, TEXT_CHARACTERS_PROBLEM } from '../domain/text.ts';
import { renameInReviewQueue } from '../workflows/application/review-queue.ts';
import { logSecurity, type LogActor } from './security-log.ts';
import { insertUser } from './users.ts';

/**
 * User administration (issue 6): create, change role and municipality, reset a password,
 * deactivate and reactivate, sign out everywhere. Whoever calls these has been let through the
 * authorisation table as an admin; the rules here are the ones that hold for every caller — an
 * applicant belongs to a municipality, nobody else does, and the last active admin stays.
 */

export interface UserRow {
  id: number;
  login: string;
  name: string;
  role: Role;
  municipalityId: number | null;
  municipalityName: string | null;
  active: boolean;
  createdAt: string;
  /** Where notifications are e-mailed (issue 12); null: the inbox only. */
  email: string | null;
  /** Live sessions and tokens: not revoked, not past their absolute expiry. */
  liveSessions: number;
}

export interface UserFilter {
  q?: string | undefined;
  role?: Role | undefined;
}

const LOGIN = /^[a-z0-9._-]{3,64}$/i;

function rowsQuery(db: Db, where: ReturnType<typeof sql>, now: Date): UserRow[] {
  return db
    .select({
      id: users.id,
      login: users.login,
      name: users.name,
      role: sql<Role>`${users.role}`,
      municipalityId: users.municipalityId,
      municipalityName: municipalities.name,
      active: users.active,
      createdAt: users.createdAt,
      email: users.email,
      liveSessions: sql<number>`(SELECT count(*) FROM ${sessions} WHERE ${sessions.userId} = ${users.id} AND ${sessions.revokedAt} IS NULL AND ${sessions.expiresAt} > ${now.toISOString()})`,
    })
    .from(users)
    .leftJoin(municipalities, sql`${municipalities.id} = ${users.municipalityId}`)
    .where(where)
    .orderBy(sql`${users.active} DESC, ${users.role}, ${users.login}`)
    .all();
}

export function listUsers(db: Db, filter: UserFilter = {}, now = new Date()): UserRow[] {
  const rows = rowsQuery(db, filter.role ? sql`${users.role} = ${filter.role}` : sql`1 = 1`, now);
  const q = filter.q?.trim().toLocaleLowerCase('ru');
  // Searched here, not in SQL: SQLite's lower() folds only ASCII, and names are Cyrillic; users are few.
  return q ? rows.filter((row) => row.login.toLocaleLowerCase('ru').includes(q) || row.name.toLocaleLowerCase('ru').includes(q)) : rows;
}

export function findUser(db: Db, id: number, now = new Date()): UserRow {
  const row = rowsQuery(db, sql`${users.id} = ${id}`, now)[0];
  if (!row) throw new NotFoundError(`user ${id} not found`);
  return row;
}

function roleOf(value: unknown, problems: FieldProblem[]): Role | undefined {
  if (typeof value === 'string' && (roles as readonly string[]).includes(value)) return value as Role;
  problems.push({ field: 'role', code: 'required' });
  return undefined;
}

function nameOf(value: unknown, problems: FieldProblem[]): string | undefined {
  const name = typeof value === 'string' ? value.trim() : '';
  if (name.length === 0) problems.push({ field: 'name', code: 'required' });
  else if (name.length > 200) problems.push({ field: 'name', code: 'too-long' });
  else if (hasForbiddenCharacters(name)) problems.push({ field: 'name', code: TEXT_CHARACTERS_PROBLEM });
  else return name;
  return undefined;
}

/** An applicant's municipality must exist; everybody else has none. */
function municipalityOf(db: Db, role: Role | undefined, value: unknown, problems: FieldProblem[]): number | null {
  if (role !== 'applicant') return null;
  const id = typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
  const exists = id !== null && db.select({ id: municipalities.id }).from(municipalities).where(sql`${municipalities.id} = ${id}`).get();
  if (!exists) problems.push({ field: 'municipalityId', code: 'municipality-required' });
  return id;
}

/** An e-mail address, or none: empty means the inbox only. */
export function emailOf(value: unknown, problems: FieldProblem[]): string | null {
  const email = typeof value === 'string' ? value.trim() : '';
  if (email === '') return null;
  if (email.length > 254 || hasForbiddenCharacters(email) || !/^[^\s@<>",;]{1,64}@[^\s@<>",;]+\.[^\s@<>",;]{2,}$/.test(email)) {
    problems.push({ field: 'email', code: 'email-invalid' });
    return null;
  }
  return email;
}

function checkPassword(password: unknown, login: string, problems: FieldProblem[], field = 'password'): string | undefined {
  if (typeof password !== 'string' || password.length === 0) {
    problems.push({ field, code: 'required' });
    return undefined;
  }
  const found = passwordProblems(password, login);
  for (const code of found) problems.push({ field, code: `password-${code}` });
  return found.length === 0 ? password : undefined;
}

function activeAdmins(db: Db): number {
  return db.select({ n: sql<number>`count(*)` }).from(users).where(sql`${users.role} = 'admin' AND ${users.active} = 1`).get()!.n;
}

export interface NewUser {
  login: unknown;
  name: unknown;
  role: unknown;
  municipalityId?: unknown;
  password: unknown;
  /** The password typed again, when a form asks for it: a mismatch is one more problem, reported with the others. */
  confirmation?: unknown;
  email?: unknown;
}

/** Creates a user; every problem is reported at once, tied to its field. `by`: who, for the security log. */
export async function createUser(db: Db, input: NewUser, now = new Date(), by: LogActor = null): Promise<Actor> {
  const problems: FieldProblem[] = [];
  const login = typeof input.login === 'string' ? input.login.trim() : '';
  if (!LOGIN.test(login)) problems.push({ field: 'login', code: 'login-format' });
  else if (db.select({ id: users.id }).from(users).where(sql`lower(${users.login}) = lower(${login})`).get()) problems.push({ field: 'login', code: 'login-taken' });
  const name = nameOf(input.name, problems);
  const role = roleOf(input.role, problems);
  const municipalityId = municipalityOf(db, role, input.municipalityId, problems);
  const password = checkPassword(input.password, login, problems);
  if (input.confirmation !== undefined && typeof input.password === 'string' && input.password !== '' && input.confirmation !== input.password) {
    problems.push({ field: 'confirmation', code: 'password-mismatch' });
  }
  const email = emailOf(input.email, problems);
  if (problems.length > 0 || !name || !role || !password) throw new ValidationError('the user is invalid', problems);
  const passwordHash = await hashPassword(password);
  // Checked again after the slow hash: another admin may have taken the login meanwhile (the unique index would refuse it too).
  const row = db.transaction(
    () => {
      if (db.select({ id: users.id }).from(users).where(sql`lower(${users.login}) = lower(${login})`).get()) {
        throw new ValidationError('the user is invalid', [{ field: 'login', code: 'login-taken' }]);
      }
      return insertUser(db, { login, name, role, municipalityId, passwordHash, email, createdAt: now.toISOString() }, by);
    },
    { behavior: 'immediate' },
  );
  return { id: row.id, login: row.login, name: row.name, role, municipalityId: row.municipalityId };
}

export interface UserChange {
  name: unknown;
  role: unknown;
  municipalityId?: unknown;
  /** Left out: the address stays as it is. */
  email?: unknown;
}

/** Changes a user's name, role and municipality. The last active admin keeps the admin role. */
export function changeUser(db: Db, id: number, input: UserChange, now = new Date(), by: LogActor = null): UserRow {
  const user = findUser(db, id, now);
  const problems: FieldProblem[] = [];
  const name = nameOf(input.name, problems);
  const role = roleOf(input.role, problems);
  const municipalityId = municipalityOf(db, role, input.municipalityId, problems);
  const email = input.email === undefined ? user.email : emailOf(input.email, problems);
  if (problems.length > 0 || !name || !role) throw new ValidationError('the change is invalid', problems);
  return db.transaction(
    () => {
      if (user.role === 'admin' && role !== 'admin' && user.active && activeAdmins(db) <= 1) {
        throw new NotAllowedError('the last active administrator cannot lose the role', {}, 'admin.refused.last-admin');
      }
      renameInReviewQueue(db, { userId: id, name });
      db.update(users).set({ name, role, municipalityId, email }).where(sql`${users.id} = ${id}`).run();
      logSecurity(db.$client, {
        at: now,
        actor: by,
        action: 'user-changed',
        subject: id,
        details: { from: { name: user.name, role: user.role, municipalityId: user.municipalityId }, name, role, municipalityId, emailChanged: email !== user.email },
      });
      // A changed role or municipality takes effect at the next request: sessions read the user row each time.
      return findUser(db, id, now);
    },
    { behavior: 'immediate' },
  );
}

/** Sets a new password chosen by an admin, and signs the user out everywhere. */
export async function resetPassword(db: Db, id: number, password: unknown, confirmation: unknown, now = new Date(), by: LogActor = null): Promise<number> {
  const user = findUser(db, id, now);
  const problems: FieldProblem[] = [];
  const accepted = checkPassword(password, user.login, problems);
  if (accepted !== undefined && confirmation !== password) problems.push({ field: 'confirmation', code: 'password-mismatch' });
  if (problems.length > 0 || accepted === undefined) throw new ValidationError('the password is not accepted', problems);
  const passwordHash = await hashPassword(accepted);
  return db.transaction(
    () => {
      db.update(users).set({ passwordHash }).where(sql`${users.id} = ${id}`).run();
      const revoked = revokeSessionsOnly(db, id, now);
      logSecurity(db.$client, { at: now, actor: by, action: 'password-reset', subject: id, details: { revokedSessions: revoked } });
      return revoked;
    },
    { behavior: 'immediate' },
  );
}

/**
 * A user changes their own password (ASVS 2.1.5–2.1.6): the current one first, then the new one
 * under the policy. Every other session and token of theirs ends (ASVS 3.3.3); this one stays.
 */
export async function changeOwnPassword(
  db: Db,
  userId: number,
  input: { current: unknown; password: unknown; confirmation: unknown },
  keepTokenHash: string,
  now = new Date(),
): Promise<number> {
  const row = db.select({ login: users.login, role: users.role, passwordHash: users.passwordHash }).from(users).where(sql`${users.id} = ${userId}`).get();
  if (!row) throw new NotFoundError();
  const problems: FieldProblem[] = [];
  const currentOk = typeof input.current === 'string' && input.current.length > 0 && input.current.length <= 200 && (await verifyPassword(input.current, row.passwordHash));
  if (!currentOk) problems.push({ field: 'current', code: 'password-wrong' });
  const accepted = checkPassword(input.password, row.login, problems);
  if (accepted !== undefined && input.confirmation !== input.password) problems.push({ field: 'confirmation', code: 'password-mismatch' });
  if (accepted !== undefined && accepted === input.current) problems.push({ field: 'password', code: 'password-unchanged' });
  if (problems.length > 0 || accepted === undefined) throw new ValidationError('the password is not accepted', problems);
  const passwordHash = await hashPassword(accepted);
  return db.transaction(
    () => {
      db.update(users).set({ passwordHash }).where(sql`${users.id} = ${userId}`).run();
      const ended = db
        .update(sessions)
        .set({ revokedAt: now.toISOString() })
        .where(sql`${sessions.userId} = ${userId} AND ${sessions.tokenHash} <> ${keepTokenHash} AND ${sessions.revokedAt} IS NULL AND ${sessions.expiresAt} > ${now.toISOString()}`)
        .run().changes;
      logSecurity(db.$client, { at: now, actor: { id: userId, login: row.login, role: row.role as Role }, action: 'password-changed', subject: userId, details: { revokedSessions: ended } });
      return ended;
    },
    { behavior: 'immediate' },
  );
}

/** Deactivates a user and revokes every session and token. Nobody deactivates themselves or the last admin. */
export function deactivateUser(db: Db, by: Actor, id: number, now = new Date()): number {
  const user = findUser(db, id, now);
  if (user.id === by.id) throw new NotAllowedError('you cannot deactivate yourself', {}, 'admin.refused.self');
  return db.transaction(
    () => {
      if (user.role === 'admin' && user.active && activeAdmins(db) <= 1) {
        throw new NotAllowedError('the last active administrator cannot be deactivated', {}, 'admin.refused.last-admin');
      }
      db.update(users).set({ active: false }).where(sql`${users.id} = ${id}`).run();
      const revoked = revokeSessionsOnly(db, id, now);
      logSecurity(db.$client, { at: now, actor: by, action: 'user-deactivated', subject: id, details: { revokedSessions: revoked } });
      return revoked;
    },
    { behavior: 'immediate' },
  );
}

export function activateUser(db: Db, id: number, now = new Date(), by: LogActor = null): void {
  findUser(db, id, now);
  db.transaction(
    () => {
      db.update(users).set({ active: true }).where(sql`${users.id} = ${id}`).run();
      logSecurity(db.$client, { at: now, actor: by, action: 'user-activated', subject: id });
    },
    { behavior: 'immediate' },
  );
}

/** Revokes every live session and bearer token of a user; returns how many. The security log records it. */
export function revokeUserSessions(db: Db, userId: number, now = new Date(), by: LogActor = null): number {
  return db.transaction(
    () => {
      const revoked = revokeSessionsOnly(db, userId, now);
      logSecurity(db.$client, { at: now, actor: by, action: 'sessions-revoked', subject: userId, details: { revokedSessions: revoked } });
      return revoked;
    },
    { behavior: 'immediate' },
  );
}

/** The revocation itself, for a change whose own log entry counts the sessions it ended. */
function revokeSessionsOnly(db: Db, userId: number, now: Date): number {
  return db
    .update(sessions)
    .set({ revokedAt: now.toISOString() })
    .where(sql`${sessions.userId} = ${userId} AND ${sessions.revokedAt} IS NULL AND ${sessions.expiresAt} > ${now.toISOString()}`)
    .run().changes;
}
