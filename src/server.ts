import { openDb } from './db/client.ts';
import { isEmpty, seedDemo } from './demo/seed.ts';
import { buildApp } from './http/app.ts';
import { databasePath, port } from './config.ts';

/**
 * `npm start`: the embedded database, migrated on start, seeded with the demo when empty. A real
 * installation creates its first admin with `npm run users -- add …` before the first start (the
 * database is then not empty, so no demo user with a known password appears), or sets SEED_DEMO=false.
 */
const path = databasePath();
const db = openDb({ path });
if (isEmpty(db) && process.env.SEED_DEMO !== 'false') {
  const summary = await seedDemo(db);
  console.log(`seeded the demo into ${path}: ${summary.applications} applications, ${summary.users} users`);
}
const app = await buildApp({
  db,
  logger: true,
  secureCookies: process.env.SECURE_COOKIES === 'true',
  trustProxy: process.env.TRUST_PROXY === 'true',
});
const shutdown = async () => {
  await app.close();
  db.$client.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
await app.listen({ port: port(), host: process.env.HOST ?? '0.0.0.0' });
