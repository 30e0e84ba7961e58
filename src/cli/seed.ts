import { openDb } from '../db/client.ts';
import { recordExistingEntries } from '../db/existing-logs.ts';
import { isEmpty, seedDemo } from '../demo/seed.ts';
import { databasePath } from '../config.ts';

/** `npm run seed`: puts the demo into an empty database; refuses to touch one that has data. */
const path = databasePath();
const db = recordExistingEntries(openDb({ path }));
if (!isEmpty(db)) {
  console.error(`${path} already holds data; seed only an empty database (set DATABASE_PATH to a new file)`);
  process.exit(1);
}
const summary = await seedDemo(db);
db.$client.close();
console.log(`seeded ${path}: ${summary.applications} applications, ${summary.users} users, programmes ${summary.programmeIds.join(', ')}`);
