import type { AnyStateMachine, StateValue } from 'xstate';
import type { ZodType } from 'zod';
import type { Problem } from '../src/domain/problems.ts';
import type { Actor, Role } from '../src/domain/roles.ts';
import {
  applicationCreateRoles,
  applicationEventChannels,
  applicationEventRoles,
  applicationEventSchemas,
  applicationMachine,
  applicationMachineId,
  applicationMachineVersion,
  whyNotApplication,
  whyNotCreateApplication,
} from './application.ts';
import {
  applicationCreateRolesV1,
  applicationEventChannelsV1,
  applicationEventRolesV1,
  applicationEventSchemasV1,
  applicationMachineV1,
  applicationMachineV1Version,
  whyNotApplicationV1,
  whyNotCreateApplicationV1,
} from './application-v1.ts';
import {
  applicationCreateRolesV2,
  applicationEventChannelsV2,
  applicationEventRolesV2,
  applicationEventSchemasV2,
  applicationMachineV2,
  applicationMachineV2Version,
  whyNotApplicationV2,
  whyNotCreateApplicationV2,
} from './application-v2.ts';
import { emptyImplementation } from '../src/domain/implementation.ts';
import { stageCreateRolesV2, stageEventRolesV2, stageEventSchemasV2, stageMachineV2, stageMachineV2Version, whyNotStageV2 } from './stage-v2.ts';
import { stageCreateRolesV1, stageEventRolesV1, stageEventSchemasV1, stageMachineV1, stageMachineV1Version, whyNotStageV1 } from './stage-v1.ts';
import {
  conversationCreateRoles,
  conversationEventRoles,
  conversationEventSchemas,
  conversationMachine,
  conversationMachineId,
  conversationMachineVersion,
  whyNotConversation,
  whyNotCreateConversation,
} from './conversation.ts';
import { stageCreateRoles, stageEventRoles, stageEventSchemas, stageMachine, stageMachineId, stageMachineVersion, whyNotStage } from './stage.ts';
import { reviewerCreateRoles, reviewerEventRoles, reviewerEventSchemas, reviewerMachine, reviewerMachineId, reviewerMachineVersion, whyNotCreateReviewer, whyNotReviewer } from './reviewer.ts';
import { journalCreateRoles, journalEventChannels, journalEventRoles, journalEventSchemas, journalMachine, journalMachineId, journalMachineVersion, whyNotCreateJournal, whyNotJournal } from './journal.ts';

/** An event as a machine's rules read it; `payload` is absent when a page asks what it may offer. */
export interface RuleInput {
  type: string;
  payload: unknown;
  facts: unknown;
  actor: Actor;
  at: string;
}

/** A machine as the engine sees it: what it is, which events it takes, from whom. */
export interface RegisteredMachine {
  id: string;
  version: number;
  machine: AnyStateMachine;
  eventSchemas: Record<string, ZodType>;
  eventRoles: Record<string, readonly Role[]>;
  createRoles: readonly Role[];
  /**
   * Why the machine refuses an event in a state that has a transition for it: the problems its
   * one guard found. Empty when the event goes through. Pure, like the machine.
   */
  // A method, so that each machine's own context and event types fit (parameters are bivariant).
  whyNot?(context: unknown, event: RuleInput): Problem[];
  /** Why a stream of this machine cannot be opened with these facts now. */
  whyNotCreate?(input: Record<string, unknown>, facts: Record<string, unknown>, actor: Actor): Problem[];
  /** Events that only one path may send (an upload, a decision), with the reason given to any other. */
  channels?: Readonly<Record<string, { channel: string; reason: string }>>;
  /**
   * Upgrades a persisted snapshot of the version before this one (`{value, context, status}`) to
   * this version's shape: a renamed state, a new context field. Replay and the engine chain these.
   */
  migrate?: (snapshot: PersistedMachineSnapshot) => PersistedMachineSnapshot;
}

