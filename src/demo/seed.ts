import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { applications, municipalities, programmes, users } from '../db/schema.ts';
import type { ApplicationForm, Remark } from '../domain/application.ts';
import type { Actor, Role } from '../domain/roles.ts';
import { hashPassword } from '../accounts/passwords.ts';
import { insertUser } from '../accounts/users.ts';
import { workflowEngine } from '../workflows/index.ts';
import { applicationV2, defaultRegistry } from '../../machines/registry.ts';
import { createApplication, sendApplicationEvent } from '../workflows/application/commands.ts';
import { sendStageEvent } from '../workflows/stage/commands.ts';
import { createProgramme } from '../workflows/programme/create.ts';
import { recordDecision } from '../workflows/commission/decision.ts';
import { stageDefinitions } from '../../machines/stages.ts';
import { demoContractors, demoMunicipalities, demoProjects, demoReasons, demoRemarks } from './data.ts';
import { demoPhotoPng, minimalPdf, transliterate } from './documents.ts';
import { defaultDocumentRules, type DocumentKind } from '../domain/documents.ts';
import { formatRoubles } from '../domain/money.ts';
import { attachDocumentBytes } from '../workflows/documents/upload.ts';
import { attachEvidenceBytes } from '../workflows/documents/evidence.ts';
import type { EvidenceKind } from '../domain/implementation.ts';
import { DocumentStore, documentsDirFor } from '../workflows/documents/store.ts';
import { seedReviewDay } from './review.ts';
import { demoJournal } from './journal.ts';
import { demoAddresses, informDemoParticipants, readOldNotifications, seedConversations } from './communications.ts';

/** The kinds every demo application must carry: the default requirements of a new programme. */
const requiredKinds: DocumentKind[] = defaultDocumentRules.filter((rule) => rule.required).map((rule) => rule.kind);

/** What a reviewer of the demo finds wrong in a document, by application. */
const documentRemarks: { kind: DocumentKind; text: string }[] = [
  { kind: 'meeting-minutes', text: 'Протокол не подписан председателем и секретарём собрания.' },
  { kind: 'object-photos', text: 'На фото не видно объекта целиком: приложите общий план.' },
  { kind: 'cost-estimate', text: 'Смета не согласована с главой поселения.' },
];

/** A small real file for each kind of document, made from the application's form; a revision is another file. */
function demoDocument(kind: DocumentKind, form: ApplicationForm, index: number, revision: number): { name: string; bytes: Buffer } {
  const revised = revision > 1 ? ' (исправленный)' : '';
  const rub = (kopecks: number | undefined) => `${formatRoubles(kopecks ?? 0)} руб.`;
  const heading = [`Проект: ${form.title ?? ''}`, `Населённый пункт: ${form.settlement ?? ''}`];
  const revisionLine = revision > 1 ? [`Редакция ${revision}`] : [];
  switch (kind) {
    case 'object-photos':
      return { name: `Фото объекта${revised}.png`, bytes: demoPhotoPng(index * 7 + revision) };
    case 'meeting-minutes':
      return {
        name: `Протокол итогового собрания${revised}.pdf`,
        bytes: minimalPdf('Протокол итогового собрания жителей', [
          ...heading,
          `Присутствовали: ${form.meetingAttendance ?? 0} чел.`,
          'Решили: участвовать в конкурсном отборе проектов инициативного бюджетирования.',
          `Вклад жителей: ${rub(form.costs?.residents)}`,
          'Председатель собрания ____________   Секретарь ____________',
          ...revisionLine,
        ]),
      };
    case 'attendance-sheet':
      return {
        name: `Лист регистрации${revised}.pdf`,
        bytes: minimalPdf('Лист регистрации участников собрания', [...heading, `Зарегистрировано участников: ${form.meetingAttendance ?? 0}`, ...revisionLine]),
      };
    case 'cost-estimate':
      return {
        name: `Смета${revised}.pdf`,
        bytes: minimalPdf('Смета расходов на реализацию проекта', [
          ...heading,
          `Субсидия из бюджета республики: ${rub(form.costs?.subsidy)}`,
          `Местный бюджет: ${rub(form.costs?.localBudget)}`,
          `Жители: ${rub(form.costs?.residents)}`,
          `Юридические лица и ИП: ${rub(form.costs?.business)}`,
          ...revisionLine,
        ]),
      };
    case 'budget-extract':
      return {
        name: `Выписка из бюджета${revised}.pdf`,
        bytes: minimalPdf('Выписка из решения о местном бюджете', [...heading, `Предусмотрено на софинансирование: ${rub(form.costs?.localBudget)}`, ...revisionLine]),
      };
    default:
      return {
        name: `Гарантийное письмо${revised}.pdf`,
        bytes: minimalPdf('Гарантийное письмо', [...heading, `Обязуемся перечислить ${rub(form.costs?.business)} на реализацию проекта.`, ...revisionLine]),
      };
  }
}

/** A small deterministic generator, so that the demo is the same on every machine. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!,
  };
}

const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

/** The journeys the demo applications take; each ends in the state its name says. */
/** The parts of a programme year in which the demo's events happen, in calendar order. */
type Phase = 'draft' | 'submit' | 'review' | 'revise' | 'decide' | 'score' | 'award' | 'agreement' | 'contributions' | 'contract' | 'works' | 'monitor' | 'works-late' | 'complete' | 'close';

