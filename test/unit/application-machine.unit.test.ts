import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type StateValue } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import {
  applicationEventRoles,
  applicationEventSchemas,
  applicationEventTypes,
  applicationMachine,
  applicationStates,
  type ApplicationEvent,
  type ApplicationEventType,
  type ApplicationInput,
  type EventFacts,
} from '../../machines/application.ts';
import { stageKeys, stagesOwning } from '../../machines/stages.ts';
import { contributionsShort, implementationSummary } from '../../src/domain/implementation.ts';
import type { ApplicationForm, ProgrammeRules } from '../../src/domain/application.ts';
import { defaultDocumentRules, type DocumentRule } from '../../src/domain/documents.ts';
import { roles, type Actor, type Role } from '../../src/domain/roles.ts';

/** The machine's snapshot, as `transition` and the graph functions hand it back. */
type Snapshot = ReturnType<typeof applicationMachine.transition>;
type AnyNode = (typeof applicationMachine)['root'];
type PayloadOf<K extends ApplicationEventType> = Extract<ApplicationEvent, { type: K }>['payload'];

const MUNICIPALITY = 7;
const rules: ProgrammeRules = { capKopecks: 150_000_000, minLocalShareBp: 500, minResidentsShareBp: 300 };
const AT = '2027-04-01T07:30:00.000Z';

const completeForm: ApplicationForm = {
  title: 'Освещение улицы Центральной',
  projectType: 'street-lighting',
  settlement: 'д. Пироги',
  population: 640,
  beneficiaries: 400,
  meetingAttendance: 90,
  problem: 'Улица не освещена, дети идут в школу в темноте.',
  description: 'Установка 24 светодиодных светильников.',
  durationMonths: 4,
  costs: { subsidy: 80_000_000, localBudget: 8_000_000, residents: 4_000_000, business: 2_000_000 },
};

const actors: Record<Role, Actor> = {
  applicant: { id: 1, login: 'applicant1', name: 'Анна Петрова', role: 'applicant', municipalityId: MUNICIPALITY },
  reviewer: { id: 2, login: 'reviewer1', name: 'Ольга Смирнова', role: 'reviewer', municipalityId: null },
  coordinator: { id: 3, login: 'coordinator1', name: 'Сергей Иванов', role: 'coordinator', municipalityId: null },
  commission: { id: 4, login: 'commission1', name: 'Елена Кузнецова', role: 'commission', municipalityId: null },
  auditor: { id: 5, login: 'auditor1', name: 'Марина Лекомцева', role: 'auditor', municipalityId: null },
  admin: { id: 6, login: 'admin1', name: 'Администратор', role: 'admin', municipalityId: null },
};
const foreignApplicant: Actor = { id: 9, login: 'applicant2', name: 'Игорь Волков', role: 'applicant', municipalityId: MUNICIPALITY + 1 };

/** The agreement over the complete form's costs, its subsidy the award. */
const agreedAmounts = { subsidy: 80_000_000, localBudget: 8_000_000, residents: 4_000_000, business: 2_000_000 };
/** The places in the stream the facts give a contribution and a visit with an issue, which later events name. */
const CONTRIBUTION_SEQ = 101;
const ISSUE_SEQ = 202;