/** A snapshot as the streams table stores it. */
export interface PersistedMachineSnapshot {
  value: StateValue;
  context: Record<string, unknown>;
  status: string;
}

/**
 * Every machine version any stream may have been written with (DESIGN §4.5): old versions stay
 * here while a stream uses them, so that their events replay through the machine that made them.
 */
export class MachineRegistry {
  private readonly byKey = new Map<string, RegisteredMachine>();
  private readonly current = new Map<string, RegisteredMachine>();

  register(entry: RegisteredMachine, options: { current?: boolean } = {}): this {
    this.byKey.set(`${entry.id}@${entry.version}`, entry);
    const latest = this.current.get(entry.id);
    if (options.current ?? (!latest || latest.version < entry.version)) this.current.set(entry.id, entry);
    return this;
  }

  get(id: string, version: number): RegisteredMachine | undefined {
    return this.byKey.get(`${id}@${version}`);
  }

  /** The current version of every registered machine: what a new stream would be written with. */
  machines(): RegisteredMachine[] {
    return [...this.current.values()];
  }

  /** Every registered version, by machine id and then version. */
  entries(): RegisteredMachine[] {
    return [...this.byKey.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.version - b.version));
  }

  latest(id: string): RegisteredMachine {
    const entry = this.current.get(id);
    if (!entry) throw new Error(`no machine registered as ${id}`);
    return entry;
  }
}

/** Version 1 of the application, frozen: it replays the histories written with it. */
export const applicationV1: RegisteredMachine = {
  id: applicationMachineId,
  version: applicationMachineV1Version,
  machine: applicationMachineV1,
  eventSchemas: applicationEventSchemasV1,
  eventRoles: applicationEventRolesV1,
  createRoles: applicationCreateRolesV1,
  whyNot: whyNotApplicationV1,
  whyNotCreate: whyNotCreateApplicationV1,
  channels: applicationEventChannelsV1,
};

/** Version 2 of a stage, frozen: version 3 adds the closing stage's recommendations (issue 13). */
export const stageV2: RegisteredMachine = {
  id: stageMachineId,
  version: stageMachineV2Version,
  machine: stageMachineV2,
  eventSchemas: stageEventSchemasV2,
  eventRoles: stageEventRolesV2,
  createRoles: stageCreateRolesV2,
  whyNot: whyNotStageV2,
  // Version 2's context is version 1's: a stage moves over as it stands; what changed is the
  // exit conditions (they read the journal), and v1 keeps its own copy of the old ones.
  migrate: (snapshot) => snapshot,
};

/** Version 1 of a stage, frozen: it replays the histories written with it. */
export const stageV1: RegisteredMachine = {
  id: stageMachineId,
  version: stageMachineV1Version,
  machine: stageMachineV1,
  eventSchemas: stageEventSchemasV1,
  eventRoles: stageEventRolesV1,
  createRoles: stageCreateRolesV1,
  whyNot: whyNotStageV1,
};

/** Version 2 of the application, frozen: version 1's with the reviewer's assignment (issue 16). */
export const applicationV2: RegisteredMachine = {
  id: applicationMachineId,
  version: applicationMachineV2Version,
  machine: applicationMachineV2,
  eventSchemas: applicationEventSchemasV2,
  eventRoles: applicationEventRolesV2,
  createRoles: applicationCreateRolesV2,
  whyNot: whyNotApplicationV2,
  whyNotCreate: whyNotCreateApplicationV2,
  channels: applicationEventChannelsV2,
  // Version 2's context is version 1's with more in it: a stream moves over unassigned (issue 16).
  migrate: (snapshot) => ({ ...snapshot, context: { assigneeId: null, ...snapshot.context } }),
};

