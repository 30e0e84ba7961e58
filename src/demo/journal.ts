import type { Db } from '../db/client.ts';
import type { Actor } from '../domain/roles.ts';
import type { Engine } from '../engine/engine.ts';
import { recordJournalEntry, type JournalUpload } from '../workflows/journal/commands.ts';
import type { DocumentStore } from '../workflows/documents/store.ts';
import { demoMunicipalities } from './data.ts';
import { demoPhotoPng, minimalPdf } from './documents.ts';

/**
 * The demo's programme journal (issue 14), made through the engine like everything else:
 * announcements, two trainings, preliminary meetings, final meetings in the municipalities that
 * applied (linked to the applications they produced), a few dozen consultations and, last year,
 * the opening ceremonies of the finished projects. The seed calls each part in a window of its
 * calendar in which the stage that owns the kind is active, before that stage completes.
 */

const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

/** Its own generator, so that the journal does not shift the random choices of the rest of the demo. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)), pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]! };
}

const topics = [
  { topic: 'Состав конкурсной документации', question: 'Какие документы прикладывать к заявке, если собрание проводили в двух деревнях?', answer: 'Протокол и лист регистрации по каждому собранию; в заявке указать общее число участников.' },
  { topic: 'Софинансирование жителей', question: 'Можно ли собирать вклад жителей наличными?', answer: 'Да, под ведомость с подписями; деньги вносятся в бюджет поселения до заключения соглашения.' },
  { topic: 'Смета', question: 'Кто согласует смету на ремонт колодца?', answer: 'Смету подписывает глава поселения, проверку достоверности делает сметный отдел района.' },
  { topic: 'Выбор проекта', question: 'Можно ли вынести на итоговое собрание два проекта?', answer: 'Да, голосуют за каждый; на конкурс подаётся проект, набравший больше голосов.' },
  { topic: 'Работа в системе', question: 'Как исправить заявку после замечаний консультанта?', answer: 'Откройте заявку, нажмите «Изменить», исправьте поля с замечаниями и подайте заново.' },
  { topic: 'Фотоматериалы', question: 'Какие фото объекта нужны?', answer: 'Общий план и детали проблемы, в формате JPEG или PNG, не старше трёх месяцев.' },
  { topic: 'Вклад бизнеса', question: 'Как оформить участие индивидуального предпринимателя?', answer: 'Гарантийным письмом с суммой вклада; письмо прикладывается к заявке.' },
  { topic: 'Сроки', question: 'До какого числа принимаются заявки?', answer: 'До окончания этапа приёма, даты опубликованы в объявлении о конкурсе.' },
];

const problemsDiscussed = [
  'Нет водоснабжения в частном секторе, колодцы пересыхают летом.',
  'Разбитая дорога к школе и ФАПу, в распутицу не проехать.',
  'Нет уличного освещения на центральной улице.',
  'Дому культуры нужен ремонт кровли и зрительного зала.',
  'Детям негде играть: нет детской площадки.',
  'Стихийные свалки у въезда в деревню.',
];

export interface DemoJournalContext {
  db: Db;
  engine: Engine;
  store: DocumentStore;
  coordinator: Actor;
  consultants: readonly Actor[];
  /** Moves the seed's clock: every entry is recorded at a moment of the programme's calendar. */
  setClock: (at: Date) => void;
  seed: number;
}

