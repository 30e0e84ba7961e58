/**
 * The twelve stages of a programme year (DESIGN §2): what each is called, its checklist, the
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
  title: { ru: string; en: string };
  /** The checklist, from the programme methodology. */
  tasks: { key: string; ru: string; en: string }[];
  /** The application events allowed only while this stage (or another that owns them) is active. */
  ownsEvents: readonly string[];
  /** The application states that wait on this stage, counted beside it on the timeline. */
  holdsStates: readonly string[];
  exit: (facts: StageFacts) => ExitVerdict;
}

const count = (facts: StageFacts, ...states: string[]) => states.reduce((sum, s) => sum + (facts.applicationCounts[s] ?? 0), 0);
const ok: ExitVerdict = { holds: true, code: 'ok' };
const whenNone = (n: number, code: string): ExitVerdict => (n === 0 ? ok : { holds: false, code, params: { count: n } });
const afterStage = (facts: StageFacts, key: StageKey): ExitVerdict =>
  facts.stageStates[key] === 'completed' ? ok : { holds: false, code: 'stage-not-completed', params: { stage: key } };

export const stageDefinitions: readonly StageDefinition[] = [
  {
    no: 1,
    key: 'preparation',
    title: { ru: 'Подготовительный этап', en: 'Preparation' },
    tasks: [
      { key: 'parameters', ru: 'Параметры и дизайн программы', en: 'Programme parameters and design' },
      { key: 'plan', ru: 'План последующих этапов', en: 'Plan of the later stages' },
      { key: 'campaign', ru: 'Информационная кампания', en: 'Information campaign' },
      { key: 'announcement', ru: 'Объявление конкурса', en: 'Announcement of the competition' },
    ],
    ownsEvents: [],
    holdsStates: [],
    exit: (facts) => {
      if (facts.programme.fundKopecks <= 0 || facts.programme.capKopecks <= 0) return { holds: false, code: 'programme-parameters' };
      const unscheduled = facts.unscheduledStages.filter((key) => key !== 'preparation');
      return unscheduled.length === 0 ? ok : { holds: false, code: 'stages-unscheduled', params: { count: unscheduled.length } };
    },
  },
  {
    no: 2,
    key: 'training',
    title: { ru: 'Этап обучения', en: 'Training' },
    tasks: [
      { key: 'local-government', ru: 'Обучение представителей органов местного самоуправления', en: 'Training for local government' },
      { key: 'initiative-groups', ru: 'Обучение инициативных групп', en: 'Training for initiative groups' },
    ],
    ownsEvents: [],
    holdsStates: [],
    exit: (facts) => afterStage(facts, 'preparation'),
  },
  {
    no: 3,
    key: 'preliminary-meetings',
    title: { ru: 'Этап предварительных мероприятий', en: 'Preliminary meetings' },
    tasks: [
      { key: 'consulting', ru: 'Консультирование участников', en: 'Consulting participants' },
      { key: 'plans', ru: 'Корректировка планов', en: 'Correcting plans' },
    ],
    ownsEvents: ['create', 'update', 'attach-document'],
    holdsStates: [],
    exit: (facts) => afterStage(facts, 'training'),
  },
  {
    no: 4,
    key: 'final-meetings',
    title: { ru: 'Этап итоговых мероприятий', en: 'Final meetings' },
    tasks: [
      { key: 'meetings', ru: 'Сопровождение итоговых собраний жителей', en: "Supporting residents' final meetings" },
      { key: 'consulting', ru: 'Консультирование', en: 'Consulting' },
    ],
    ownsEvents: ['create', 'update', 'attach-document'],
    holdsStates: [],
    exit: (facts) => afterStage(facts, 'preliminary-meetings'),
  },
  {
    no: 5,
    key: 'documentation',
    title: { ru: 'Этап подготовки конкурсной документации', en: 'Documentation' },
    tasks: [
      { key: 'checking', ru: 'Работа в системе: проверка документации', en: 'Work in the system: checking documentation' },
      { key: 'consulting', ru: 'Консультирование', en: 'Consulting' },
    ],
    ownsEvents: ['create', 'update', 'attach-document', 'submit', 'start-review', 'review-document', 'return-for-revision'],
    holdsStates: ['draft', 'returned'],
    exit: (facts) => whenNone(count(facts, 'under-review'), 'applications-under-review'),
  },
  {
    no: 6,
    key: 'intake',
    title: { ru: 'Этап приёма и обработки конкурсной документации', en: 'Intake' },
    tasks: [
      { key: 'checking', ru: 'Проверка заявок', en: 'Checking applications' },
      { key: 'accepting', ru: 'Приём заявок', en: 'Accepting applications' },
      { key: 'processing', ru: 'Обработка заявок', en: 'Processing applications' },
    ],
    ownsEvents: ['update', 'attach-document', 'submit', 'start-review', 'review-document', 'return-for-revision', 'accept', 'reject'],
    holdsStates: ['submitted', 'under-review', 'returned'],
    exit: (facts) => whenNone(count(facts, 'submitted', 'under-review', 'returned'), 'applications-waiting-decision'),
  },
  {
    no: 7,
    key: 'commission',
    title: { ru: 'Этап организации заседания конкурсной комиссии', en: 'Competition commission' },
    tasks: [
      { key: 'meeting', ru: 'Организация заседания', en: 'Organising the meeting' },
      { key: 'protocol', ru: 'Протокол заседания', en: 'The protocol' },
      { key: 'informing', ru: 'Информирование участников', en: 'Informing participants' },
    ],
    ownsEvents: ['score', 'award', 'not-award'],
    holdsStates: ['accepted'],
    exit: (facts) => whenNone(count(facts, 'accepted'), 'applications-undecided'),
  },
  {
    no: 8,
    key: 'legal',
    title: { ru: 'Этап оформления нормативно-правовой и административной документации', en: 'Legal documents' },
    tasks: [
      { key: 'order', ru: 'Распоряжение правительства о субсидиях', en: 'Government order on subsidies' },
      { key: 'agreements', ru: 'Соглашения с участниками', en: 'Agreements with participants' },
      { key: 'funds', ru: 'Сбор средств населения и спонсоров', en: "Collecting residents' and sponsors' funds" },
    ],
    ownsEvents: ['start-implementation', 'sign-agreement', 'confirm-contributions'],
    holdsStates: ['awarded', 'implementation.agreement', 'implementation.co-financing'],
    exit: (facts) => whenNone(count(facts, 'awarded', 'implementation.agreement', 'implementation.co-financing'), 'applications-without-agreement'),
  },
  {
    no: 9,
    key: 'procurement',
    title: { ru: 'Этап проведения конкурсных процедур', en: 'Procurement' },
    tasks: [{ key: 'consulting', ru: 'Консультирование', en: 'Consulting' }],
    ownsEvents: ['sign-contract'],
    holdsStates: ['implementation.procurement'],
    exit: (facts) => whenNone(count(facts, 'implementation.procurement'), 'applications-without-contract'),
  },
  {
    no: 10,
    key: 'works',
    title: { ru: 'Этап ремонтно-строительных работ', en: 'Construction works' },
    tasks: [
      { key: 'consulting', ru: 'Консультирование', en: 'Consulting' },
      { key: 'ceremonies', ru: 'Торжественные открытия объектов', en: 'Opening ceremonies' },
    ],
    ownsEvents: ['report-progress', 'complete-works'],
    holdsStates: ['implementation.works'],
    exit: (facts) => whenNone(count(facts, 'implementation.works'), 'works-unfinished'),
  },
  {
    no: 11,
    key: 'monitoring',
    title: { ru: 'Этап мониторинга', en: 'Monitoring' },
    tasks: [{ key: 'visits', ru: 'Мониторинговые выезды', en: 'Monitoring visits' }],
    ownsEvents: ['record-monitoring'],
    holdsStates: ['implementation.completed'],
    exit: (facts) => afterStage(facts, 'works'),
  },
  {
    no: 12,
    key: 'closing',
    title: { ru: 'Этап закрытия проекта', en: 'Closing' },
    tasks: [
      { key: 'reporting', ru: 'Отчётные мероприятия', en: 'Reporting events' },
      { key: 'analysis', ru: 'Аналитический отчёт', en: 'Analytical report' },
      { key: 'recommendations', ru: 'Рекомендации', en: 'Recommendations' },
    ],
    ownsEvents: ['close'],
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
