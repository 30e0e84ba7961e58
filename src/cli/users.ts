import { sql } from 'drizzle-orm';
import { recordExistingEntries } from '../db/existing-logs.ts';
import { parseArgs } from 'node:util';
import { openDb, type Db } from '../db/client.ts';
import { municipalities, users } from '../db/schema.ts';
import { databasePath } from '../config.ts';
import { activateUser, changeUser, createUser, deactivateUser, listUsers, resetPassword, revokeUserSessions } from '../accounts/user-admin.ts';
import { PASSWORD_MIN } from '../accounts/password-policy.ts';
import { DomainError, ValidationError } from '../engine/errors.ts';
import type { Actor } from '../domain/roles.ts';

const usage = `Usage: npm run users -- <command> [options]

Commands:
  add --login L --name "N" --role R [--municipality ID|NAME] [--email ADDRESS]
                         create a user (the first admin of a real installation)
  set-email --login L --email ADDRESS
                         where the user's notifications are e-mailed ("" for none)
  set-password --login L set a new password; ends the user's sessions
  deactivate --login L   the user can no longer sign in; ends their sessions
  activate --login L     lets a deactivated user sign in again
  revoke --login L       ends every session and API token of the user
  list                   the users, their roles and whether they are active

The password is never taken from the command line unless you insist (--password, which other
users of the machine can see in the process list and which stays in the shell history):
  - typed at the prompt, twice, without echo, when run in a terminal;
  - otherwise the first line of standard input:  printf '%s\\n' "$PASS" | npm run users -- add …
  - or the ISU_USER_PASSWORD environment variable.
At least ${PASSWORD_MIN} characters. DATABASE_PATH chooses the database (default data/isu-ib.sqlite).`;

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let value = '';
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          return resolve(value);
        }
        if (char === '\u0003') {
          stdin.setRawMode(false);
          process.stderr.write('\n');
          return reject(new Error('cancelled'));
        }
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** The new password from the safest source available; see the usage text. */
async function readPassword(fromArgv: string | undefined): Promise<{ password: string; confirmation: string }> {
  if (fromArgv !== undefined) {
    process.stderr.write('warning: a password on the command line is visible to other users of this machine and stays in the shell history\n');
    return { password: fromArgv, confirmation: fromArgv };
  }
  const fromEnv = process.env.ISU_USER_PASSWORD;
  if (fromEnv) return { password: fromEnv, confirmation: fromEnv };
  if (process.stdin.isTTY) {
    const password = await promptHidden('Password: ');
    const confirmation = await promptHidden('Password again: ');
    return { password, confirmation };
  }
  const line = await readStdinLine();
  return { password: line, confirmation: line };
}

function municipalityId(db: Db, value: string | undefined): number | null {
  if (value === undefined) return null;
  if (/^\d+$/.test(value)) return Number(value);
  const row = db.select({ id: municipalities.id }).from(municipalities).where(sql`${municipalities.name} = ${value}`).get();
  if (!row) throw new Error(`no municipality named “${value}”`);
  return row.id;
}

function userByLogin(db: Db, login: string | undefined): { id: number; login: string } {
  if (!login) throw new UsageError('--login is required');
  const row = db.select({ id: users.id, login: users.login }).from(users).where(sql`${users.login} = ${login}`).get();
  if (!row) throw new Error(`no user with the login “${login}”`);
  return row;
}

class UsageError extends Error {}

/** The shell acts with an admin's authority; the log of the refusals names it as such. */
const shell: Actor = { id: 0, login: 'shell', name: 'command line', role: 'admin', municipalityId: null };

function describe(error: unknown): string {
  if (error instanceof ValidationError) return error.problems.map((p) => `${p.field}: ${p.code}`).join('; ');
  if (error instanceof DomainError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      login: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      municipality: { type: 'string' },
      password: { type: 'string' },
      email: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(usage);
    return command || values.help ? 0 : 2;
  }
  const db = recordExistingEntries(openDb({ path: databasePath() }));
  try {
    switch (command) {
      case 'add': {
        if (!values.login || !values.name || !values.role) throw new UsageError('add needs --login, --name and --role');
        const { password, confirmation } = await readPassword(values.password);
        if (password !== confirmation) throw new Error('the passwords do not match');
        const user = await createUser(db, { login: values.login, name: values.name, role: values.role, municipalityId: municipalityId(db, values.municipality), password, email: values.email }, new Date(), shell);
        console.log(`created ${user.role} ${user.login} (id ${user.id})`);
        return 0;
      }
      case 'set-email': {
        const user = userByLogin(db, values.login);
        if (values.email === undefined) throw new UsageError('set-email needs --email');
        const current = listUsers(db).find((row) => row.id === user.id)!;
        changeUser(db, user.id, { name: current.name, role: current.role, municipalityId: current.municipalityId, email: values.email }, new Date(), shell);
        console.log(values.email.trim() ? `notifications of ${user.login} go to ${values.email.trim()}` : `${user.login} gets notifications in the inbox only`);
        return 0;
      }
      case 'set-password': {
        const user = userByLogin(db, values.login);
        const { password, confirmation } = await readPassword(values.password);
        const revoked = await resetPassword(db, user.id, password, confirmation, new Date(), shell);
        console.log(`password of ${user.login} changed; ${revoked} session(s) ended`);
        return 0;
      }
      case 'deactivate': {
        const user = userByLogin(db, values.login);
        const revoked = deactivateUser(db, shell, user.id);
        console.log(`${user.login} deactivated; ${revoked} session(s) ended`);
        return 0;
      }
      case 'activate': {
        const user = userByLogin(db, values.login);
        activateUser(db, user.id, new Date(), shell);
        console.log(`${user.login} can sign in again`);
        return 0;
      }
      case 'revoke': {
        const user = userByLogin(db, values.login);
        console.log(`${revokeUserSessions(db, user.id, new Date(), shell)} session(s) of ${user.login} ended`);
        return 0;
      }
      case 'list': {
        for (const user of listUsers(db)) {
          console.log([user.id, user.login, user.role, user.active ? 'active' : 'deactivated', user.municipalityName ?? '-', user.email ?? '-', user.name].join('\t'));
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } finally {
    db.$client.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${usage}`);
    process.exitCode = 2;
  } else {
    console.error(`error: ${describe(error)}`);
    process.exitCode = 1;
  }
}