/** One valid payload per event type; a new event type does not compile until it has one. */
const samplePayloads: { [K in ApplicationEventType]: PayloadOf<K> } = {
  update: { title: 'Освещение улиц Центральной и Школьной' },
  submit: {},
  'start-review': {},
  'return-for-revision': { remarks: [{ field: 'costs.residents', text: 'Подтвердите вклад жителей.' }] },
  accept: { comment: 'Документы в порядке.' },
  reject: { reason: 'Проект не относится к вопросам местного значения.' },
  withdraw: { reason: 'Собрание решило перенести проект на следующий год.' },
  score: { significance: 4 },
  award: { amountKopecks: completeForm.costs!.subsidy! },
  'not-award': {},
  'start-implementation': {},
  'sign-agreement': { agreementNo: 'С-2027/014', signedOn: '2027-03-30', amounts: agreedAmounts },
  'record-contribution': { source: 'local-budget', amountKopecks: agreedAmounts.localBudget, receivedOn: '2027-03-31', payer: 'Администрация района', reference: 'п/п № 412' },
  'cancel-contribution': { seq: CONTRIBUTION_SEQ, reason: 'Внесено дважды по ошибке.' },
  'confirm-contributions': {},
  'sign-contract': { contractNo: '14/2027-МК', signedOn: '2027-03-31', contractor: 'ООО «Светотехника»', contractorInn: '7707083893', priceKopecks: 76_000_000 },
  'record-milestone': { kind: 'works-started', on: '2027-03-31' },
  'report-progress': { percent: 40 },
  'attach-evidence': { kind: 'agreement-scan', name: 'соглашение.pdf', size: 91_044, mediaType: 'application/pdf', sha256: 'b'.repeat(64) },
  'complete-works': {},
  'record-monitoring': { visitedOn: '2027-03-31', inspector: 'С. Иванов', verdict: 'ok', finding: 'Работы идут по графику.' },
  'resolve-issue': { seq: ISSUE_SEQ, note: 'Щит установлен.' },
  'report-spending': { actual: { subsidy: 0, localBudget: agreedAmounts.localBudget, residents: 0, business: 0 } },
  close: {},
  terminate: { reason: 'Подрядчик не приступил к работам.' },
  'attach-document': { kind: 'meeting-minutes', name: 'протокол собрания.pdf', size: 48_213, mediaType: 'application/pdf', sha256: 'a'.repeat(64) },
  // A remark needs no file: the reviewer may remark on a document that is missing.
  'review-document': { kind: 'meeting-minutes', verdict: 'remark', remark: 'Протокол не подписан председателем собрания.' },
  assign: { reviewerId: 8 },
  take: {},
  release: {},
};

/** The programme's document rules as the engine carries them in an `attach-document`'s facts. */
const documentRules: DocumentRule[] = defaultDocumentRules.map((rule) => ({ ...rule, fileTypes: [...rule.fileTypes] }));

/**
 * Every stage active at once: the walk below is about the application's own statechart, so no
 * event is held back by a closed stage. The gating has its own tests at the end.
 */
const allStages: string[] = [...stageKeys];

/** The facts the engine would carry: the active stages, and the programme rules for `submit`. */
const factsFor = (type: ApplicationEventType, activeStages: string[] = allStages): EventFacts =>
  type === 'submit' || type === 'sign-agreement'
    ? { rules, activeStages }
    : type === 'record-contribution'
      ? { activeStages, seq: CONTRIBUTION_SEQ }
      : type === 'record-monitoring'
        ? { activeStages, seq: ISSUE_SEQ + 1 }
    : type === 'attach-document'
      ? { documentRules, activeStages }
      : type === 'assign'
        ? { assignee: { id: 8, role: 'reviewer', active: true }, activeStages }
        : { activeStages };

/** The first role allowed to send the event: the sender of the sample events. */
const senderOf = (type: ApplicationEventType): Actor => actors[applicationEventRoles[type][0]!];

function eventFor(
  type: ApplicationEventType,
  options: { actor?: Actor; facts?: EventFacts; payload?: unknown } = {},
): ApplicationEvent {
  return {
    type,
    payload: options.payload ?? samplePayloads[type],
    facts: options.facts ?? factsFor(type),
    actor: options.actor ?? senderOf(type),
    at: AT,
  } as ApplicationEvent;
}

const input: ApplicationInput = { programmeId: 1, municipalityId: MUNICIPALITY, form: completeForm, actor: actors.applicant, at: AT };
const [initial] = initialTransition(applicationMachine, input);
const sampleEvents = applicationEventTypes.map((type) => eventFor(type));

/** The source of a contribution as the event names it, for the key of the amounts. */
const eventSource = { subsidy: 'subsidy', localBudget: 'local-budget', residents: 'residents', business: 'business' } as const;

/**
 * The events after the award that the implementation's rules ask for, made of the snapshot's
 * context: the money a short source still lacks, the acceptance act and its milestone, a visit that
 * finds an issue (which `resolve-issue` then names).
 */
