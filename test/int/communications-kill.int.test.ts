import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/db/client.ts';
import { communicationsWorld, PASSWORD, TestSmtp, until } from './communications-fixture.ts';
import { freePort } from './free-port.ts';

/**
 * The outbox survives a crash (issue 12): the real server (`src/server.ts`) in a child process
 * writes an event and its notifications, is killed with SIGKILL before it could deliver them
 * (its SMTP server is not there yet), and the next start of the server delivers each once.
 */

const dir = mkdtempSync(join(tmpdir(), 'isu-ib-kill-'));
const children: ChildProcess[] = [];
let smtp: TestSmtp | null = null;

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await smtp?.stop();
  rmSync(dir, { recursive: true, force: true });
});


/** Starts `npm start`'s server on the database with these settings and waits for /readyz or /healthz. */
async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', SEED_DEMO: 'false', NODE_ENV: 'test' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited: ${errors}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, url };
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 30_000) throw new Error(`the server did not start: ${errors}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a crash between the event and the delivery', () => {
  it('kills the server with SIGKILL after the return was written, and finds its e-mails delivered once after the restart', async () => {
    const path = join(dir, 'isu.sqlite');
    // The world: users with addresses, a programme in its intake, an application under review.
    const world = await communicationsWorld({ db: openDb({ path }) });
    const { id, version } = world.applicationUnderReview();
    const applicants = [world.users.applicantA1.email, world.users.applicantA2.email].sort();
    await world.close();

    smtp = await new TestSmtp().start();
    const smtpPort = smtp.port;
    await smtp.stop();
    const env = { DATABASE_PATH: path, SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, MAIL_FROM: 'ISU-IB <no-reply@isu.example.org>', PUBLIC_URL: 'https://isu.example.org' };

    const first = await startServer(env);
    const session = await fetch(`${first.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'reviewer', password: PASSWORD }) });
    expect(session.status).toBe(200);
    const { token } = (await session.json()) as { token: string };
    const returned = await fetch(`${first.url}/api/applications/${id}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ type: 'return-for-revision', expectedVersion: version, remarks: [{ field: 'general', text: 'Приложите протокол собрания.' }] }),
    });
    expect(returned.status).toBe(200);

    // The event and its notifications are in the file, committed; nothing could be delivered.
    const reader = openDb({ path });
    const queued = () =>
      reader.$client
        .prepare<[], { mailTo: string; mailState: string }>("SELECT mail_to AS mailTo, mail_state AS mailState FROM notifications WHERE kind = 'returned' ORDER BY mail_to")
        .all();
    expect(queued().map((row) => row.mailTo)).toEqual(applicants);
    expect(queued().every((row) => row.mailState === 'pending' || row.mailState === 'sending')).toBe(true);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(smtp.received).toEqual([]);

    await smtp.start(smtpPort);
    const second = await startServer(env);
    await until(() => queued().every((row) => row.mailState === 'sent'), 20_000, 'the delivery after the restart');
    const number = reader.$client.prepare<[number], { no: string | null }>('SELECT registration_no AS no FROM applications WHERE id = ?').get(id)?.no ?? String(id);
    const returnMails = smtp.received.filter((mail) => mail.subject.includes(`№ ${number} возвращена`));
    expect(returnMails.map((mail) => mail.to).flat().sort()).toEqual(applicants);
    expect(new Set(returnMails.map((mail) => mail.messageId)).size).toBe(2);
    second.child.kill('SIGTERM');
    await new Promise((resolve) => second.child.once('exit', resolve));
    reader.$client.close();
  }, 90_000);
});
