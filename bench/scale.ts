import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import { openDb } from '../src/db/client.ts';
import type { HashedEventRow } from '../src/engine/ledger.ts';
import { buildApp } from '../src/http/app.ts';
import { refillCounts } from './dashboard.ts';
import { INSERT_EVENT_SQL, rechained } from './ledger-copies.ts';
import { copyDatabase } from './throughput.ts';

/**
 * `npm run bench -- --scale 1000000` (issue 18): a database of that many applications made by
 * copying the demo's engine-made application streams of the current programme, each copy a stream
 * of its own with its chain intact — every event re-hashed for its new stream and position, the
 * snapshot and head carried over — and its projection rows (the list row, the review queue, the
 * stays in states) copied beside it. The counts are filled as the triggers would have, then ANALYZE.
 * The copies share their templates' documents, titles and municipalities; registration numbers
 * are left to the originals (a number is unique).
 */
export interface Scaled {
  applications: number;
  events: number;
  ms: number;
  /** A copy far down the tables: the application page measured at scale. */
  deepApplication: number;
}

interface Template {
  id: number;
  streamId: string;
  events: (HashedEventRow & { hash: string })[];
}

function columnsOf(db: Database.Database, table: string): string[] {
  return db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all().map((c) => c.name);
}

/** `INSERT INTO table SELECT … FROM table WHERE key = ?`, with some columns given instead of copied. */
function copier(db: Database.Database, table: string, key: string, given: Record<string, string>) {
  const columns = columnsOf(db, table);
  const list = columns.map((c) => `"${c}"`).join(', ');
  const values = columns.map((c) => given[c] ?? `"${c}"`).join(', ');
  return db.prepare(`INSERT INTO ${table} (${list}) SELECT ${values} FROM ${table} WHERE "${key}" = @template`);
}

export function scaleApplications(demoPath: string, path: string, target: number): Scaled {
  copyDatabase(demoPath, path);
  // Migrated and closed first, so that the raw connection below sees the whole schema.
  openDb({ path }).$client.close();
  const db = new Database(path);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('foreign_keys = OFF');
  db.pragma('cache_size = -400000');
  const started = performance.now();
  const templates: Template[] = db
    .prepare<[], { id: number; streamId: string }>('SELECT id, stream_id AS streamId FROM applications WHERE programme_id = 2 ORDER BY id')
    .all()
    .map((row) => ({
      ...row,
      events: db
        .prepare<[string], HashedEventRow & { hash: string }>(
          `SELECT position, stream_id AS streamId, seq, type, payload, facts, actor, at, from_state AS fromState, to_state AS toState,
             machine_id AS machineId, machine_version AS machineVersion, prev_hash AS prevHash, hash FROM events WHERE stream_id = ? ORDER BY seq`,
        )
        .all(row.streamId),
    }));
  const existing = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM applications').get()!.n;
  const copies = Math.max(0, target - existing);
  const tables = ['events', 'streams', 'applications', 'review_queue', 'application_state_spells', 'application_counts', 'review_queue_counts', 'state_spell_counts', 'state_spell_hours'];
  const saved = db
    .prepare<[], { name: string; type: string; sql: string }>(
      `SELECT name, type, sql FROM sqlite_master WHERE tbl_name IN (${tables.map((t) => `'${t}'`).join(', ')}) AND type IN ('index', 'trigger') AND sql IS NOT NULL`,
    )
    .all();
  for (const object of saved) db.exec(`DROP ${object.type.toUpperCase()} "${object.name}"`);

  const insertEvent = db.prepare(INSERT_EVENT_SQL);
  const copyStream = db.prepare(
    `INSERT INTO streams (id, kind, machine_id, machine_version, state, snapshot, version, head_hash, updated_at)
     SELECT @streamId, kind, machine_id, machine_version, state, snapshot, version, @head, updated_at FROM streams WHERE id = @template`,
  );
  const copyApplication = copier(db, 'applications', 'id', { id: '@id', stream_id: '@streamId', registration_no: 'NULL', registration_seq: 'NULL' });
  const copyQueue = copier(db, 'review_queue', 'application_id', { application_id: '@id' });
  const copySpells = copier(db, 'application_state_spells', 'application_id', { application_id: '@id' });
  let position = db.prepare<[], { p: number }>('SELECT COALESCE(MAX(position), 0) AS p FROM events').get()!.p;
  const firstId = db.prepare<[], { id: number }>('SELECT COALESCE(MAX(id), 0) + 1 AS id FROM applications').get()!.id;
  let events = 0;
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i += 1) {
      const template = templates[i % templates.length]!;
      const id = firstId + i;
      const streamId = `application-${id}`;
      let prevHash = '0'.repeat(64);
      for (const event of template.events) {
        position += 1;
        const copy = rechained(event, streamId, position, prevHash);
        insertEvent.run(copy);
        prevHash = copy.hash;
        events += 1;
      }
      copyStream.run({ streamId, head: prevHash, template: template.streamId });
      copyApplication.run({ id, streamId, template: template.id });
      copyQueue.run({ id, template: template.id });
      copySpells.run({ id, template: template.id });
    }
  });
  const chunk = 20_000;
  for (let from = 0; from < copies; from += chunk) batch(from, Math.min(copies, from + chunk));
  db.prepare("UPDATE sqlite_sequence SET seq = (SELECT MAX(position) FROM events) WHERE name = 'events'").run();
  for (const object of saved) if (object.type === 'index') db.exec(object.sql);
  refillCounts(db);
  for (const object of saved) if (object.type === 'trigger') db.exec(object.sql);
  db.exec('ANALYZE');
  const applications = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM applications').get()!.n;
  db.close();
  const scaled = { applications, events, ms: performance.now() - started, deepApplication: firstId + Math.max(0, copies - 7) };
  console.log(`scaled to ${applications} applications: ${events} events copied with their chains re-hashed, in ${(scaled.ms / 1000).toFixed(1)} s`);
  return scaled;
}

/** The portal's home page when the database's app has one (issue 15), or null: what the bench measures as a public page. */
export async function publicPath(path: string): Promise<string | null> {
  const db = openDb({ path });
  const app = await buildApp({ db, rateLimitMax: 0 });
  try {
    const home = await app.inject({ url: '/' });
    return home.statusCode === 200 ? '/' : null;
  } finally {
    await app.close();
    db.$client.close();
  }
}

/**
 * The public portal's pages and JSON twins in the database (issue 15): a programme's applications
 * and results, a winning project, and their JSON; none when the app has no portal.
 */
export async function portalPaths(path: string): Promise<string[]> {
  const db = openDb({ path });
  const app = await buildApp({ db, rateLimitMax: 0 });
  try {
    const index = await app.inject({ url: '/api/public/programmes' });
    if (index.statusCode !== 200) return [];
    const programmes = (index.json() as { programmes: { id: number }[] }).programmes;
    const decided = programmes.at(-1)!.id;
    const winner = db.$client
      .prepare<[number], { id: number }>("SELECT id FROM applications WHERE programme_id = ? AND (state LIKE 'implementation.%' OR state = 'closed') ORDER BY id LIMIT 1")
      .get(decided);
    return [
      `/p/${decided}/applications`,
      `/p/${decided}/results`,
      ...(winner ? [`/p/${decided}/projects/${winner.id}`] : []),
      `/api/public/programmes/${decided}/applications`,
    ];
  } finally {
    await app.close();
    db.$client.close();
  }
}