function implementationEvents(snapshot: Snapshot): ApplicationEvent[] {
  const short = contributionsShort(snapshot.context)
    .filter((problem) => problem.code === 'contribution-short')
    .map((problem) => {
      const source = problem.params!.source as keyof typeof eventSource;
      const amountKopecks = Number(problem.params!.agreed) - Number(problem.params!.received);
      return eventFor('record-contribution', { payload: { source: eventSource[source], amountKopecks, receivedOn: '2027-03-31' } });
    });
  return [
    ...short.slice(0, 1),
    eventFor('attach-evidence', { payload: { kind: 'acceptance-act', name: 'акт.pdf', size: 50_000, mediaType: 'application/pdf', sha256: 'c'.repeat(64) } }),
    eventFor('record-milestone', { payload: { kind: 'acceptance-signed', on: '2027-03-31' } }),
    eventFor('record-monitoring', { payload: { visitedOn: '2027-03-31', inspector: 'С. Иванов', verdict: 'issues', finding: 'Нет информационного щита.' }, facts: { activeStages: allStages, seq: ISSUE_SEQ } }),
  ];
}

/** The events tried from a snapshot: one sample of each type, and those the implementation's rules ask for. */
const eventsFrom = (snapshot: Snapshot): ApplicationEvent[] => [...sampleEvents, ...(stateKey(snapshot.value).startsWith('implementation.') ? implementationEvents(snapshot) : [])];

/** What still blocks the next step after the award: part of a vertex, so that a state with money in and one without are two. */
// A set: two open issues block as one does, or every further visit would make a new vertex without end.
const blocking = (snapshot: Snapshot) => {
  const missing = new Set(implementationSummary(stateKey(snapshot.value), snapshot.context).missing);
  // An open issue is part of it in every state, so that `resolve-issue` has a vertex to start from during the works too.
  if (snapshot.context.visits.some((visit) => visit.verdict === 'issues' && !visit.resolution)) missing.add('issue-open');
  return [...missing].sort();
};

/** Applies the events, each from the snapshot the one before made. */
const applyAll = (from: Snapshot, make: (snapshot: Snapshot) => ApplicationEvent[]): Snapshot => {
  let snapshot = from;
  for (let i = 0; i < 6; i++) {
    const next = make(snapshot)[0];
    if (!next) return snapshot;
    snapshot = transition(applicationMachine, snapshot, next)[0];
  }
  return snapshot;
};

/** `implementation.works` for `{ implementation: 'works' }`. */
function stateKey(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key, child] = Object.entries(value)[0]!;
  return child === undefined ? key : `${key}.${stateKey(child as StateValue)}`;
}

function descendants(node: AnyNode): AnyNode[] {
  return Object.values(node.states).flatMap((child) => [child, ...descendants(child)]);
}
const leafNodes = descendants(applicationMachine.root).filter((node) => node.type === 'atomic' || node.type === 'final');
const leafKey = (node: AnyNode) => node.path.join('.');

function ancestry(node: AnyNode): AnyNode[] {
  const chain: AnyNode[] = [];
  for (let current: AnyNode | undefined = node; current && current !== applicationMachine.root; current = current.parent) chain.push(current);
  return chain;
}

interface DeclaredTransition {
  key: string;
  from: string;
  type: ApplicationEventType;
  /** The declared target node, or undefined for a transition that stays (and only assigns). */
  target: AnyNode | undefined;
}

/**
 * Every transition the machine declares, per leaf state: its own `on` and those it inherits from
 * its parents (`terminate` from every step of `implementation`). Read from the definition, so that
 * a new state or transition enters this list by itself.
 */
const declared: DeclaredTransition[] = leafNodes.flatMap((leaf) =>
  ancestry(leaf).flatMap((node) =>
    [...node.transitions.entries()].flatMap(([type, definitions]) =>
      definitions.map((definition) => {
        const target = definition.target?.[0] as AnyNode | undefined;
        return {
          key: transitionKey(leafKey(leaf), type, target),
          from: leafKey(leaf),
          type: type as ApplicationEventType,
          target,
        };
      }),
    ),
  ),
);

function transitionKey(from: string, type: string, target: AnyNode | undefined): string {
  return `${from} --${type}--> ${target ? target.path.join('.') : '(stays)'}`;
}

/** Which declared transition a step took: the one whose target the new snapshot is in. */
function takenKey(before: Snapshot, event: ApplicationEvent, after: Snapshot): string | undefined {
  if (after === before) return undefined;
  const from = stateKey(before.value);
  const candidates = declared.filter((d) => d.from === from && d.type === event.type);
  const match = candidates.find((d) =>
    d.target ? after._nodes.includes(d.target as never) : stateKey(after.value) === from,
  );
  return match?.key;
}