type Journey =
  | 'draft-incomplete'
  | 'draft'
  | 'submitted'
  | 'under-review'
  | 'returned'
  | 'resubmitted'
  | 'accepted'
  | 'accepted-after-return'
  | 'decided'
  | 'rejected'
  | 'withdrawn'
  | 'awarded'
  | 'not-awarded'
  | 'agreement'
  | 'co-financing'
  | 'procurement'
  | 'works'
  | 'completed'
  | 'closed'
  | 'terminated';

const currentJourneys: Journey[] = [
  ...Array<Journey>(3).fill('draft-incomplete'),
  ...Array<Journey>(4).fill('draft'),
  ...Array<Journey>(6).fill('submitted'),
  ...Array<Journey>(5).fill('under-review'),
  ...Array<Journey>(6).fill('returned'),
  ...Array<Journey>(3).fill('resubmitted'),
  ...Array<Journey>(6).fill('accepted'),
  ...Array<Journey>(3).fill('accepted-after-return'),
  ...Array<Journey>(3).fill('rejected'),
  ...Array<Journey>(3).fill('withdrawn'),
];

/** Last year: 29 applications reach the commission, whose decision (the real ranking and allocation) picks the winners. */
const pastJourneys: Journey[] = [
  ...Array<Journey>(29).fill('decided'),
  ...Array<Journey>(2).fill('rejected'),
];

/** Where last year's winners got to, by rank; winners beyond the list closed their projects. */
// By rank: the rarer ends first, so that every state of implementation stands in the demo however
// many winners the fund allows; the winners past this list are closed.
const pastAfterAward: Journey[] = [
  ...Array<Journey>(2).fill('awarded'),
  ...Array<Journey>(2).fill('agreement'),
  ...Array<Journey>(2).fill('terminated'),
  ...Array<Journey>(2).fill('co-financing'),
  ...Array<Journey>(2).fill('procurement'),
  ...Array<Journey>(3).fill('works'),
  ...Array<Journey>(3).fill('completed'),
  ...Array<Journey>(8).fill('closed'),
];
const afterAwardPhases: ReadonlySet<Phase> = new Set<Phase>(['agreement', 'contributions', 'contract', 'works', 'monitor', 'works-late', 'complete', 'close']);

export const DEMO_PASSWORD = 'demo';

export interface DemoSummary {
  programmeIds: number[];
  applications: number;
  users: number;
  /** Reviewers' own streams: their declared conflicts of interest (issue 16). */
  reviewerStreams: number;
  /** Applications with a conversation (issue 12): each is a stream of its own. */
  conversations: number;
}

function actorOf(db: Db, login: string): Actor {
  const row = db.select().from(users).where(sql`${users.login} = ${login}`).get()!;
  return { id: row.id, login: row.login, name: row.name, role: row.role as Role, municipalityId: row.municipalityId };
}

export function isEmpty(db: Db): boolean {
  return db.select({ n: sql<number>`count(*)` }).from(users).get()!.n === 0;
}

/**
 * Seeds the demo: the current year's programme in the middle of its intake, last year's finished
 * one, real municipalities of Udmurtia, the demo users and applications whose histories were made
 * by sending real events through the engine at realistic moments, so that they replay and verify.
 */
/** The past programme's recommendations, as a coordinator writes them: a draft and the revised text. */
const demoRecommendations = [
  'Провести обучение инициативных групп до начала приёма заявок: в 2025 году половина возвратов на доработку — из-за протоколов собраний.',
  [
    '1. Проводить обучение инициативных групп до начала приёма заявок: половина возвратов на доработку в прошлом году — из-за протоколов собраний и смет.',
    '2. Просить муниципалитеты вносить средства населения до подписания контракта: два проекта задержались из-за поздних поступлений.',
    '3. Сохранить правило о возврате экономии по контрактам и публиковать её в отчёте по каждому проекту.',
    '4. Уделить внимание поселениям, не подавшим заявок: провести в них выездные консультации на этапе подготовки.',
  ].join('\n'),
] as const;

