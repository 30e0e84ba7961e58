/**
 * A second process of the numbering test (test/int/register-processes.int.test.ts): opens the
 * shared database file, waits for the start time so that both processes submit at once, and
 * submits the applications it is given through the engine. Prints what it did as JSON.
 */
import { openDb } from '../../src/db/client.ts';
import type { Actor } from '../../src/domain/roles.ts';
import { Engine } from '../../src/engine/engine.ts';
import { sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { findApplication } from '../../src/workflows/application/reads.ts';
import { installWorkflows } from '../../src/workflows/index.ts';

const [path, actorJson, idsText, startText] = process.argv.slice(2) as [string, string, string, string];
const actor = JSON.parse(actorJson) as Actor;
const ids = idsText.split(',').map(Number);
const db = openDb({ path, synchronous: 'NORMAL' });
const engine = new Engine(db);
installWorkflows(engine);
while (Date.now() < Number(startText)) {
  // spin until both processes start together
}
const submitted: number[] = [];
for (const id of ids) {
  sendApplicationEvent(engine, actor, id, 'submit', {}, findApplication(db, actor, id).version);
  submitted.push(id);
}
db.$client.close();
process.stdout.write(JSON.stringify({ submitted }));
