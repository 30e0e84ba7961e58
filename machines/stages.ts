/**
 * The twelve stages of a programme year (DESIGN §2): its key (its name is in the catalogues,
 * `stage.name.<key>`), its checklist, the
 * application events it owns, the application states it holds, and its exit condition. Exit
 * conditions are pure functions of facts the engine computes and carries in the `complete` event.
 */

export const stageKeys = [
  'preparation',
  'training',
  'preliminary-meetings',
  'final-meetings',
  'documentation',
  'intake',
  'commission',
  'legal',
  'procurement',
  'works',
  'monitoring',
  'closing',
] as const;
export type StageKey = (typeof stageKeys)[number];

export type StageStateName = 'planned' | 'active' | 'completed';

/** What the engine reads from the database for a stage's guards, at the moment of the event. */
export interface StageFacts {
  /** The state of every stage of the programme, by key. */
  stageStates: Record<string, StageStateName>;
  /** Applications of the programme per state (dotted state paths). */
  applicationCounts: Record<string, number>;
  programme: { fundKopecks: number; capKopecks: number };
  /** Keys of the stages that have no planned dates yet. */
  unscheduledStages: string[];
  /** The programme journal (issue 14): standing entries per kind, and per kind and municipality id. Absent on older events. */
  journal?: { byKind: Record<string, number>; byMunicipality: Record<string, Record<string, number>> };
  /** The municipalities that applied (an application submitted at least once), by id, with their names. */
  appliedMunicipalities?: { id: number; name: string }[];
}

export interface ExitVerdict {
  holds: boolean;
  /** A catalogue key under `stage.exit.` that says why the stage is held back. */
  code: string;
  params?: Record<string, string | number>;
}

export interface StageDefinition {
  no: number;
  key: StageKey;
  /** The checklist, from the programme methodology: task keys (their names are in the catalogues, `stage.task.<stage>.<task>`). */
  tasks: readonly string[];
  /** The application events allowed only while this stage (or another that owns them) is active. */
  ownsEvents: readonly string[];
  /** The application states that wait on this stage, counted beside it on the timeline. */
  holdsStates: readonly string[];
  exit: (facts: StageFacts) => ExitVerdict;
  /** The tasks the programme journal evidences, with the kinds of entry that do (issue 14): the stage page lists them. */
  evidence?: Readonly<Record<string, readonly string[]>>;
}

const count = (facts: StageFacts, ...states: string[]) => states.reduce((sum, s) => sum + (facts.applicationCounts[s] ?? 0), 0);
const ok: ExitVerdict = { holds: true, code: 'ok' };
const whenNone = (n: number, code: string): ExitVerdict => (n === 0 ? ok : { holds: false, code, params: { count: n } });
const afterStage = (facts: StageFacts, key: StageKey): ExitVerdict =>
  facts.stageStates[key] === 'completed' ? ok : { holds: false, code: 'stage-not-completed', params: { stage: key } };
/** The journal holds at least one standing entry of the kind, or the stage is held back with `code`. */
const recorded = (facts: StageFacts, kind: string, code: string): ExitVerdict => ((facts.journal?.byKind[kind] ?? 0) > 0 ? ok : { holds: false, code });
const both = (...verdicts: (() => ExitVerdict)[]): ExitVerdict => verdicts.reduce<ExitVerdict>((verdict, next) => (verdict.holds ? next() : verdict), ok);
/** The municipalities that applied and have no final meeting in the journal, named. */
export function withoutFinalMeeting(facts: StageFacts): { id: number; name: string }[] {
  const held = facts.journal?.byMunicipality['final-meeting'] ?? {};
  return (facts.appliedMunicipalities ?? []).filter((m) => (held[String(m.id)] ?? 0) === 0);
}

