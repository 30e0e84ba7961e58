import { openDb } from './db/client.ts';
import { isEmpty, seedDemo } from './demo/seed.ts';
import { buildApp } from './http/app.ts';
import { databasePath, port } from './config.ts';

/** `npm start`: the embedded database, migrated on start, seeded with the demo when empty. */
const path = databasePath();
const db = openDb({ path });
if (isEmpty(db)) {
  const summary = await seedDemo(db);
  console.log(`seeded the demo into ${path}: ${summary.applications} applications, ${summary.users} users`);
}
const app = await buildApp({ db, logger: true, secureCookies: process.env.SECURE_COOKIES === 'true' });
const shutdown = async () => {
  await app.close();
  db.$client.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
await app.listen({ port: port(), host: process.env.HOST ?? '0.0.0.0' });
