import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { municipalities, programmes, users } from '../db/schema.ts';
import type { ApplicationForm, Remark } from '../domain/application.ts';
import type { Actor, Role } from '../domain/roles.ts';
import { hashPassword } from '../accounts/passwords.ts';
import { Engine } from '../engine/engine.ts';
import { createApplication, installApplicationHooks, sendApplicationEvent } from '../engine/applications.ts';
import { demoMunicipalities, demoProjects, demoReasons, demoRemarks } from './data.ts';

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
type Journey =
  | 'draft-incomplete'
  | 'draft'
  | 'submitted'
  | 'under-review'
  | 'returned'
  | 'resubmitted'
  | 'accepted'
  | 'accepted-after-return'
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

const pastJourneys: Journey[] = [
  ...Array<Journey>(2).fill('awarded'),
  ...Array<Journey>(5).fill('not-awarded'),
  ...Array<Journey>(2).fill('agreement'),
  ...Array<Journey>(2).fill('co-financing'),
  ...Array<Journey>(2).fill('procurement'),
  ...Array<Journey>(3).fill('works'),
  ...Array<Journey>(3).fill('completed'),
  ...Array<Journey>(8).fill('closed'),
  ...Array<Journey>(2).fill('terminated'),
  ...Array<Journey>(2).fill('rejected'),
];

export const DEMO_PASSWORD = 'demo';

export interface DemoSummary {
  programmeIds: number[];
  applications: number;
  users: number;
}

export function isEmpty(db: Db): boolean {
  return db.select({ n: sql<number>`count(*)` }).from(users).get()!.n === 0;
}

/**
 * Seeds the demo: the current year's programme in the middle of its intake, last year's finished
 * one, real municipalities of Udmurtia, the demo users and applications whose histories were made
 * by sending real events through the engine at realistic moments, so that they replay and verify.
 */
