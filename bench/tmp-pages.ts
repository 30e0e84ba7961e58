import { join } from 'node:path';
import { copyFileSync, rmSync } from 'node:fs';
import { serve } from './transitions.ts';
import { load } from './load.ts';
import { sessionOf } from './session.ts';
const dir = '/tmp/trdemo';
for (const s of ['-wal', '-shm']) rmSync(join(dir, 'p.sqlite') + s, { force: true });
copyFileSync(join(dir, 'demo.sqlite'), join(dir, 'p.sqlite'));
const hello = await serve(['hello']);
console.log('hello', await load({ port: hello.port, connections: 50, seconds: 5, next: () => ({ method: 'GET', path: '/' }) }));
await hello.stop();
const server = await serve(['app', join(dir, 'p.sqlite')]);
const cookie = await sessionOf(`http://127.0.0.1:${server.port}`, 'reviewer1');
for (const path of ['/queue', '/applications/5', process.argv[2] ?? '/login']) {
  console.log(path, await load({ port: server.port, connections: 50, seconds: 5, next: () => ({ method: 'GET', path, headers: { cookie } }) }));
}
await server.stop();