/**
 * Version 2's context to version 3's (issue 11). The states are the same; what changes is what an
 * implementation records. Version 2 recorded an agreement's number only: its amounts are taken to
 * be the application's costs by source with the award as the subsidy (what the agreement was
 * signed over), and its date stays unknown (null). A contract keeps its contractor and price, a
 * monitoring finding becomes a visit without an inspector, judged as it read (no issue). Nothing
 * version 2 did not record is invented: no contributions, milestones or files.
 */
export function migrateApplicationV2toV3(snapshot: PersistedMachineSnapshot): PersistedMachineSnapshot {
  const { agreementNo, contract, monitoring, ...rest } = snapshot.context as {
    agreementNo?: string | null;
    contract?: { contractor: string; priceKopecks: number } | null;
    monitoring?: { finding: string; at: string }[];
    awardedKopecks?: number | null;
    form?: { costs?: { localBudget?: number; residents?: number; business?: number } };
  } & Record<string, unknown>;
  const costs = rest.form?.costs ?? {};
  const amounts = { subsidy: rest.awardedKopecks ?? 0, localBudget: costs.localBudget ?? 0, residents: costs.residents ?? 0, business: costs.business ?? 0 };
  return {
    ...snapshot,
    context: {
      ...rest,
      ...emptyImplementation(),
      agreement: agreementNo ? { agreementNo, signedOn: null, amounts, at: null } : null,
      contract: contract
        ? { contractNo: null, signedOn: null, contractor: contract.contractor, contractorInn: null, priceKopecks: contract.priceKopecks, noticeNo: null, savingsRule: null, at: null }
        : null,
      visits: (monitoring ?? []).map((m) => ({ seq: 0, visitedOn: m.at.slice(0, 10), inspector: null, verdict: 'ok', finding: m.finding, at: m.at, resolution: null })),
      worksCompletedAt: null,
    },
  };
}

export function defaultRegistry(): MachineRegistry {
  return new MachineRegistry().register(applicationV1).register(stageV1).register(stageV2).register(applicationV2).register({
    id: applicationMachineId,
    version: applicationMachineVersion,
    machine: applicationMachine,
    eventSchemas: applicationEventSchemas,
    eventRoles: applicationEventRoles,
    createRoles: applicationCreateRoles,
    whyNot: whyNotApplication,
    whyNotCreate: whyNotCreateApplication,
    channels: applicationEventChannels,
    migrate: migrateApplicationV2toV3,
  }).register({
    id: stageMachineId,
    version: stageMachineVersion,
    machine: stageMachine,
    eventSchemas: stageEventSchemas,
    eventRoles: stageEventRoles,
    createRoles: stageCreateRoles,
    whyNot: whyNotStage,
    // Version 3's context is version 2's with the closing stage's recommendations, which a stream
    // moved over has none of yet: it moves as it stands (issue 13).
    migrate: (snapshot) => snapshot,
  }).register({
    id: reviewerMachineId,
    version: reviewerMachineVersion,
    machine: reviewerMachine,
    eventSchemas: reviewerEventSchemas,
    eventRoles: reviewerEventRoles,
    createRoles: reviewerCreateRoles,
    whyNot: whyNotReviewer,
    whyNotCreate: whyNotCreateReviewer,
  }).register(journalEntry).register({
    id: conversationMachineId,
    version: conversationMachineVersion,
    machine: conversationMachine,
    eventSchemas: conversationEventSchemas,
    eventRoles: conversationEventRoles,
    createRoles: conversationCreateRoles,
    whyNot: whyNotConversation,
    whyNotCreate: whyNotCreateConversation,
  });
}

/** The programme journal's entries (issue 14). */
export const journalEntry: RegisteredMachine = {
  id: journalMachineId,
  version: journalMachineVersion,
  machine: journalMachine,
  eventSchemas: journalEventSchemas,
  eventRoles: journalEventRoles,
  createRoles: journalCreateRoles,
  whyNot: whyNotJournal,
  whyNotCreate: whyNotCreateJournal,
  channels: journalEventChannels,
};
