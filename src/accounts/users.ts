import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { text } from '../domain/text.ts';
import type { Db } from '../db/client.ts';
import { users } from '../db/schema.ts';
import { roles, type Actor, type Role } from '../domain/roles.ts';
import { UNUSABLE_HASH, hashPassword, verifyPassword } from './passwords.ts';

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
  const row = db
    .insert(users)
    .values({
      login: user.login,
      name: user.name,
      role: user.role,
      municipalityId: user.role === 'applicant' ? user.municipalityId : null,
      passwordHash,
      createdAt: new Date().toISOString(),
    })
    .returning()
    .get();
  return { id: row.id, login: row.login, name: row.name, role: row.role as Role, municipalityId: row.municipalityId };
}

/** The user for a login and password, or undefined; an unknown login costs as much time as a wrong password. */
export async function authenticate(db: Db, login: string, password: string): Promise<Actor | undefined> {
  const row = db.select().from(users).where(sql`${users.login} = ${login}`).get();
  const ok = await verifyPassword(password, row?.passwordHash ?? UNUSABLE_HASH);
  if (!row || !ok || !row.active) return undefined;
  return { id: row.id, login: row.login, name: row.name, role: row.role as Role, municipalityId: row.municipalityId };
}
