/**
 * The server under load in the bench (issue 18), in a process of its own: `app <database> [batch]`
 * serves ISU-IB over the database (rate limit off, logging off; `batch` bounds the group commit,
 * 1 = every write its own transaction), `hello` serves fastify's hello world, the baseline of the
 * pages. It prints `listening <port>` once it accepts connections.
 */
import Fastify from 'fastify';
import { openDb } from '../src/db/client.ts';
import { buildApp } from '../src/http/app.ts';

const [mode, path, batch] = process.argv.slice(2);
if (mode === 'hello') {
  const app = Fastify();
  app.get('/', async () => ({ hello: 'world' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  console.log(`listening ${(app.server.address() as { port: number }).port}`);
} else if (mode === 'app' && path) {
  const db = openDb({ path });
  const app = await buildApp({ db, rateLimitMax: 0, ...(batch ? { groupCommit: { maxBatch: Number(batch) } } : {}) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  console.log(`listening ${(app.server.address() as { port: number }).port}`);
  process.on('SIGTERM', () => {
    const { batches, units, largest } = app.engine.commits.stats;
    console.log(`group commit: ${units} writes in ${batches} transactions, ${(units / Math.max(1, batches)).toFixed(1)} a transaction on average, ${largest} at most`);
    void app.close().then(() => process.exit(0));
  });
} else {
  console.error('usage: serve.ts hello | app <database> [batch]');
  process.exit(2);
}