/**
 * The graph, walked from a snapshot with a complete form. A vertex is a state *and the edge that led
 * into it* (the state before and the event), so that every edge — targetless ones (update, score,
 * report-progress) and the many `withdraw`s and `terminate`s into one state included — ends some
 * shortest path. Context is left out of the vertex: it would make the graph infinite.
 */
const shortestPaths = getShortestPaths(applicationMachine, {
  fromState: initial,
  input,
  events: eventsFrom,
  // A refused event makes no edge: without this every refusal would be a vertex of its own, and the graph too large to walk.
  filterEvents: (snapshot, event) => transition(applicationMachine, snapshot, event)[0] !== snapshot,
  serializeState: (snapshot, event, before) =>
    JSON.stringify({ state: stateKey(snapshot.value), via: event?.type ?? null, from: before ? stateKey(before.value) : null, blocking: blocking(snapshot) }),
});

/** A snapshot in the given leaf state, reached by the machine's own transitions. */
function reach(state: string): Snapshot {
  const path = shortestPaths.find((p) => stateKey(p.state.value) === state);
  if (!path) throw new Error(`no path reaches ${state}`);
  return path.state;
}

/**
 * The snapshot a declared transition is tried from: the state, reached as above, for `release`
 * with the reviewer holding it and for `take` with nobody holding it (the rules refuse the others).
 */
function before(d: DeclaredTransition): Snapshot {
  const reached = reach(d.from);
  const assigned = reached.context.assigneeId !== null;
  if (d.type === 'release' && !assigned) return transition(applicationMachine, reached, eventFor('take'))[0];
  if (d.type === 'take' && assigned) return transition(applicationMachine, reached, eventFor('release'))[0];
  // After the award, what the event's rules ask for first: the money in, a contribution to cancel, the act, a visit, the report.
  if (d.type === 'confirm-contributions') return applyAll(reached, (s) => implementationEvents(s).filter((e) => e.type === 'record-contribution'));
  if (d.type === 'complete-works') return applyAll(reached, (s) => implementationEvents(s).filter((e) => e.type !== 'record-contribution' && e.type !== 'record-monitoring' && blocking(transition(applicationMachine, s, e)[0]).length < blocking(s).length));
  if (d.type === 'cancel-contribution') return transition(applicationMachine, reached, eventFor('record-contribution'))[0];
  if (d.type === 'resolve-issue') return transition(applicationMachine, reached, implementationEvents(reached).at(-1)!)[0];
  if (d.type === 'close') {
    const visited = transition(applicationMachine, reached, eventFor('record-monitoring'))[0];
    return transition(applicationMachine, visited, eventFor('report-spending'))[0];
  }
  return reached;
}

function stepsOf(path: { steps: { state: Snapshot; event: ApplicationEvent }[] }) {
  // The first step is the start itself (xstate.init): each later step says what the event made of the one before.
  return path.steps.slice(1).map((step, index) => ({ before: path.steps[index]!.state, event: step.event, after: step.state }));
}

