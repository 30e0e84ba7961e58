import { openDb, type Db } from './db/client.ts';
import { recordExistingEntries } from './db/existing-logs.ts';
import { isEmpty, seedDemo } from './demo/seed.ts';
import { buildApp } from './http/app.ts';
import { ConfigError, mailSettings, publicUrl, serverConfig, type ServerConfig } from './config.ts';
import { checkWritable } from './db/readiness.ts';
import { storageFaultOf } from './db/storage-faults.ts';
import { DocumentStore, documentsDirFor } from './workflows/documents/store.ts';

/**
 * `npm start`: the embedded database, migrated on start, seeded with the demo when empty. A real
 * installation creates its first admin with `npm run users -- add …` before the first start (the
 * database is then not empty, so no demo user with a known password appears), or sets SEED_DEMO=false.
 * It refuses to start, with one line that says why, on a configuration it cannot mean and on a
 * database it cannot write: a server that cannot save would accept work and then lose it.
 */
function refuse(line: string): never {
  console.error(line);
  process.exit(1);
}

let config: ServerConfig;
try {
  config = serverConfig();
} catch (error) {
  if (error instanceof ConfigError) refuse(`isu-ib does not start: ${error.message.split('\n').join('; ')}`);
  throw error;
}

const path = config.databasePath;
function cannotWrite(why: string): never {
  refuse(`isu-ib does not start: the database ${path} cannot be written (${why}); make the file and its folder writable by this user and check that the disk has room`);
}
let db: Db;
try {
  db = recordExistingEntries(openDb({ path }));
} catch (error) {
  const fault = storageFaultOf(error);
  if (!fault) throw error;
  cannotWrite(`${(error as { code?: string }).code}: ${(error as Error).message}`);
}
const readiness = checkWritable(db.$client);
if (!readiness.ok) cannotWrite(readiness.detail);

// Uploads a crash cut short stay in documents/tmp; no event names them, and nothing is uploading yet.
const leftovers = new DocumentStore(documentsDirFor(db)).removeLeftovers();
if (leftovers > 0) console.log(`removed ${leftovers} unfinished upload(s) from ${documentsDirFor(db)}/tmp`);

if (isEmpty(db) && config.seedDemo) {
  const summary = await seedDemo(db);
  console.log(`seeded the demo into ${path}: ${summary.applications} applications, ${summary.users} users`);
}
if (process.env.TRUST_PROXY?.trim() === 'true') console.log('TRUST_PROXY=true is taken as 1 hop: the address the one reverse proxy in front of the server reports');
const app = await buildApp({
  db,
  logger: true,
  secureCookies: config.secureCookies,
  trustProxy: config.trustProxy,
  rateLimitMax: config.rateLimitPerMinute,
  // The outbox's delivery worker and the reminders run inside the server (issue 12).
  communications: { mail: mailSettings(), publicUrl: publicUrl(), background: true },
});
const shutdown = async () => {
  await app.close();
  db.$client.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
await app.listen({ port: config.port, host: config.host });