export const stageDefinitions: readonly StageDefinition[] = [
  {
    no: 1,
    key: 'preparation',
    tasks: [
      'parameters',
      'plan',
      'campaign',
      'announcement',
    ],
    ownsEvents: [],
    holdsStates: [],
    exit: (facts) => {
      if (facts.programme.fundKopecks <= 0 || facts.programme.capKopecks <= 0) return { holds: false, code: 'programme-parameters' };
      const unscheduled = facts.unscheduledStages.filter((key) => key !== 'preparation');
      if (unscheduled.length > 0) return { holds: false, code: 'stages-unscheduled', params: { count: unscheduled.length } };
      return recorded(facts, 'announcement', 'no-announcement');
    },
    evidence: { campaign: ['announcement'], announcement: ['announcement'] },
  },
  {
    no: 2,
    key: 'training',
    tasks: [
      'local-government',
      'initiative-groups',
    ],
    ownsEvents: [],
    holdsStates: [],
    exit: (facts) => both(() => afterStage(facts, 'preparation'), () => recorded(facts, 'training', 'no-training')),
    evidence: { 'local-government': ['training'], 'initiative-groups': ['training'] },
  },
  {
    no: 3,
    key: 'preliminary-meetings',
    tasks: [
      'consulting',
      'plans',
    ],
    ownsEvents: ['create', 'update', 'attach-document'],
    holdsStates: [],
    exit: (facts) => afterStage(facts, 'training'),
    evidence: { consulting: ['consultation'], plans: ['preliminary-meeting'] },
  },
  {
    no: 4,
    key: 'final-meetings',
    tasks: [
      'meetings',
      'consulting',
    ],
    ownsEvents: ['create', 'update', 'attach-document'],
    holdsStates: [],
    exit: (facts) =>
      both(
        () => afterStage(facts, 'preliminary-meetings'),
        () => {
          const missing = withoutFinalMeeting(facts);
          return missing.length === 0 ? ok : { holds: false, code: 'final-meetings-missing', params: { count: missing.length, municipalities: missing.map((m) => m.name).join(', ') } };
        },
      ),
    evidence: { meetings: ['final-meeting'], consulting: ['consultation'] },
  },
  {
    no: 5,
    key: 'documentation',
    tasks: [
      'checking',
      'consulting',
    ],
    ownsEvents: ['create', 'update', 'attach-document', 'submit', 'start-review', 'review-document', 'return-for-revision', 'assign', 'take', 'release'],
    holdsStates: ['draft', 'returned'],
    exit: (facts) => whenNone(count(facts, 'under-review'), 'applications-under-review'),
  },
  {
    no: 6,
    key: 'intake',
    tasks: [
      'checking',
      'accepting',
      'processing',
    ],
    ownsEvents: ['update', 'attach-document', 'submit', 'start-review', 'review-document', 'return-for-revision', 'accept', 'reject', 'assign', 'take', 'release'],
    holdsStates: ['submitted', 'under-review', 'returned'],
    exit: (facts) => whenNone(count(facts, 'submitted', 'under-review', 'returned'), 'applications-waiting-decision'),
  },
  {
    no: 7,
    key: 'commission',
    tasks: [
      'meeting',
      'protocol',
      'informing',
    ],
    ownsEvents: ['score', 'award', 'not-award'],
    holdsStates: ['accepted'],
    exit: (facts) => whenNone(count(facts, 'accepted'), 'applications-undecided'),
  },
  {
    no: 8,
    key: 'legal',
    tasks: [
      'order',
      'agreements',
      'funds',
    ],
    ownsEvents: ['start-implementation', 'sign-agreement', 'confirm-contributions', 'record-contribution', 'cancel-contribution', 'attach-evidence'],
    holdsStates: ['awarded', 'implementation.agreement', 'implementation.co-financing'],
    exit: (facts) => whenNone(count(facts, 'awarded', 'implementation.agreement', 'implementation.co-financing'), 'applications-without-agreement'),
  },
  {
    no: 9,
    key: 'procurement',
    tasks: ['consulting'],
    ownsEvents: ['sign-contract', 'record-contribution', 'cancel-contribution', 'attach-evidence'],
    holdsStates: ['implementation.procurement'],
    exit: (facts) => whenNone(count(facts, 'implementation.procurement'), 'applications-without-contract'),
  },
  {
    no: 10,
    key: 'works',
    tasks: [
      'consulting',
      'ceremonies',
    ],
    ownsEvents: ['record-milestone', 'report-progress', 'complete-works', 'record-contribution', 'cancel-contribution', 'attach-evidence'],
    holdsStates: ['implementation.works'],
    evidence: { consulting: ['consultation'], ceremonies: ['opening-ceremony'] },
    exit: (facts) => whenNone(count(facts, 'implementation.works'), 'works-unfinished'),
  },
  {
    no: 11,
    key: 'monitoring',
    tasks: ['visits'],
    ownsEvents: ['record-monitoring', 'resolve-issue', 'record-milestone', 'record-contribution', 'cancel-contribution', 'attach-evidence'],
    holdsStates: ['implementation.completed'],
    exit: (facts) => afterStage(facts, 'works'),
  },
  {
    no: 12,
    key: 'closing',
    tasks: [
      'reporting',
      'analysis',
      'recommendations',
    ],
    ownsEvents: ['report-spending', 'close', 'record-monitoring', 'resolve-issue', 'record-milestone', 'record-contribution', 'cancel-contribution', 'attach-evidence'],
    holdsStates: [],
    exit: (facts) =>
      whenNone(
        count(facts, 'awarded', 'implementation.agreement', 'implementation.co-financing', 'implementation.procurement', 'implementation.works', 'implementation.completed'),
        'projects-open',
      ),
  },
];

export function stageDefinition(key: string): StageDefinition | undefined {
  return stageDefinitions.find((stage) => stage.key === key);
}

/** The stages that own an application event; empty for events no stage owns (withdraw, terminate). */
export function stagesOwning(eventType: string): StageDefinition[] {
  return stageDefinitions.filter((stage) => stage.ownsEvents.includes(eventType));
}
