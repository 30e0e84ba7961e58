import type { Db } from '../db/client.ts';
import { Engine } from '../engine/engine.ts';
import type { GroupCommitOptions } from '../engine/group-commit.ts';
import type { MachineRegistry } from '../../machines/registry.ts';
import { applicationKind } from './application/kind.ts';
import { conversationKind } from './conversation/kind.ts';
import { clockListener } from './deadlines/clocks.ts';
import { notificationListener, type OutboxOptions } from './notifications/outbox.ts';
import { stageKind } from './stage/kind.ts';
import { reviewerKind } from './reviewer/kind.ts';
import { journalKind } from './journal/kind.ts';
import { stateSpellListener } from './application/state-spells.ts';

export interface WorkflowOptions {
  /** What the notifications' outbox writes (issue 12); by default inbox only. */
  outbox?: OutboxOptions;
}

/** The outbox of an installation without e-mail: notifications reach the inbox only. */
export const inboxOnly: OutboxOptions = { mail: false, messageIdDomain: 'localhost' };

/**
 * Registers every workflow kind of stream with an engine — what each adds to the one write path —
 * and the listeners that write in every event's transaction: its notifications, the clocks and
 * the applications' stays in their states (the dashboard's waiting times).
 */
export function installWorkflows(engine: Engine, options: WorkflowOptions = {}): Engine {
  return engine
    .register(applicationKind(engine.db))
    .register(stageKind(engine.db))
    .register(reviewerKind(engine.db))
    .register(journalKind(engine.db))
    .register(conversationKind(engine.db))
    .onEvent(clockListener(engine.db))
    .onEvent(stateSpellListener(engine.db))
    .onEvent(notificationListener(engine.db, options.outbox ?? inboxOnly));
}

/** The engine with every workflow kind: what the server, the demo seed and the tests use. */
export function workflowEngine(db: Db, options: { registry?: MachineRegistry; now?: () => Date; groupCommit?: GroupCommitOptions } & WorkflowOptions = {}): Engine {
  const { outbox, ...engineOptions } = options;
  return installWorkflows(new Engine(db, engineOptions), { outbox });
}
