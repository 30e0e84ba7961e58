import type { Db } from '../db/client.ts';
import { Engine } from '../engine/engine.ts';
import type { MachineRegistry } from '../../machines/registry.ts';
import { applicationKind } from './application/kind.ts';
import { stageKind } from './stage/kind.ts';
import { reviewerKind } from './reviewer/kind.ts';
import { journalKind } from './journal/kind.ts';

/** Registers every workflow kind of stream with an engine: what each adds to the one write path. */
export function installWorkflows(engine: Engine): Engine {
  return engine.register(applicationKind(engine.db)).register(stageKind(engine.db)).register(reviewerKind(engine.db)).register(journalKind(engine.db));
}

/** The engine with every workflow kind: what the server, the demo seed and the tests use. */
export function workflowEngine(db: Db, options: { registry?: MachineRegistry; now?: () => Date } = {}): Engine {
  return installWorkflows(new Engine(db, options));
}
