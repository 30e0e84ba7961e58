import { once } from 'node:events';
import { insertUser } from '../../src/accounts/users.ts';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { FastifyInstance } from 'fastify';
import { hashPassword } from '../../src/accounts/passwords.ts';
import { openSession } from '../../src/accounts/sessions.ts';
import { openDb, type Db } from '../../src/db/client.ts';
import type { Actor, Role } from '../../src/domain/roles.ts';
import { buildApp } from '../../src/http/app.ts';
import type { CommunicationsOptions } from '../../src/http/plugins/communications.ts';
import { createApplication, sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { programmeWithActiveStages, completeForm, type StagedProgramme } from './fixtures.ts';
import { Browser } from './http-helpers.ts';

/**
 * A small world for the communications tests (issue 12), without the demo: two municipalities,
 * three applicants (two in the first), two reviewers, a coordinator, a commission member and an
 * admin, every one with an address; a programme in its intake. And a real SMTP server in the
 * test process that keeps every message it receives, parsed.
 */

export const PASSWORD = 'a long test passphrase';

export interface Received {
  to: string[];
  messageId: string;
  subject: string;
  text: string;
  html: string;
  raw: ParsedMail;
}

/** An SMTP server on the loopback that can be stopped and started again on the same port. */
export class TestSmtp {
  readonly received: Received[] = [];
  private server: SMTPServer | null = null;
  port = 0;

  /** Addresses the server refuses for good (550), as a real one refuses a mailbox that does not exist. */
  readonly refused = new Set<string>();

  async start(port = this.port): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo: (address, _session, callback) => {
        if (this.refused.has(address.address)) return callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
        callback();
      },
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((mail) => {
            this.received.push({
              to: session.envelope.rcptTo.map((r) => r.address),
              messageId: mail.messageId ?? '',
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              html: typeof mail.html === 'string' ? mail.html : '',
              raw: mail,
            });
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    server.listen(port, '127.0.0.1');
    await once(server.server, 'listening');
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Messages to one address. */
  to(address: string): Received[] {
    return this.received.filter((mail) => mail.to.includes(address));
  }
}

/** Waits until `check` holds, or fails after `ms`. */
export async function until(check: () => boolean, ms = 10_000, what = 'the condition'): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`${what} did not hold within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface World {
  db: Db;
  app: FastifyInstance;
  programme: StagedProgramme;
  municipalities: { a: number; b: number };
  users: Record<'admin' | 'coordinator' | 'reviewer' | 'reviewer2' | 'applicantA1' | 'applicantA2' | 'applicantB' | 'commission', Actor & { email: string }>;
  /** A bearer token of a user, for the API. */
  bearer(user: Actor): string;
  /** A cookie header of a user, for the pages. */
  cookie(user: Actor): string;
  /** A browser signed in as the user, keeping cookies and the CSRF token of the last page. */
  browser(user: Actor): Browser;
  /** An application of municipality A, submitted and under review by `reviewer`. */
  applicationUnderReview(): { id: number; version: number };
  /** Another app over the same database: a restart. */
  restart(options?: CommunicationsOptions): Promise<FastifyInstance>;
  close(): Promise<void>;
}

export function mailOptions(smtp: TestSmtp): CommunicationsOptions {
  return { mail: { smtpUrl: smtp.url, from: 'ISU-IB <no-reply@isu.example.org>', pollMs: 40, backoffMs: 80, maxBackoffMs: 300, maxAttempts: 50 }, publicUrl: 'https://isu.example.org', background: true };
}

export async function communicationsWorld(options: { communications?: CommunicationsOptions; db?: Db } = {}): Promise<World> {
  const db = options.db ?? openDb({ path: ':memory:', synchronous: 'OFF' });
  const sqlite = db.$client;
  const municipality = (name: string) => Number(sqlite.prepare("INSERT INTO municipalities (name, kind, population) VALUES (?, 'municipal-okrug', 10000)").run(name).lastInsertRowid);
  const municipalities = { a: municipality('Завьяловский район'), b: municipality('город Сарапул') };
  const passwordHash = await hashPassword(PASSWORD);
  const user = (login: string, role: Role, municipalityId: number | null = null) => {
    const email = `${login}@example.org`;
    const id = insertUser(db, { login, name: `Пользователь ${login}`, role, municipalityId, passwordHash, createdAt: new Date().toISOString(), email }, null).id;
    return { id, login, name: `Пользователь ${login}`, role, municipalityId, email };
  };
  const users = {
    admin: user('admin', 'admin'),
    coordinator: user('coordinator', 'coordinator'),
    reviewer: user('reviewer', 'reviewer'),
    reviewer2: user('reviewer.two', 'reviewer'),
    applicantA1: user('applicant.a1', 'applicant', municipalities.a),
    applicantA2: user('applicant.a2', 'applicant', municipalities.a),
    applicantB: user('applicant.b', 'applicant', municipalities.b),
    commission: user('commission', 'commission'),
  };
  let app = await buildApp({ db, rateLimitMax: 100_000, communications: options.communications ?? {} });
  await app.ready();
  const programme = programmeWithActiveStages(app.engine, { admin: users.admin, coordinator: users.coordinator }, ['documentation', 'intake']);
  const world: World = {
    db,
    get app() {
      return app;
    },
    programme,
    municipalities,
    users,
    bearer: (actor) => openSession(db, actor.id, 'bearer').token,
    cookie: (actor) => `sid=${openSession(db, actor.id, 'cookie').token}`,
    browser: (actor) => {
      const browser = new Browser(app);
      browser.cookies.set('sid', openSession(db, actor.id, 'cookie').token);
      return browser;
    },
    applicationUnderReview() {
      const created = createApplication(app.engine, users.applicantA1, { programmeId: programme.programmeId, form: completeForm });
      let version = sendApplicationEvent(app.engine, users.applicantA1, created.id, 'submit', {}, created.version).version;
      version = sendApplicationEvent(app.engine, users.reviewer, created.id, 'start-review', {}, version).version;
      return { id: created.id, version };
    },
    async restart(next) {
      await app.close();
      app = await buildApp({ db, rateLimitMax: 100_000, communications: next ?? options.communications ?? {} });
      await app.ready();
      return app;
    },
    async close() {
      await app.close();
      db.$client.close();
    },
  };
  return world;
}