export async function seedDemo(db: Db, options: { now?: Date } = {}): Promise<DemoSummary> {
  const now = options.now ?? new Date();
  const year = now.getUTCFullYear();
  let clock = now;
  const engine = new Engine(db, { now: () => clock });
  installApplicationHooks(engine);
  const rng = random(year);
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const createdAt = new Date(now.getTime() - 400 * DAY).toISOString();

  const municipalityIds = demoMunicipalities.map(
    (m) => db.insert(municipalities).values({ name: m.name, kind: m.kind, population: m.population }).returning().get().id,
  );

  const addUser = (login: string, name: string, role: Role, municipalityId: number | null = null): Actor => {
    const row = db.insert(users).values({ login, name, role, municipalityId, passwordHash, createdAt }).returning().get();
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

  const addProgramme = (programmeYear: number) =>
    db
      .insert(programmes)
      .values({
        title: `Наша инициатива — ${programmeYear}`,
        year: programmeYear,
        region: 'Удмуртская Республика',
        timeZone: 'Europe/Samara',
        fundKopecks: 6_000_000_000,
        capKopecks: 150_000_000,
        minLocalShareBp: 500,
        minResidentsShareBp: 300,
        createdAt,
      })
      .returning()
      .get().id;
  const pastProgramme = addProgramme(year - 1);
  const currentProgramme = addProgramme(year);

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

  let applicationCount = 0;
  const run = (journey: Journey, index: number, programmeId: number, start: Date, end: Date) => {
    // Every other application belongs to applicant1 or applicant2, so that both demo users meet every state.
    const municipalityIndex = index % 4 < 2 ? applicantIndexes[index % 2]! : rng.int(0, municipalityIds.length - 1);
    const municipalityId = municipalityIds[municipalityIndex]!;
    const applicant = applicants.get(municipalityId)!;
    const pastStages = ['awarded', 'not-awarded', 'agreement', 'co-financing', 'procurement', 'works', 'completed', 'closed', 'terminated'];
    const steps = 6 + (pastStages.includes(journey) ? 14 : 0);
    const span = end.getTime() - start.getTime();
    let tick = 0;
    const advance = () => {
      tick += 1;
      const base = start.getTime() + (span * tick) / (steps + 2);
      clock = new Date(base + rng.int(0, 6) * HOUR + rng.int(0, 59) * 60_000);
    };
    advance();
    const complete = journey !== 'draft-incomplete';
    const form = formFor(index, municipalityIndex, complete);
    // Drafts start with the essentials and grow by update events, so that the log holds every version.
    const { description, durationMonths, ...firstDraft } = form;
    const created = createApplication(engine, applicant, { programmeId, form: firstDraft });
    applicationCount += 1;
    const id = created.id;
    let version = created.version;
    const send = (actor: Actor, type: string, payload: unknown = {}) => {
      advance();
      version = sendApplicationEvent(engine, actor, id, type, payload, version).version;
    };
    if (complete) send(applicant, 'update', { description, durationMonths });
    if (journey === 'draft-incomplete' || journey === 'draft') return;
    if (journey === 'withdrawn' && index % 2 === 0) return send(applicant, 'withdraw', { reason: rng.pick(demoReasons.withdraw) });
    send(applicant, 'submit');
    if (journey === 'submitted') return;
    if (journey === 'withdrawn') return send(applicant, 'withdraw', { reason: rng.pick(demoReasons.withdraw) });
    const desk = index % 3 === 0 ? reviewer2 : reviewer;
    send(desk, 'start-review');
    if (journey === 'under-review') return;
    const revisedAfterReturn = journey === 'returned' || journey === 'resubmitted' || journey === 'accepted-after-return' || index % 4 === 0;
    if (revisedAfterReturn) {
      const remarks: Remark[] = [rng.pick(demoRemarks), rng.pick(demoRemarks)]
        .filter((r, i, all) => all.findIndex((o) => o.field === r.field) === i)
        .map((r) => ({ field: r.field as Remark['field'], text: r.text }));
      send(desk, 'return-for-revision', { remarks });
      if (journey === 'returned') return;
      send(applicant, 'update', { beneficiaries: Math.max(10, (form.beneficiaries ?? 100) - rng.int(1, 40)) });
      send(applicant, 'submit');
      if (journey === 'resubmitted') return;
      send(desk, 'start-review');
    }
    if (journey === 'rejected') return send(desk, 'reject', { reason: rng.pick(demoReasons.reject) });
    send(desk, 'accept', {});
    if (journey === 'accepted' || journey === 'accepted-after-return') return;
    for (const member of commission) send(member, 'score', { significance: rng.int(2, 5) });
    if (journey === 'not-awarded') return send(commission[0]!, 'not-award', {});
    send(commission[0]!, 'award', { amountKopecks: form.costs!.subsidy! });
    if (journey === 'awarded') return;
    send(coordinator, 'start-implementation');
    if (journey === 'agreement') return;
    send(coordinator, 'sign-agreement', { agreementNo: `С-${year - 1}/${String(id).padStart(3, '0')}` });
    if (journey === 'co-financing') return;
    send(coordinator, 'confirm-contributions');
    if (journey === 'procurement') return;
    send(coordinator, 'sign-contract', { contractor: `ООО «${rng.pick(['Стройсервис', 'УдмуртДорСтрой', 'Водоканал-Сервис', 'Монолит', 'Светотехника'])}»`, priceKopecks: Math.round((form.costs!.subsidy! * 95) / 100) });
    if (journey === 'terminated') return send(coordinator, 'terminate', { reason: rng.pick(demoReasons.terminate) });
    send(applicant, 'report-progress', { percent: 40 });
    send(coordinator, 'record-monitoring', { finding: 'Работы ведутся по графику, замечаний нет.' });
    send(applicant, 'report-progress', { percent: 85 });
    if (journey === 'works') return;
    send(coordinator, 'complete-works');
    if (journey === 'completed') return;
    send(coordinator, 'record-monitoring', { finding: 'Объект введён в эксплуатацию, используется жителями.' });
    send(coordinator, 'close');
  };

  const pastStart = new Date(Date.UTC(year - 1, 2, 1));
  const pastEnd = new Date(Date.UTC(year - 1, 11, 10));
  pastJourneys.forEach((journey, i) => run(journey, i + 100, pastProgramme, pastStart, pastEnd));
  const currentStart = new Date(now.getTime() - 75 * DAY);
  const currentEnd = new Date(now.getTime() - 2 * HOUR);
  currentJourneys.forEach((journey, i) => run(journey, i, currentProgramme, currentStart, currentEnd));
  return {
    programmeIds: [pastProgramme, currentProgramme],
    applications: applicationCount,
    users: db.select({ n: sql<number>`count(*)` }).from(users).get()!.n,
  };
}