export async function seedDemo(db: Db, options: { now?: Date; documentsDir?: string } = {}): Promise<DemoSummary> {
  const now = options.now ?? new Date();
  const year = now.getUTCFullYear();
  let clock = now;
  const engine = workflowEngine(db, { now: () => clock });
  // Last year's competition ran on the application machine's version 2: its streams move to the
  // current version at their first event after the award (DESIGN §4.5), as an upgraded installation's do.
  const previousVersion = workflowEngine(db, { now: () => clock, registry: defaultRegistry().register(applicationV2, { current: true }) });
  let applicationEngine = engine;
  // The demo's documents go where the app will look for them: `documents/` beside the database.
  const store = new DocumentStore(options.documentsDir ?? documentsDirFor(db));
  let applicationCount = 0;
  const rng = random(year);
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const createdAt = new Date(now.getTime() - 400 * DAY).toISOString();

  const municipalityIds = demoMunicipalities.map(
    (m) => db.insert(municipalities).values({ name: m.name, kind: m.kind, population: m.population }).returning().get().id,
  );

  const addUser = (login: string, name: string, role: Role, municipalityId: number | null = null): Actor => {
    const row = insertUser(db, { login, name, role, municipalityId, passwordHash, createdAt }, null);
    return { id: row.id, login, name, role, municipalityId };
  };
  // applicant1 works for a rural district, applicant2 for a town: the two faces of the programme.
  const zavyalovo = demoMunicipalities.findIndex((m) => m.name.startsWith('Завьяловский'));
  const sarapul = demoMunicipalities.findIndex((m) => m.name === 'город Сарапул');
  const applicantIndexes = [zavyalovo >= 0 ? zavyalovo : 0, sarapul >= 0 ? sarapul : 1];
  const applicants = new Map<number, Actor>();
  applicants.set(municipalityIds[applicantIndexes[0]!]!, addUser('applicant1', 'Анна Петрова', 'applicant', municipalityIds[applicantIndexes[0]!]!));
  applicants.set(municipalityIds[applicantIndexes[1]!]!, addUser('applicant2', 'Игорь Волков', 'applicant', municipalityIds[applicantIndexes[1]!]!));
  const reviewer = addUser('reviewer1', 'Ольга Смирнова', 'reviewer');
  const reviewer2 = addUser('reviewer2', 'Дмитрий Корепанов', 'reviewer');
  const coordinator = addUser('coordinator1', 'Сергей Иванов', 'coordinator');
  const commission = [
    addUser('commission1', 'Елена Кузнецова', 'commission'),
    addUser('commission2', 'Алексей Бабинцев', 'commission'),
    addUser('commission3', 'Наталья Шкляева', 'commission'),
  ];
  addUser('auditor1', 'Марина Лекомцева', 'auditor');
  addUser('admin1', 'Администратор системы', 'admin');
  // Every other municipality gets its own applicant account, as in a real installation.
  municipalityIds.forEach((id, index) => {
    if (!applicants.has(id)) applicants.set(id, addUser(`applicant${index + 3}`, `Заявитель: ${demoMunicipalities[index]!.name}`, 'applicant', id));
  });

  const admin: Actor = { ...actorOf(db, 'admin1') };
  const rules = {
    region: 'Удмуртская Республика',
    timeZone: 'Europe/Samara',
    fundKopecks: 6_000_000_000,
    capKopecks: 150_000_000,
    minLocalShareBp: 500,
    minResidentsShareBp: 300,
  };

  const formFor = (index: number, municipalityIndex: number, complete: boolean): ApplicationForm => {
    const project = demoProjects[index % demoProjects.length]!;
    const municipality = demoMunicipalities[municipalityIndex]!;
    const settlement = rng.pick(municipality.settlements);
    const subsidy = rng.int(30, 150) * 1_000_000; // 300 000 … 1 500 000 ₽, in whole thousands
    const form: ApplicationForm = {
      title: project.title,
      projectType: project.projectType,
      settlement: settlement.name,
      population: settlement.population,
      beneficiaries: Math.max(50, Math.round(settlement.population * (0.2 + rng.next() * 0.6))),
      meetingAttendance: Math.max(20, Math.round(Math.min(settlement.population, 3000) * (0.05 + rng.next() * 0.15))),
      problem: project.problem,
      description: project.description,
      durationMonths: rng.int(3, 10),
      costs: {
        subsidy,
        localBudget: Math.round((subsidy * (10 + rng.int(0, 8))) / 100 / 100) * 100,
        residents: Math.round((subsidy * (5 + rng.int(0, 5))) / 100 / 100) * 100,
        business: Math.round((subsidy * rng.int(0, 6)) / 100 / 100) * 100,
      },
      nonMonetary: { labour: rng.int(0, 80) * 100_000, materials: rng.int(0, 40) * 100_000 },
    };
    if (complete) return form;
    const { title, projectType, settlement: place, population } = form;
    return { title, projectType, settlement: place, population };
  };

  /** One step of an application's journey, run in the phase of the programme year it belongs to. */
  interface Step {
    phase: Phase;
    actor: Actor;
    type: string;
    /** Or the payload made at the moment of the event: dates a few days before it. */
    payload?: unknown;
  }

  /** The steps that take an application from its creation to the end of its journey. */
  const plan = (journey: Journey, index: number, applicant: Actor, form: ApplicationForm): Step[] => {
    const steps: Step[] = [];
    const step = (phase: Phase, actor: Actor, type: string, payload: unknown = {}) => steps.push({ phase, actor, type, payload });
    const { description, durationMonths } = form;
    const attach = (phase: Phase, kind: DocumentKind, revision = 1) => step(phase, applicant, 'attach-document', { kind, ...demoDocument(kind, form, index, revision) });
    const verdicts = (phase: Phase, actor: Actor, kinds: readonly DocumentKind[]) => {
      for (const kind of kinds) step(phase, actor, 'review-document', { kind, verdict: 'accepted' });
    };
    if (journey !== 'draft-incomplete') {
      step('draft', applicant, 'update', { description, durationMonths });
      // Every other draft has only begun to collect its documents.
      const kinds = journey === 'draft' && index % 2 === 1 ? requiredKinds.slice(0, 2) : [...requiredKinds, ...((form.costs?.business ?? 0) > 0 ? (['sponsor-letters'] as const) : [])];
      for (const kind of kinds) attach('draft', kind);
    }
    if (journey === 'draft-incomplete' || journey === 'draft') return steps;
    if (journey === 'withdrawn' && index % 2 === 0) {
      step('draft', applicant, 'withdraw', { reason: rng.pick(demoReasons.withdraw) });
      return steps;
    }
    step('submit', applicant, 'submit');
    if (journey === 'submitted') return steps;
    if (journey === 'withdrawn') {
      step('review', applicant, 'withdraw', { reason: rng.pick(demoReasons.withdraw) });
      return steps;
    }
    const desk = index % 3 === 0 ? reviewer2 : reviewer;
    step('review', desk, 'start-review');
    if (journey === 'under-review') {
      // Half of the reviews in progress have checked every document, the others only begun.
      verdicts('review', desk, index % 2 === 0 ? requiredKinds : requiredKinds.slice(0, 2));
      return steps;
    }
    const revisedAfterReturn = journey === 'returned' || journey === 'resubmitted' || journey === 'accepted-after-return' || index % 4 === 0;
    if (revisedAfterReturn) {
      const remarked = documentRemarks[index % documentRemarks.length]!;
      verdicts('review', desk, requiredKinds.filter((kind) => kind !== remarked.kind));
      step('review', desk, 'review-document', { kind: remarked.kind, verdict: 'remark', remark: remarked.text });
      const remarks: Remark[] = [rng.pick(demoRemarks), rng.pick(demoRemarks)]
        .filter((r, i, all) => all.findIndex((o) => o.field === r.field) === i)
        .map((r) => ({ field: r.field as Remark['field'], text: r.text }));
      step('review', desk, 'return-for-revision', { remarks });
      if (journey === 'returned') return steps;
      step('revise', applicant, 'update', { beneficiaries: Math.max(10, (form.beneficiaries ?? 100) - rng.int(1, 40)) });
      attach('revise', remarked.kind, 2);
      step('revise', applicant, 'submit');
      if (journey === 'resubmitted') return steps;
      step('decide', desk, 'start-review');
      verdicts('decide', desk, [remarked.kind]);
    } else if (journey !== 'rejected') {
      verdicts('decide', desk, requiredKinds);
    }
    if (journey === 'rejected') {
      step('decide', desk, 'reject', { reason: rng.pick(demoReasons.reject) });
      return steps;
    }
    step('decide', desk, 'accept', {});
    if (journey === 'accepted' || journey === 'accepted-after-return') return steps;
    for (const member of commission) step('score', member, 'score', { significance: rng.int(2, 5) });
    if (journey === 'decided') return steps;
    if (journey === 'not-awarded') {
      step('award', commission[0]!, 'not-award', {});
      return steps;
    }
    step('award', commission[0]!, 'award', { amountKopecks: form.costs!.subsidy! });
    if (journey === 'awarded') return steps;
    step('agreement', coordinator, 'start-implementation');
    if (journey === 'agreement') return steps;
    // After the award (issue 11): the agreement over the application's costs, the money as it came in, the contract and its savings,
    // the works with their milestones and photos, the monitoring visits, the spending report.
    const costs = form.costs!;
    const amounts = { subsidy: costs.subsidy!, localBudget: costs.localBudget!, residents: costs.residents!, business: costs.business! };
    const agreed = amounts.subsidy + amounts.localBudget + amounts.residents + amounts.business;
    const settlement = form.settlement ?? '';
    const back = (at: Date, days: number) => day(new Date(at.getTime() - days * DAY));
    step('agreement', coordinator, 'sign-agreement', (at: Date) => ({ agreementNo: `С-${year - 1}/${String(index).padStart(3, '0')}`, signedOn: back(at, rng.int(0, 2)), amounts }));
    step('agreement', applicant, 'attach-evidence', { kind: 'agreement-scan', name: `Соглашение С-${year - 1}-${index}.pdf`, bytes: minimalPdf('Soglashenie o predostavlenii subsidii', [`N S-${year - 1}/${index}`, transliterate(form.title ?? '')]) });
    // The municipality's money comes in one payment order, the residents' in several collections, the businesses' from each sponsor.
    const payments: { source: string; amountKopecks: number; payer: string; reference?: string }[] = [
      { source: 'local-budget', amountKopecks: amounts.localBudget, payer: 'Администрация муниципального образования', reference: `п/п № ${rng.int(100, 999)}` },
    ];
    const collections = amounts.residents >= 3_000_000 ? 3 : amounts.residents >= 1_000_000 ? 2 : 1;
    let residentsLeft = amounts.residents;
    for (let i = 0; i < collections; i++) {
      const part = i === collections - 1 ? residentsLeft : Math.round(amounts.residents / collections / 100) * 100;
      residentsLeft -= part;
      if (part > 0) payments.push({ source: 'residents', amountKopecks: part, payer: i === 0 ? `Инициативная группа, ${settlement}` : `Сбор жителей, ${settlement}, ${['ул. Центральная', 'ул. Школьная', 'ул. Советская'][i] ?? ''}`, reference: `ведомость № ${i + 1}` });
    }
    if (amounts.business > 0) {
      const sponsors = rng.pick([['ООО «Агрофирма Родина»'], ['ИП Лекомцев А. В.', 'ООО «Лесторг»'], ['СПК «Колхоз Удмуртия»']]);
      let left = amounts.business;
      sponsors.forEach((payer, i) => {
        const part = i === sponsors.length - 1 ? left : Math.round(amounts.business / sponsors.length / 100) * 100;
        left -= part;
        payments.push({ source: 'business', amountKopecks: part, payer, reference: `п/п № ${rng.int(10, 99)}` });
      });
    }
    // A project still collecting: the residents' last collection has not come in.
    const collected = journey === 'co-financing' ? payments.filter((p, i) => p.source !== 'residents' || i === 1) : payments;
    for (const payment of collected) step('contributions', payment.source === 'local-budget' ? coordinator : applicant, 'record-contribution', (at: Date) => ({ ...payment, receivedOn: back(at, rng.int(0, 3)) }));
    // One typing mistake, corrected as the ledger corrects: cancelled with its reason and recorded again.
    if (index % 5 === 0 && journey !== 'co-financing') {
      step('contributions', applicant, 'record-contribution', (at: Date) => ({ source: 'residents', amountKopecks: 1_000_000, receivedOn: back(at, 1), payer: 'Сбор жителей (повторно)' }));
      step('contributions', applicant, 'cancel-contribution', () => ({ seq: -1, reason: 'Ошибочно внесено повторно: эти деньги уже учтены в ведомости № 1.' }));
    }
    if (journey === 'co-financing') return steps;
    step('contributions', coordinator, 'confirm-contributions');
    if (journey === 'procurement') return steps;
    const price = Math.round((agreed * rng.int(88, 99)) / 100 / 100) * 100;
    const contractor = rng.pick(demoContractors);
    step('contract', applicant, 'sign-contract', (at: Date) => ({
      contractNo: `${rng.int(1, 40)}/${year - 1}-МК`,
      signedOn: back(at, rng.int(0, 2)),
      contractor: contractor.name,
      contractorInn: contractor.inn,
      priceKopecks: price,
      noticeNo: `0813300${String(rng.int(1000, 9999))}${year - 1}${String(rng.int(10000, 99999))}`.slice(0, 19),
    }));
    step('contract', coordinator, 'record-contribution', (at: Date) => ({ source: 'subsidy', amountKopecks: amounts.subsidy, receivedOn: back(at, 0), payer: 'Министерство финансов Удмуртской Республики', reference: `п/п № ${rng.int(1000, 9999)}` }));
    if (journey === 'terminated') {
      step('works', coordinator, 'terminate', { reason: rng.pick(demoReasons.terminate) });
      return steps;
    }
    const photo = (phase: Phase, seed: number, caption: string) =>
      step(phase, applicant, 'attach-evidence', { kind: 'photo', caption, name: `Фото ${index}-${seed}.png`, bytes: demoPhotoPng(index * 10 + seed, 320, 214) });
    step('works', applicant, 'record-milestone', (at: Date) => ({ kind: 'site-handed-over', on: back(at, 6) }));
    step('works', applicant, 'record-milestone', (at: Date) => ({ kind: 'works-started', on: back(at, 3), note: `Подрядчик ${contractor.name} вышел на объект.` }));
    step('works', applicant, 'report-progress', { percent: rng.int(30, 45), note: 'Подготовительные работы выполнены.' });
    photo('works', 1, 'Начало работ');
    const issues = index % 7 === 3;
    step('monitor', coordinator, 'record-monitoring', (at: Date) => ({
      visitedOn: back(at, 1),
      inspector: 'С. Иванов, координатор программы',
      verdict: issues ? 'issues' : 'ok',
      finding: issues ? 'Складирование материалов на проезжей части; нет информационного щита проекта.' : 'Работы ведутся по графику, замечаний нет.',
    }));
    step('works-late', applicant, 'report-progress', { percent: rng.int(80, 90), note: 'Основные работы выполнены, идёт благоустройство.' });
    photo('works-late', 2, 'Ход работ');
    if (journey === 'works') return steps;
    step('complete', applicant, 'record-milestone', (at: Date) => ({ kind: 'works-finished', on: back(at, 4) }));
    step('complete', applicant, 'attach-evidence', { kind: 'acceptance-act', name: `Акт приёмки ${index}.pdf`, bytes: minimalPdf('Akt o priemke vypolnennykh rabot', [transliterate(form.title ?? ''), transliterate(contractor.name)]) });
    step('complete', applicant, 'record-milestone', (at: Date) => ({ kind: 'acceptance-signed', on: back(at, 1) }));
    photo('complete', 3, 'Объект после завершения работ');
    step('complete', coordinator, 'complete-works');
    // The visit with an issue left open: one completed project waits for its follow-up.
    if (journey === 'completed') return steps;
    if (issues) step('close', coordinator, 'resolve-issue', () => ({ seq: -2, note: 'Материалы убраны, информационный щит установлен (фото приложено).' }));
    step('close', applicant, 'record-milestone', (at: Date) => ({ kind: 'opening-ceremony', on: back(at, 2), note: 'Торжественное открытие с участием жителей.' }));
    step('close', coordinator, 'record-monitoring', (at: Date) => ({ visitedOn: back(at, 1), inspector: 'С. Иванов, координатор программы', verdict: 'ok', finding: 'Объект введён в эксплуатацию, используется жителями.' }));
    photo('close', 4, 'Объект при мониторинге');
    const spent = { subsidy: Math.min(amounts.subsidy, price), localBudget: 0, residents: 0, business: 0 };
    let rest = price - spent.subsidy;
    for (const key of ['localBudget', 'residents', 'business'] as const) {
      spent[key] = Math.min(amounts[key], rest);
      rest -= spent[key];
    }
    step('close', applicant, 'report-spending', { actual: spent });
    step('close', coordinator, 'close');
    return steps;
  };

  interface Running {
    id: number;
    version: number;
    steps: Step[];
    /** The steps of another journey for the same application (after the commission's decision). */
    replan: (journey: Journey) => Step[];
  }

  /** Moves the clock through a window, one tick per event, at plausible office hours. */
  const windowClock = (from: Date, to: Date, events: number) => {
    let tick = 0;
    return () => {
      tick += 1;
      const even = from.getTime() + ((to.getTime() - from.getTime()) * tick) / (events + 1);
      // The same day, squeezed into its working hours: 09:00–18:00 in Izhevsk is 05:00–14:00 UTC.
      const midnight = Math.floor(even / DAY) * DAY;
      const base = midnight + 5 * HOUR + ((even - midnight) / DAY) * 9 * HOUR;
      const jittered = Math.min(to.getTime(), base + rng.int(0, 59) * 60_000);
      // Never earlier than the event before: the log reads in calendar order.
      clock = new Date(Math.max(jittered, clock.getTime() + 60_000));
    };
  };

  const latestSeqOf = (id: number, type: string) =>
    db.$client.prepare<[number, string], { seq: number }>('SELECT max(e.seq) AS seq FROM events e JOIN applications a ON a.stream_id = e.stream_id WHERE a.id = ? AND e.type = ?').get(id, type)!.seq;
  const runPhase = (running: Running[], phase: Phase, from: Date, to: Date) => {
    const due = running.flatMap((app) => app.steps.filter((s) => s.phase === phase).map((s) => ({ app, step: s })));
    const advance = windowClock(from, to, due.length);
    for (const { app, step } of due) {
      advance();
      if (step.type === 'attach-evidence') {
        const { kind, caption, name, bytes } = step.payload as { kind: EvidenceKind; caption?: string; name: string; bytes: Buffer };
        app.version = attachEvidenceBytes(applicationEngine, store, step.actor, app.id, kind, caption, name, bytes, app.version).version;
        continue;
      }
      if (step.type === 'attach-document') {
        const { kind, name, bytes } = step.payload as { kind: DocumentKind; name: string; bytes: Buffer };
        app.version = attachDocumentBytes(applicationEngine, store, step.actor, app.id, kind, name, bytes, app.version).version;
        continue;
      }
      let payload = typeof step.payload === 'function' ? (step.payload as (at: Date) => Record<string, unknown>)(clock) : step.payload;
      // `seq: -1` names the latest contribution, `seq: -2` the latest visit with an issue: their place in the stream is known only now.
      if (payload && typeof payload === 'object' && ((payload as { seq?: number }).seq ?? 0) < 0) payload = { ...payload, seq: latestSeqOf(app.id, (payload as { seq: number }).seq === -1 ? 'record-contribution' : 'record-monitoring') };
      app.version = sendApplicationEvent(applicationEngine, step.actor, app.id, step.type, payload, app.version).version;
    }
  };

  const createApplications = (programmeId: number, journeys: Journey[], offset: number, from: Date, to: Date): Running[] => {
    const advance = windowClock(from, to, journeys.length);
    return journeys.map((journey, i) => {
      const index = i + offset;
      // Every other application belongs to applicant1 or applicant2, so that both demo users meet every state.
      const municipalityIndex = index % 4 < 2 ? applicantIndexes[index % 2]! : rng.int(0, municipalityIds.length - 1);
      const applicant = applicants.get(municipalityIds[municipalityIndex]!)!;
      const form = formFor(index, municipalityIndex, journey !== 'draft-incomplete');
      // Drafts start with the essentials and grow by update events, so that the log holds every version.
      const { description: _d, durationMonths: _m, ...firstDraft } = form;
      advance();
      const created = createApplication(applicationEngine, applicant, { programmeId, form: firstDraft });
      applicationCount += 1;
      return { id: created.id, version: created.version, steps: plan(journey, index, applicant, form), replan: (next: Journey) => plan(next, index, applicant, form) };
    });
  };

  const stageVersions = new Map<string, number>();
  /** Sends a coordinator's stage event at a moment of the programme's calendar. */
  const stageEvent = (programmeId: number, no: number, at: Date, type: string, payload: unknown = {}) => {
    clock = at;
    const key = `${programmeId}-${no}`;
    const version = stageVersions.get(key) ?? 1;
    stageVersions.set(key, sendStageEvent(engine, coordinator, programmeId, no, type, payload, version).version);
  };
  const startStage = (programmeId: number, no: number, at: Date) => stageEvent(programmeId, no, at, 'start');
  const completeStage = (programmeId: number, no: number, at: Date, ticked: readonly string[] = []) => {
    const definition = stageDefinitions.find((d) => d.no === no)!;
    // The checklist is ticked in the hours before the stage is closed (a task ticked already is left as it is).
    definition.tasks.filter((task) => !ticked.includes(task)).forEach((task, i, tasks) => stageEvent(programmeId, no, new Date(at.getTime() - (tasks.length - i) * HOUR), 'complete-task', { task }));
    stageEvent(programmeId, no, at, 'complete');
  };
  const day = (date: Date) => date.toISOString().slice(0, 10);
  // The programme journal (issue 14): recorded while the stage that owns each kind is active, before it completes.
  const journal = demoJournal({ db, engine, store, coordinator, consultants: [reviewer, reviewer2], setClock: (at) => { clock = at; }, seed: year });
  const applicationsOf = (running: Running[], every: (index: number) => boolean) => running.filter((_, i) => every(i));
  const about = (running: Running[], count: number) =>
    Array.from({ length: count }, (_, i) => running[(i * 7) % running.length]!).map((app) => ({
      municipalityId: db.select({ m: applications.municipalityId }).from(applications).where(sql`${applications.id} = ${app.id}`).get()!.m,
      applicationId: app.id,
    }));

  // Last year's programme: the whole cycle, its commission decided; late projects keep stages 8–12 open.
  const pastYear = year - 1;
  const d = (month: number, dayOfMonth: number) => new Date(Date.UTC(pastYear, month - 1, dayOfMonth, 7, 0));
  clock = d(1, 9);
  const pastWindows: Record<number, [Date, Date]> = {
    1: [d(1, 10), d(2, 28)], 2: [d(2, 15), d(3, 31)], 3: [d(3, 1), d(4, 30)], 4: [d(4, 1), d(5, 31)],
    5: [d(4, 15), d(6, 30)], 6: [d(5, 15), d(7, 15)], 7: [d(7, 15), d(8, 10)], 8: [d(8, 1), d(9, 30)],
    9: [d(9, 1), d(10, 31)], 10: [d(10, 1), d(12, 10)], 11: [d(10, 15), d(12, 20)], 12: [d(12, 1), d(12, 25)],
  };
  const planOf = (windows: Record<number, [Date, Date]>) =>
    Object.fromEntries(Object.entries(windows).map(([no, [start, end]]) => [no, { start: day(start), end: day(end) }]));
  // Last year's fund was smaller than what the accepted applications asked for: the ranking decided.
  const pastProgramme = createProgramme(engine, admin, { title: `Наша инициатива — ${pastYear}`, year: pastYear, ...rules, fundKopecks: 1_800_000_000 }, planOf(pastWindows)).id;
  // Every call below moves the clock forward: the log reads as the calendar did.
  startStage(pastProgramme, 1, d(1, 12));
  journal.announcements(pastProgramme, pastYear, d(1, 14), d(2, 18));
  startStage(pastProgramme, 2, d(2, 20));
  journal.trainings(pastProgramme, d(2, 21), d(2, 26));
  completeStage(pastProgramme, 1, d(2, 27));
  startStage(pastProgramme, 3, d(3, 3));
  journal.preliminaryMeetings(pastProgramme, d(3, 4), d(3, 9), 8);
  applicationEngine = previousVersion;
  const past = createApplications(pastProgramme, pastJourneys, 100, d(3, 10), d(3, 28));
  completeStage(pastProgramme, 2, d(3, 30));
  startStage(pastProgramme, 4, d(4, 2));
  runPhase(past, 'draft', d(4, 5), d(4, 12));
  startStage(pastProgramme, 5, d(4, 15));
  journal.finalMeetings(pastProgramme, d(4, 16), d(4, 24), past.map((app) => ({ id: app.id, heldBefore: d(3, 10) })));
  journal.consultations(pastProgramme, d(4, 25), d(4, 30), about(past, 12));
  completeStage(pastProgramme, 3, d(5, 1));
  runPhase(past, 'submit', d(5, 2), d(5, 14));
  startStage(pastProgramme, 6, d(5, 15));
  journal.consultations(pastProgramme, d(5, 16), d(5, 30), about(past, 12));
  completeStage(pastProgramme, 4, d(6, 1));
  runPhase(past, 'review', d(6, 2), d(6, 10));
  runPhase(past, 'revise', d(6, 11), d(6, 20));
  runPhase(past, 'decide', d(6, 21), d(7, 5));
  completeStage(pastProgramme, 5, d(7, 6));
  completeStage(pastProgramme, 6, d(7, 12));
  startStage(pastProgramme, 7, d(7, 14));
  runPhase(past, 'score', d(7, 15), d(7, 27));
  // The commission meets: its decision awards or not every accepted application by the ranking, in one transaction.
  clock = d(7, 29);
  const decision = recordDecision(applicationEngine, commission[0]!, pastProgramme, {
    membersPresent: commission.map((member) => member.id),
    meeting: { heldOn: day(d(7, 29)), place: 'г. Ижевск, ул. Пастухова, 13, зал заседаний № 2', chairId: commission[0]!.id, secretaryId: commission[2]!.id },
  });
  decision.record.rows
    .filter((row) => row.allocatedKopecks > 0)
    .forEach((row, i) => {
      const running = past.find((app) => app.id === row.applicationId)!;
      running.version = db.select({ version: applications.version }).from(applications).where(sql`${applications.id} = ${row.applicationId}`).get()!.version;
      running.steps = running.replan(pastAfterAward[i] ?? 'closed').filter((step) => afterAwardPhases.has(step.phase));
    });
  // The coordinator tells every participant their result; that ticks the informing task from the delivery record (issue 12).
  clock = d(7, 31);
  stageVersions.set(`${pastProgramme}-7`, informDemoParticipants(engine, coordinator, pastProgramme));
  completeStage(pastProgramme, 7, d(8, 2), ['informing']);
  startStage(pastProgramme, 8, d(8, 3));
  applicationEngine = engine;
  runPhase(past, 'agreement', d(8, 5), d(8, 31));
  startStage(pastProgramme, 9, d(9, 2));
  runPhase(past, 'contributions', d(9, 3), d(9, 20));
  runPhase(past, 'contract', d(9, 21), d(9, 30));
  startStage(pastProgramme, 10, d(10, 1));
  startStage(pastProgramme, 11, d(10, 16));
  runPhase(past, 'works', d(10, 17), d(10, 31));
  runPhase(past, 'monitor', d(11, 2), d(11, 10));
  runPhase(past, 'works-late', d(11, 11), d(11, 19));
  runPhase(past, 'complete', d(11, 20), d(12, 5));
  startStage(pastProgramme, 12, d(12, 6));
  const finished = db.select({ id: applications.id }).from(applications).where(sql`${applications.programmeId} = ${pastProgramme} AND ${applications.state} = 'implementation.completed'`).all();
  journal.openingCeremonies(pastProgramme, new Date(d(12, 6).getTime() + 2 * HOUR), d(12, 7), finished.map((row) => row.id));
  runPhase(past, 'close', d(12, 8), d(12, 20));
  // The coordinator's conclusions for the analytical report (issue 13): a first draft, then the version the report prints.
  stageEvent(pastProgramme, 12, d(12, 21), 'record-recommendations', { text: demoRecommendations[0] });
  stageEvent(pastProgramme, 12, d(12, 23), 'record-recommendations', { text: demoRecommendations[1] });

  // This year's programme: stages 1–4 done, documentation (overdue) and intake running, 7–12 planned.
  const r = (days: number) => new Date(now.getTime() + days * DAY);
  clock = r(-305);
  const currentWindows: Record<number, [Date, Date]> = {
    1: [r(-300), r(-245)], 2: [r(-255), r(-200)], 3: [r(-215), r(-125)], 4: [r(-150), r(-92)],
    5: [r(-102), r(-7)], 6: [r(-72), r(25)], 7: [r(20), r(50)], 8: [r(45), r(120)],
    9: [r(100), r(180)], 10: [r(150), r(300)], 11: [r(160), r(330)], 12: [r(300), r(360)],
  };
  const currentProgramme = createProgramme(engine, admin, { title: `Наша инициатива — ${year}`, year, ...rules }, planOf(currentWindows)).id;
  startStage(currentProgramme, 1, r(-298));
  journal.announcements(currentProgramme, year, r(-296), r(-254));
  startStage(currentProgramme, 2, r(-252));
  journal.trainings(currentProgramme, r(-251), r(-247));
  completeStage(currentProgramme, 1, r(-246));
  startStage(currentProgramme, 3, r(-212));
  journal.preliminaryMeetings(currentProgramme, r(-211), r(-199), 10);
  completeStage(currentProgramme, 2, r(-198));
  journal.consultations(
    currentProgramme,
    r(-197),
    r(-149),
    municipalityIds.filter((_, i) => i % 3 === 0).map((municipalityId) => ({ municipalityId })),
  );
  startStage(currentProgramme, 4, r(-148));
  completeStage(currentProgramme, 3, r(-122));
  startStage(currentProgramme, 5, r(-100));
  const current = createApplications(currentProgramme, currentJourneys, 0, r(-99), r(-91));
  // Most applications come with the final meeting that chose them; the minutes were entered after the drafts were opened.
  // Two more were entered without the application's number, to be linked later from the entry's page.
  const met = applicationsOf(current, (i) => i % 6 !== 5).map((app) => ({ id: app.id, heldBefore: r(-101) }));
  const unlinked = applicationsOf(current, (i) => i % 6 === 5).slice(0, 2).map((app) => ({ id: app.id, heldBefore: r(-101), unlinked: true }));
  journal.finalMeetings(currentProgramme, new Date(r(-91).getTime() + HOUR), new Date(r(-90).getTime() - 3 * HOUR), [...met, ...unlinked]);
  completeStage(currentProgramme, 4, r(-90));
  runPhase(current, 'draft', r(-89), r(-72));
  journal.consultations(currentProgramme, new Date(r(-72).getTime() + 2 * HOUR), new Date(r(-70).getTime() - HOUR), about(current, 14));
  startStage(currentProgramme, 6, r(-70));
  runPhase(current, 'submit', r(-69), r(-45));
  runPhase(current, 'review', r(-44), r(-30));
  runPhase(current, 'revise', r(-29), r(-15));
  runPhase(current, 'decide', r(-14), r(-1));
  // The reviewers' day: a conflict of interest declared, the fresh submissions assigned (issue 16).
  seedReviewDay(db, engine, { coordinator, reviewer, reviewer2 }, currentProgramme, (moment) => (clock = moment), now);

  // Addresses, conversations and the inboxes they filled (issue 12).
  demoAddresses(db);
  seedConversations(engine, store, currentProgramme, { reviewer, coordinator, admin, applicantOf: (municipalityId) => applicants.get(municipalityId)! }, (at) => (clock = at), now);
  readOldNotifications(db, now);

  return {
    programmeIds: [pastProgramme, currentProgramme],
    applications: applicationCount,
    users: db.select({ n: sql<number>`count(*)` }).from(users).get()!.n,
    reviewerStreams: db.$client.prepare<[], { n: number }>("SELECT count(*) AS n FROM streams WHERE kind = 'reviewer'").get()!.n,
    conversations: db.$client.prepare<[], { n: number }>("SELECT count(*) AS n FROM streams WHERE kind = 'conversation'").get()!.n,
  };
}
