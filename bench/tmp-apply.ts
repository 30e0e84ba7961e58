import { performance } from 'node:perf_hooks';
import { openDb } from '../src/db/client.ts';
import { workflowEngine } from '../src/workflows/index.ts';
import { copyDatabase } from './throughput.ts';
import { createApplication, sendApplicationEvent } from '../src/workflows/application/commands.ts';
copyDatabase('/tmp/trdemo/demo.sqlite', '/tmp/trdemo/m.sqlite');
const db = openDb({ path: '/tmp/trdemo/m.sqlite', synchronous: 'OFF' });
const engine = workflowEngine(db);
const u = db.$client.prepare("SELECT id, login, name, role, municipality_id AS municipalityId FROM users WHERE login='applicant1'").get() as any;
const ids: { id: number; v: number }[] = [];
for (let i = 0; i < 50; i++) { const c = createApplication(engine, u, { programmeId: 2, form: { title: 'm' + i } }); ids.push({ id: c.id, v: c.version }); }
const N = 20000;
for (const round of [1, 2, 3, 4, 5]) {
  const t0 = performance.now();
  engine.transaction(() => {
    for (let i = 0; i < N; i++) { const d = ids[i % 50]!; d.v = sendApplicationEvent(engine, u, d.id, 'update', { beneficiaries: i }, d.v).version; }
  });
  const ms = performance.now() - t0;
  console.log(`round ${round}: ${(ms * 1000 / N).toFixed(1)} µs per apply`);
}