describe('the application machine, walked from its graph', () => {
  it('declares exactly the states the rest of the system knows', () => {
    expect(leafNodes.map(leafKey).sort()).toEqual([...applicationStates].sort());
  });

  it('declares each event type in some state, and every declared event has a schema and senders', () => {
    const declaredTypes = new Set(declared.map((d) => d.type));
    expect([...declaredTypes].sort()).toEqual([...applicationEventTypes].sort());
    for (const type of declaredTypes) {
      expect(applicationEventSchemas[type], type).toBeDefined();
      expect(applicationEventRoles[type].length, type).toBeGreaterThan(0);
    }
  });

  it('uses sample payloads that the engine’s schemas accept unchanged', () => {
    for (const type of applicationEventTypes) {
      const payload = samplePayloads[type];
      expect(applicationEventSchemas[type].parse(payload), type).toEqual(payload);
    }
  });

  it('reaches every state', () => {
    const reached = new Set(shortestPaths.map((path) => stateKey(path.state.value)));
    expect([...reached].sort()).toEqual([...applicationStates].sort());
  });

  it('takes every declared transition on some path, into its declared target', () => {
    const taken = new Set<string>();
    for (const path of shortestPaths) {
      for (const { before, event, after } of stepsOf(path)) {
        const key = takenKey(before, event, after);
        if (key) taken.add(key);
      }
    }
    const missing = declared.map((d) => d.key).filter((key) => !taken.has(key));
    expect(missing, missing.join('; ')).toEqual([]);
    expect(declared.length).toBeGreaterThan(applicationStates.length);
  });

  it('never refuses a valid event from a permitted sender in a state that declares it', () => {
    for (const d of declared) {
      const from = before(d);
      const [after] = transition(applicationMachine, from, eventFor(d.type));
      expect(after, d.key).not.toBe(from);
      expect(takenKey(from, eventFor(d.type), after), d.key).toBe(d.key);
    }
  });

  it('is pure: every simple path replays to the same snapshots, and keeps its bookkeeping right', () => {
    const simplePaths = getSimplePaths(applicationMachine, {
      fromState: initial,
      input,
      events: eventsFrom,
      // What blocks the next step is part of a vertex here too: the money in, the act attached, lead on from a state.
      serializeState: (snapshot) => `${stateKey(snapshot.value)} ${blocking(snapshot).join(',')}`,
    });
    expect(simplePaths.length).toBeGreaterThan(applicationStates.length);
    expect(new Set(simplePaths.map((path) => stateKey(path.state.value)))).toEqual(new Set(applicationStates));
    for (const path of simplePaths) {
      // The graph keeps one snapshot per vertex; fold the path's events twice, as replay does.
      let [first] = initialTransition(applicationMachine, input);
      let [second] = initialTransition(applicationMachine, input);
      let submits = 0;
      for (const { event, after } of stepsOf(path)) {
        [first] = transition(applicationMachine, first, event);
        [second] = transition(applicationMachine, second, event);
        expect(stateKey(first.value)).toBe(stateKey(after.value));
        expect(applicationMachine.getPersistedSnapshot(first)).toEqual(applicationMachine.getPersistedSnapshot(second));
        if (event.type === 'submit') {
          submits += 1;
          expect(first.context.remarks).toEqual([]);
          expect(first.context.firstSubmittedAt).toBe(AT);
        }
        if (event.type === 'return-for-revision') expect(first.context.remarks.length).toBeGreaterThan(0);
        expect(first.context.submissions).toBe(submits);
        if (first.context.awardedKopecks !== null) {
          expect(first.context.awardedKopecks).toBeLessThanOrEqual(first.context.form.costs!.subsidy!);
        }
      }
    }
  });
});

