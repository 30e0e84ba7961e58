import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { text } from '../domain/text.ts';
import type { Db } from '../db/client.ts';
import { users } from '../db/schema.ts';
import { roles, type Actor, type Role } from '../domain/roles.ts';
import { UNUSABLE_HASH, hashPassword, verifyPassword } from './passwords.ts';
import { logSecurity, type LogActor } from './security-log.ts';

export const newUserSchema = z.strictObject({
  login: z.string().trim().min(3).max(64).regex(/^[a-z0-9._-]+$/i),
  name: text({ max: 200 }),
  role: z.enum(roles),
  municipalityId: z.number().int().positive().nullable().default(null),
  password: z.string().min(4).max(200),
});

export async function addUser(db: Db, input: z.input<typeof newUserSchema>): Promise<Actor> {
  const user = newUserSchema.parse(input);
  if (user.role === 'applicant' && user.municipalityId === null) throw new Error('an applicant needs a municipality');
  const passwordHash = await hashPassword(user.password);
  const municipalityId = user.role === 'applicant' ? user.municipalityId : null;
  const row = insertUser(db, { login: user.login, name: user.name, role: user.role, municipalityId, passwordHash, createdAt: new Date().toISOString() }, null);
  return { id: row.id, login: row.login, name: row.name, role: row.role as Role, municipalityId: row.municipalityId };
}

/**
 * Inserts a user and its `user-created` entry in the security log, in one transaction: every way a
 * user comes to be — the admin's form, the command line, the demo seed — goes through here.
 */
export function insertUser(
  db: Db,
  values: { login: string; name: string; role: Role; municipalityId: number | null; passwordHash: string; createdAt: string; email?: string | null },
  by: LogActor,
): typeof users.$inferSelect {
  return db.transaction(
    () => {
      const created = db.insert(users).values(values).returning().get();
      logSecurity(db.$client, { at: values.createdAt, actor: by, action: 'user-created', subject: created.id, details: { login: values.login, name: values.name, role: values.role, municipalityId: values.municipalityId, active: true } });
      return created;
    },
    { behavior: 'immediate' },
  );
}

/** The user for a login and password, or undefined; an unknown login costs as much time as a wrong password. */
export async function authenticate(db: Db, login: string, password: string): Promise<Actor | undefined> {
  const row = db.select().from(users).where(sql`${users.login} = ${login}`).get();
  const ok = await verifyPassword(password, row?.passwordHash ?? UNUSABLE_HASH);
  if (!row || !ok || !row.active) return undefined;
  return { id: row.id, login: row.login, name: row.name, role: row.role as Role, municipalityId: row.municipalityId };
}