export function demoJournal(context: DemoJournalContext) {
  const { db, engine, store, coordinator, consultants, setClock } = context;
  const rng = random(context.seed ^ 0x1a2b3c);
  const municipalityIds = db.$client.prepare<[], { id: number; name: string }>('SELECT id, name FROM municipalities ORDER BY id').all();
  const settlementsOf = (municipalityId: number) => {
    const name = municipalityIds.find((m) => m.id === municipalityId)?.name;
    return demoMunicipalities.find((m) => m.name === name)?.settlements ?? [{ name: 'центр', population: 1000 }];
  };
  const day = (at: Date) => at.toISOString().slice(0, 10);

  /** `count` moments spread over the window, in working hours (09:00–18:00 in Izhevsk), strictly increasing. */
  function moments(from: Date, to: Date, count: number): Date[] {
    const result: Date[] = [];
    let last = from.getTime();
    for (let i = 1; i <= count; i += 1) {
      const even = from.getTime() + ((to.getTime() - from.getTime()) * i) / (count + 1);
      const midnight = Math.floor(even / DAY) * DAY;
      const working = midnight + 5 * HOUR + ((even - midnight) / DAY) * 9 * HOUR;
      const at = Math.min(to.getTime(), Math.max(working, from.getTime(), last + 60_000));
      result.push(new Date(at));
      last = at;
    }
    return result;
  }

  const bytesOf = (bytes: Buffer, name: string, role: string): JournalUpload => ({ role, fileName: name, received: store.receiveBytes(bytes) });
  const record = (actor: Actor, programmeId: number, kind: string, fields: Record<string, unknown>, files: JournalUpload[] = []) =>
    recordJournalEntry(engine, store, actor, programmeId, { kind, fields }, files);

  return {
    announcements(programmeId: number, year: number, from: Date, to: Date): void {
      const items = [
        { channel: 'site', title: `Объявлен конкурсный отбор проектов «Наша инициатива — ${year}»`, link: 'https://udmurt.ru/' },
        { channel: 'newspaper', title: 'Статья в газете «Известия Удмуртской Республики»', text: 'Порядок участия, сроки этапов, требования к софинансированию.' },
        { channel: 'social-network', title: 'Публикация в сообществе программы', link: 'https://vk.com/' },
      ];
      moments(from, to, items.length).forEach((at, i) => {
        setClock(at);
        const item = items[i]!;
        const files = i === 0 ? [bytesOf(minimalPdf('Obyavlenie o konkursnom otbore', [item.title, `Srok podachi zaiavok: do ${day(new Date(at.getTime() + 120 * DAY))}`]), 'Объявление.pdf', 'materials')] : [];
        record(coordinator, programmeId, 'announcement', { date: day(at), ...item }, files);
      });
    },

    trainings(programmeId: number, from: Date, to: Date): void {
      const all = municipalityIds.map((m) => m.id);
      const trainings = [
        { topic: 'Инициативное бюджетирование: порядок и сроки для органов местного самоуправления', format: 'in-person', place: 'Ижевск, Дом Правительства, зал 2', municipalityIds: all.filter((_, i) => i % 3 !== 2) },
        { topic: 'Как подготовить заявку и провести собрание жителей: для инициативных групп', format: 'online', municipalityIds: all.filter((_, i) => i % 4 !== 3) },
      ];
      moments(from, to, trainings.length).forEach((at, i) => {
        setClock(at);
        const training = trainings[i]!;
        const participants = training.municipalityIds.length * rng.int(2, 4);
        const materials = bytesOf(minimalPdf('Materialy seminara', [training.topic, `Uchastnikov: ${participants}`]), `Материалы семинара ${i + 1}.pdf`, 'materials');
        record(coordinator, programmeId, 'training', { date: day(at), participants, ...training }, [materials]);
      });
    },

    preliminaryMeetings(programmeId: number, from: Date, to: Date, count: number): void {
      moments(from, to, count).forEach((at, i) => {
        setClock(at);
        const municipality = municipalityIds[(i * 7) % municipalityIds.length]!;
        const settlement = rng.pick(settlementsOf(municipality.id));
        record(consultants[i % consultants.length]!, programmeId, 'preliminary-meeting', {
          municipalityId: municipality.id,
          settlement: settlement.name,
          date: day(new Date(at.getTime() - rng.int(1, 6) * DAY)),
          attendance: Math.max(12, Math.round(Math.min(settlement.population, 2000) * (0.03 + rng.next() * 0.05))),
          problems: rng.pick(problemsDiscussed),
        });
      });
    },

    /** A final meeting for each application given (the meeting that produced it), held some days before it, linked to it unless `unlinked` (the number was not known yet). */
    finalMeetings(programmeId: number, from: Date, to: Date, applications: readonly { id: number; heldBefore: Date; unlinked?: boolean }[]): void {
      const rows = db.$client.prepare<[number], { municipalityId: number; title: string; settlement: string | null; meetingAttendance: number | null; residents: number | null }>(
        `SELECT a.municipality_id AS municipalityId, a.title, a.settlement, s.meeting_attendance AS meetingAttendance, s.residents_kopecks AS residents
         FROM applications a LEFT JOIN application_scoring s ON s.application_id = a.id WHERE a.id = ?`,
      );
      moments(from, to, applications.length).forEach((at, i) => {
        setClock(at);
        const application = applications[i]!;
        const row = rows.get(application.id)!;
        const attendance = Math.max(15, row.meetingAttendance ?? 40);
        const held = day(new Date(Math.min(application.heldBefore.getTime(), at.getTime()) - rng.int(2, 9) * DAY));
        const settlement = row.settlement ?? rng.pick(settlementsOf(row.municipalityId)).name;
        const minutes = minimalPdf('Protokol itogovogo sobraniia zhitelei', [`Naselennyi punkt: ${settlement}`, `Prisutstvovali: ${attendance} chel.`, `Reshili: ${row.title}`]);
        const sheet = minimalPdf('List registratsii uchastnikov sobraniia', [`Naselennyi punkt: ${settlement}`, `Zaregistrirovano: ${attendance}`]);
        record(coordinator, programmeId, 'final-meeting', {
          municipalityId: row.municipalityId,
          settlement,
          date: held,
          attendance,
          project: row.title || 'Проект выбран жителями',
          ...((row.residents ?? 0) > 0 ? { pledgeKopecks: row.residents } : {}),
          ...(application.unlinked ? {} : { applicationId: application.id }),
        }, [bytesOf(minutes, 'Протокол итогового собрания.pdf', 'minutes'), bytesOf(sheet, 'Лист регистрации.pdf', 'attendance-sheet')]);
      });
    },

    consultations(programmeId: number, from: Date, to: Date, about: readonly { municipalityId: number; applicationId?: number }[]): void {
      moments(from, to, about.length).forEach((at, i) => {
        setClock(at);
        const target = about[i]!;
        const consultant = consultants[i % consultants.length]!;
        const item = topics[(i * 5 + target.municipalityId) % topics.length]!;
        record(consultant, programmeId, 'consultation', {
          municipalityId: target.municipalityId,
          ...(target.applicationId !== undefined ? { applicationId: target.applicationId } : {}),
          date: day(at),
          channel: (['phone', 'visit', 'online', 'email'] as const)[(i + target.municipalityId) % 4],
          consultant: consultant.name,
          ...item,
        });
      });
    },

    openingCeremonies(programmeId: number, from: Date, to: Date, applicationIds: readonly number[]): void {
      moments(from, to, applicationIds.length).forEach((at, i) => {
        setClock(at);
        const photos = bytesOf(demoPhotoPng(900 + i), 'Открытие объекта.png', 'photos');
        record(coordinator, programmeId, 'opening-ceremony', { applicationId: applicationIds[i]!, date: day(at), participants: rng.int(40, 220) }, [photos]);
      });
    },
  };
}