describe('the guards refuse', () => {
  it('every sender whose role may not send the event, in every state that declares it', () => {
    let checked = 0;
    for (const d of declared) {
      const before = reach(d.from);
      for (const role of roles.filter((r) => !applicationEventRoles[d.type].includes(r))) {
        const [after] = transition(applicationMachine, before, eventFor(d.type, { actor: actors[role] }));
        expect(after, `${role}: ${d.key}`).toBe(before);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(declared.length * 3);
  });

  it('an applicant of another municipality, for every event an applicant may send', () => {
    const applicantTransitions = declared.filter((d) => applicationEventRoles[d.type].includes('applicant'));
    expect(applicantTransitions.map((d) => d.type)).toEqual(expect.arrayContaining(['update', 'submit', 'withdraw', 'report-progress']));
    for (const d of applicantTransitions) {
      const from = before(d);
      const [refused] = transition(applicationMachine, from, eventFor(d.type, { actor: foreignApplicant }));
      expect(refused, d.key).toBe(from);
      const [taken] = transition(applicationMachine, from, eventFor(d.type, { actor: actors.applicant }));
      expect(taken, d.key).not.toBe(from);
    }
  });

  it('submit without the programme rules in its facts', () => {
    for (const state of ['draft', 'returned']) {
      const before = reach(state);
      const [after] = transition(applicationMachine, before, eventFor('submit', { facts: { activeStages: allStages } }));
      expect(after, state).toBe(before);
    }
  });

  it('submit of an incomplete form, until an update completes it', () => {
    const { description: _description, costs: _costs, ...partial } = completeForm;
    const [draft] = initialTransition(applicationMachine, { ...input, form: partial });
    const [refused] = transition(applicationMachine, draft, eventFor('submit'));
    expect(refused).toBe(draft);

    const [updated] = transition(
      applicationMachine,
      draft,
      eventFor('update', { payload: { description: completeForm.description, costs: completeForm.costs } }),
    );
    expect(updated.value).toBe('draft');
    const [submitted] = transition(applicationMachine, updated, eventFor('submit'));
    expect(submitted.value).toBe('submitted');
  });

  it('submit of a complete form that breaks the rules', () => {
    const [draft] = initialTransition(applicationMachine, input);
    const strict: ProgrammeRules = { ...rules, capKopecks: completeForm.costs!.subsidy! - 1 };
    const [after] = transition(applicationMachine, draft, eventFor('submit', { facts: { rules: strict, activeStages: allStages } }));
    expect(after).toBe(draft);
  });

  it('an update in the returned state that breaks the form makes the next submit refuse', () => {
    const returned = reach('returned');
    const [broken] = transition(applicationMachine, returned, eventFor('update', { payload: { beneficiaries: 10_000 } }));
    const [refused] = transition(applicationMachine, broken, eventFor('submit'));
    expect(refused).toBe(broken);
  });

  it('an award above the requested subsidy, and takes one exactly at it', () => {
    const accepted = reach('accepted');
    const requested = accepted.context.form.costs!.subsidy!;
    const [above] = transition(applicationMachine, accepted, eventFor('award', { payload: { amountKopecks: requested + 1 } }));
    expect(above).toBe(accepted);
    const [exact] = transition(applicationMachine, accepted, eventFor('award', { payload: { amountKopecks: requested } }));
    expect(exact.value).toBe('awarded');
    expect(exact.context.awardedKopecks).toBe(requested);
  });

  it('nothing in a final state: every event, from every role, leaves it as it is', () => {
    const finals = leafNodes.filter((node) => node.type === 'final').map(leafKey);
    expect(finals.sort()).toEqual(['closed', 'not-awarded', 'rejected', 'terminated', 'withdrawn']);
    for (const state of finals) {
      const before = reach(state);
      expect(before.status).toBe('done');
      for (const type of applicationEventTypes) {
        for (const role of roles) {
          const [after] = transition(applicationMachine, before, eventFor(type, { actor: actors[role] }));
          expect(after, `${state}: ${role} ${type}`).toBe(before);
        }
      }
    }
  });

  it('events a state does not declare, even from a permitted sender', () => {
    for (const state of applicationStates) {
      const before = reach(state);
      const takes = new Set(declared.filter((d) => d.from === state).map((d) => d.type));
      for (const type of applicationEventTypes.filter((t) => !takes.has(t))) {
        const [after] = transition(applicationMachine, before, eventFor(type));
        expect(after, `${state}: ${type}`).toBe(before);
      }
    }
  });
});

describe('the stages gate the events they own (DESIGN §2)', () => {
  const owned = declared.filter((d) => stagesOwning(d.type).length > 0);
  const ownerKeys = (type: ApplicationEventType): string[] => stagesOwning(type).map((stage) => stage.key);

  it('every event but withdraw and terminate is owned by some stage', () => {
    const unowned = applicationEventTypes.filter((type) => stagesOwning(type).length === 0);
    expect(unowned.sort()).toEqual(['terminate', 'withdraw']);
    expect(owned.length).toBeGreaterThan(0);
  });

  it('refuses each owned event when none of its owning stages is active: no stages, the others only, or no facts at all', () => {
    let checked = 0;
    for (const d of owned) {
      const before = reach(d.from);
      const others = allStages.filter((key) => !ownerKeys(d.type).includes(key));
      for (const activeStages of [[], others]) {
        const [after] = transition(applicationMachine, before, eventFor(d.type, { facts: factsFor(d.type, activeStages) }));
        expect(after, `${d.key} with [${activeStages.join(', ')}] active`).toBe(before);
        checked += 1;
      }
      const withoutStages = d.type === 'submit' ? { rules } : {};
      const [after] = transition(applicationMachine, before, eventFor(d.type, { facts: withoutStages }));
      expect(after, `${d.key} without activeStages`).toBe(before);
    }
    expect(checked).toBe(owned.length * 2);
  });

  it('takes each owned event while any one of its owning stages is active, alone', () => {
    for (const d of owned) {
      const from = before(d);
      for (const owner of ownerKeys(d.type)) {
        const event = eventFor(d.type, { facts: factsFor(d.type, [owner]) });
        const [after] = transition(applicationMachine, from, event);
        expect(after, `${d.key} with ${owner} active`).not.toBe(from);
        expect(takenKey(from, event, after), `${d.key} with ${owner} active`).toBe(d.key);
      }
    }
  });

  it('owns submit by documentation and intake, accept and reject by intake only, the commission’s events by the commission', () => {
    expect(ownerKeys('submit')).toEqual(['documentation', 'intake']);
    expect(ownerKeys('accept')).toEqual(['intake']);
    expect(ownerKeys('reject')).toEqual(['intake']);
    for (const type of ['score', 'award', 'not-award'] as const) expect(ownerKeys(type)).toEqual(['commission']);
  });

  it('takes withdraw and terminate with no stage active, and without any stage facts', () => {
    const unowned = declared.filter((d) => d.type === 'withdraw' || d.type === 'terminate');
    expect(new Set(unowned.map((d) => d.type))).toEqual(new Set(['withdraw', 'terminate']));
    for (const d of unowned) {
      const before = reach(d.from);
      for (const facts of [{ activeStages: [] }, {}]) {
        const event = eventFor(d.type, { facts });
        const [after] = transition(applicationMachine, before, event);
        expect(after, `${d.key} with ${JSON.stringify(facts)}`).not.toBe(before);
        expect(takenKey(before, event, after)).toBe(d.key);
      }
    }
  });
});

describe('documents (issue 7)', () => {
  const required = defaultDocumentRules.filter((rule) => rule.required).map((rule) => rule.kind);
  const fileOf = (kind: string, sha = 'b') => ({ kind, name: `${kind}.pdf`, size: 1000, mediaType: 'application/pdf', sha256: sha.repeat(64) });
  const pdfRules: DocumentRule[] = documentRules.map((rule) => ({ ...rule, fileTypes: ['pdf'] }));
  const attach = (snapshot: Snapshot, kind: string, sha = 'b'): Snapshot =>
    transition(applicationMachine, snapshot, eventFor('attach-document', { payload: fileOf(kind, sha), facts: { documentRules: pdfRules, activeStages: allStages } }))[0];
  const withFacts = (type: ApplicationEventType, facts: EventFacts, payload?: unknown) =>
    eventFor(type, { facts: { ...factsFor(type), ...facts }, ...(payload === undefined ? {} : { payload }) });

  it('records an attached file by its hash, and a replacement waits for the reviewer again', () => {
    const draft = reach('draft');
    const first = attach(draft, 'meeting-minutes', 'c');
    expect(first.context.documents?.['meeting-minutes']).toEqual({
      file: { name: 'meeting-minutes.pdf', size: 1000, mediaType: 'application/pdf', sha256: 'c'.repeat(64), attachedAt: AT },
      verdict: 'pending',
      remark: null,
      reviewedAt: null,
    });
    const replaced = attach(first, 'meeting-minutes', 'd');
    expect(replaced.context.documents?.['meeting-minutes']?.file?.sha256).toBe('d'.repeat(64));
    expect(Object.keys(replaced.context.documents ?? {})).toEqual(['meeting-minutes']);
  });

  it('refuses a file the programme does not take: unknown kind, a type the kind does not accept, above the size limit, or no rules at all', () => {
    const draft = reach('draft');
    const photoRules: DocumentRule[] = [{ kind: 'object-photos', required: true, fileTypes: ['jpeg', 'png'], maxBytes: 2000 }];
    const send = (payload: unknown, facts: EventFacts) => transition(applicationMachine, draft, eventFor('attach-document', { payload, facts: { activeStages: allStages, ...facts } }))[0];
    const photo = { kind: 'object-photos', name: 'фото.png', size: 2000, mediaType: 'image/png', sha256: 'e'.repeat(64) };
    expect(send(photo, { documentRules: photoRules })).not.toBe(draft);
    expect(send({ ...photo, size: 2001 }, { documentRules: photoRules })).toBe(draft);
    expect(send({ ...photo, mediaType: 'application/pdf' }, { documentRules: photoRules })).toBe(draft);
    expect(send({ ...photo, kind: 'meeting-minutes' }, { documentRules: photoRules })).toBe(draft);
    expect(send(photo, {})).toBe(draft);
  });

  it('refuses submit while a required document is missing, and takes it once all are attached', () => {
    let draft = reach('draft');
    const facts = { rules, requiredDocuments: required };
    for (const kind of required.slice(0, -1)) draft = attach(draft, kind);
    const [refused] = transition(applicationMachine, draft, withFacts('submit', facts));
    expect(refused).toBe(draft);
    draft = attach(draft, required.at(-1)!);
    const [submitted] = transition(applicationMachine, draft, withFacts('submit', facts));
    expect(submitted.value).toBe('submitted');
  });

  it('refuses accept while a required document is not accepted, and takes it when all are', () => {
    let draft = reach('draft');
    for (const kind of required) draft = attach(draft, kind);
    let snapshot = transition(applicationMachine, draft, withFacts('submit', { requiredDocuments: required }))[0];
    snapshot = transition(applicationMachine, snapshot, eventFor('start-review'))[0];
    expect(snapshot.value).toBe('under-review');
    const accept = withFacts('accept', { requiredDocuments: required });
    for (const kind of required.slice(0, -1)) {
      snapshot = transition(applicationMachine, snapshot, eventFor('review-document', { payload: { kind, verdict: 'accepted' } }))[0];
    }
    expect(transition(applicationMachine, snapshot, accept)[0]).toBe(snapshot);
    const last = required.at(-1)!;
    const remarked = transition(applicationMachine, snapshot, eventFor('review-document', { payload: { kind: last, verdict: 'remark', remark: 'Нечитаемо.' } }))[0];
    expect(transition(applicationMachine, remarked, accept)[0]).toBe(remarked);
    const accepted = transition(applicationMachine, remarked, eventFor('review-document', { payload: { kind: last, verdict: 'accepted' } }))[0];
    expect(accepted.context.documents?.[last]).toMatchObject({ verdict: 'accepted', remark: null, reviewedAt: AT });
    expect(transition(applicationMachine, accepted, accept)[0].value).toBe('accepted');
  });

  it('accepts no missing document, but takes a remark on one', () => {
    const underReview = reach('under-review');
    const [refused] = transition(applicationMachine, underReview, eventFor('review-document', { payload: { kind: 'budget-extract', verdict: 'accepted' } }));
    expect(refused).toBe(underReview);
    const [remarked] = transition(applicationMachine, underReview, eventFor('review-document', { payload: { kind: 'budget-extract', verdict: 'remark', remark: 'Приложите выписку.' } }));
    expect(remarked.context.documents?.['budget-extract']).toMatchObject({ file: null, verdict: 'remark', remark: 'Приложите выписку.' });
  });

  it('returns for revision with the document remarks only, carried into the remarks beside the reviewer’s own', () => {
    const underReview = reach('under-review');
    const [nothing] = transition(applicationMachine, underReview, eventFor('return-for-revision', { payload: {} }));
    expect(nothing).toBe(underReview);
    const [remarked] = transition(applicationMachine, underReview, eventFor('review-document'));
    const [returned] = transition(applicationMachine, remarked, eventFor('return-for-revision', { payload: {} }));
    expect(returned.value).toBe('returned');
    expect(returned.context.remarks).toEqual([{ field: 'document.meeting-minutes', text: samplePayloads['review-document'].verdict === 'remark' ? samplePayloads['review-document'].remark : '' }]);
    const [both] = transition(applicationMachine, remarked, eventFor('return-for-revision', { payload: { remarks: [{ field: 'general', text: 'Уточните смету.' }] } }));
    expect(both.context.remarks.map((r) => r.field)).toEqual(['general', 'document.meeting-minutes']);
    // A remark the reviewer wrote on the same document in the return itself is not repeated.
    const [own] = transition(applicationMachine, remarked, eventFor('return-for-revision', { payload: { remarks: [{ field: 'document.meeting-minutes', text: 'Свой текст.' }] } }));
    expect(own.context.remarks).toEqual([{ field: 'document.meeting-minutes', text: 'Свой текст.' }]);
  });

  it('keeps the snapshot of an application without documents as it was before documents existed', () => {
    const [submitted] = transition(applicationMachine, initial, eventFor('submit'));
    expect(submitted.value).toBe('submitted');
    expect('documents' in submitted.context).toBe(false);
  });
});
