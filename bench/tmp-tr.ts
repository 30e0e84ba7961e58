import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../src/db/client.ts';
import { seedDemo } from '../src/demo/seed.ts';
import { transitionsOver } from './transitions.ts';
const dir = '/tmp/trdemo';
import { existsSync, mkdirSync } from 'node:fs';
if (!existsSync(join(dir, 'demo.sqlite'))) {
  mkdirSync(dir, { recursive: true });
  const db = openDb({ path: join(dir, 'demo.sqlite') });
  await seedDemo(db);
  db.$client.pragma('wal_checkpoint(TRUNCATE)');
  db.$client.close();
}
console.log('batched', await transitionsOver(join(dir, 'demo.sqlite'), join(dir, 'a.sqlite'), 'a', undefined, 10));
