import { openDb, type Db } from '../../src/db/client.ts';
import { insertUser } from '../../src/accounts/users.ts';
import { municipalities, users } from '../../src/db/schema.ts';
import { defaultDocumentRules, type DocumentRule } from '../../src/domain/documents.ts';
import type { Actor, Role } from '../../src/domain/roles.ts';
import { Engine, type AppliedEvent } from '../../src/engine/engine.ts';
import { createApplication, sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { findApplication } from '../../src/workflows/application/reads.ts';
import { DocumentStore, documentsDirFor } from '../../src/workflows/documents/store.ts';
import { attachDocumentBytes } from '../../src/workflows/documents/upload.ts';
import { installWorkflows } from '../../src/workflows/index.ts';
import { completeForm, programmeWithActiveStages } from './fixtures.ts';
import { samples } from './document-samples.ts';

/**
 * A small world on a database file of its own, made through the engine (no demo reseeded): two
 * municipalities, one user per role, a programme in its documentation and intake stages, and
 * helpers that write real events. For the tests of backups and storage faults (issue 17).
 */
export interface SmallWorld {
  db: Db;
  engine: Engine;
  store: DocumentStore;
  programmeId: number;
  actors: Record<Role, Actor>;
  draft(title?: string): number;
  /** An `update` of the title at the application's current version. */
  retitle(id: number, title: string): AppliedEvent;
  /** Attaches a small PDF of its own to the application (a new file each time). */
  attach(id: number, text: string): AppliedEvent;
  eventCount(): number;
}

export function smallWorld(path: string, options: { synchronous?: 'FULL' | 'NORMAL' | 'OFF'; documentRules?: readonly DocumentRule[] } = {}): SmallWorld {
  const db = openDb({ path, synchronous: options.synchronous ?? 'NORMAL' });
  const createdAt = '2027-01-10T08:00:00.000Z';
  const home = db.insert(municipalities).values({ name: 'Якшур-Бодьинский район', kind: 'district', population: 21_000 }).returning().get().id;
  const user = (login: string, role: Role, municipalityId: number | null = null): Actor => {
    const row = insertUser(db, { login, name: login, role, municipalityId, passwordHash: 'not-a-hash', createdAt }, null);
    return { id: row.id, login, name: login, role, municipalityId };
  };
  const actors: Record<Role, Actor> = {
    applicant: user('applicant1', 'applicant', home),
    reviewer: user('reviewer1', 'reviewer'),
    coordinator: user('coordinator1', 'coordinator'),
    commission: user('commission1', 'commission'),
    auditor: user('auditor1', 'auditor'),
    admin: user('admin1', 'admin'),
  };
  let t = Date.parse('2027-04-01T06:00:00.000Z');
  const engine = new Engine(db, { now: () => new Date((t += 1_000)) });
  installWorkflows(engine);
  const staged = programmeWithActiveStages(engine, actors, ['documentation', 'intake'], { documentRules: options.documentRules ?? defaultDocumentRules });
  const store = new DocumentStore(documentsDirFor(db));
  const versionOf = (id: number) => findApplication(db, actors.auditor, id).version;
  return {
    db,
    engine,
    store,
    programmeId: staged.programmeId,
    actors,
    draft: (title = completeForm.title!) => createApplication(engine, actors.applicant, { programmeId: staged.programmeId, form: { ...completeForm, title } }).id,
    retitle: (id, title) => sendApplicationEvent(engine, actors.applicant, id, 'update', { title }, versionOf(id)),
    attach: (id, text) => attachDocumentBytes(engine, store, actors.applicant, id, 'meeting-minutes', `протокол ${text}.pdf`, samples.pdf(text), versionOf(id)),
    eventCount: () => db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()!.n,
  };
}
