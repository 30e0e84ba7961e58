import { join } from 'node:path';
import { openDb } from '../src/db/client.ts';
import { seedDemo } from '../src/demo/seed.ts';
import { existsSync, mkdirSync } from 'node:fs';
import { serve } from './transitions.ts';
import { load } from './load.ts';
import { sessionOf } from './session.ts';
import { copyDatabase } from './throughput.ts';
const dir = '/tmp/trdemo';
if (!existsSync(join(dir, 'demo.sqlite'))) { mkdirSync(dir, { recursive: true }); const db = openDb({ path: join(dir, 'demo.sqlite') }); await seedDemo(db); db.$client.pragma('wal_checkpoint(TRUNCATE)'); db.$client.close(); }
copyDatabase(join(dir, 'demo.sqlite'), join(dir, 'p.sqlite'));
const server = await serve(['app', join(dir, 'p.sqlite')]);
const cookie = await sessionOf(`http://127.0.0.1:${server.port}`, process.argv[3] ?? 'reviewer1');
const path = process.argv[2]!;
console.log(path, await load({ port: server.port, connections: 50, seconds: 8, next: () => ({ method: 'GET', path, headers: { cookie } }) }));
await server.stop();
