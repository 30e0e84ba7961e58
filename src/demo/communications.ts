import type { Db } from '../db/client.ts';
import type { Actor } from '../domain/roles.ts';
import type { Engine } from '../engine/engine.ts';
import { postMessage, postMessageWithFile, attachmentFromBytes } from '../workflows/conversation/commands.ts';
import { latestReturnSeq, remarkId } from '../workflows/conversation/reads.ts';
import { saveDeadlineSettings } from '../workflows/deadlines/settings.ts';
import { informParticipants } from '../workflows/informing/rounds.ts';
import { inboxOnly } from '../workflows/index.ts';
import type { DocumentStore } from '../workflows/documents/store.ts';
import type { ApplicationContext } from '../../machines/application.ts';
import { minimalPdf } from './documents.ts';

/**
 * The demo's communications (issue 12), made through the engine like everything else: every demo
 * user has an address at example.org, last year's participants were told their results, and this
 * year's applications carry conversations — questions, answers to remarks in place, a file, and
 * internal notes the applicants never see. The notifications these events caused are the demo
 * users' inboxes; those older than a fortnight are read.
 */

const DAY = 24 * 60 * 60 * 1000;
const MINUTE = 60_000;

/** Every demo user gets `<login>@example.org`. */
export function demoAddresses(db: Db): void {
  db.$client.prepare("UPDATE users SET email = login || '@example.org'").run();
}

/** Last year's coordinator tells the participants their results, which ticks stage 7's informing task; returns the stage's version. */
export function informDemoParticipants(engine: Engine, coordinator: Actor, programmeId: number): number {
  informParticipants(engine, inboxOnly, coordinator, programmeId);
  return engine.db.$client.prepare<[number], { version: number }>("SELECT version FROM stages WHERE programme_id = ? AND key = 'commission'").get(programmeId)!.version;
}

interface DemoApplication {
  id: number;
  streamId: string;
  municipalityId: number;
  state: string;
}

export interface CommunicationActors {
  reviewer: Actor;
  coordinator: Actor;
  admin: Actor;
  applicantOf: (municipalityId: number) => Actor;
}

/** The conversations of this year's applications, at plausible moments in the last days before `now`. */
export function seedConversations(engine: Engine, store: DocumentStore, programmeId: number, actors: CommunicationActors, setClock: (at: Date) => void, now: Date): number {
  const db = engine.db;
  saveDeadlineSettings(db, actors.admin, programmeId, { reviewDays: 10, answerDays: 14, remindDays: 2 }, now);
  const byState = (state: string) =>
    db.$client
      .prepare<[number, string], DemoApplication>('SELECT id, stream_id AS streamId, municipality_id AS municipalityId, state FROM applications WHERE programme_id = ? AND state = ? ORDER BY id')
      .all(programmeId, state);
  let at = now.getTime() - 3 * DAY;
  const tick = () => {
    at += 47 * MINUTE;
    setClock(new Date(at));
  };
  let messages = 0;
  const say = (actor: Actor, id: number, text: string, extra: { replyTo?: string; internal?: boolean } = {}) => {
    tick();
    messages += 1;
    return postMessage(engine, actor, id, { text, ...extra }).seq;
  };

  // Returned: the applicant answers the first remark in place and asks about another; the reviewer answers.
  byState('returned').slice(0, 4).forEach((app, i) => {
    const applicant = actors.applicantOf(app.municipalityId);
    const returnSeq = latestReturnSeq(db, app.streamId);
    const context = (JSON.parse(engine.loadStream(app.streamId)!.snapshot) as { context: ApplicationContext }).context;
    if (returnSeq !== null && context.remarks.length > 0) {
      say(applicant, app.id, i % 2 === 0 ? 'Исправили: уточнённая смета приложена, цены приведены к текущему году.' : 'Сделали: численность благополучателей пересчитана по данным сельсовета.', { replyTo: remarkId(returnSeq, 0) });
    }
    if (i < 2) {
      const question = say(applicant, app.id, 'Подскажите, нужно ли заново собирать подписи жителей, если меняется только смета?');
      say(actors.reviewer, app.id, 'Нет, подписи собирать заново не нужно: достаточно исправленной сметы и выписки из бюджета.', { replyTo: `message:${question}` });
    }
  });

  // Under review: an internal note between the staff and a question with a file from the applicant.
  byState('under-review').slice(0, 3).forEach((app, i) => {
    const applicant = actors.applicantOf(app.municipalityId);
    say(actors.reviewer, app.id, 'Смета выше средней по району для такого типа проектов: прошу координатора посмотреть до решения.', { internal: true });
    say(actors.coordinator, app.id, 'Посмотрел: удорожание объясняется доставкой материалов, замечаний нет.', { internal: true });
    if (i === 0) {
      tick();
      messages += 1;
      postMessageWithFile(engine, store, applicant, app.id, { text: 'Прикладываем коммерческое предложение подрядчика, на которое опирается смета.' }, attachmentFromBytes(store, 'Коммерческое предложение.pdf', minimalPdf('Коммерческое предложение', ['Стоимость работ и материалов с доставкой', 'Действительно 60 дней'])));
    }
  });

  // Submitted: the applicant asks when the review will be; the coordinator answers.
  byState('submitted').slice(0, 2).forEach((app) => {
    const applicant = actors.applicantOf(app.municipalityId);
    const question = say(applicant, app.id, 'Когда можно ожидать результатов проверки нашей заявки?');
    say(actors.coordinator, app.id, 'Заявки проверяются в порядке подачи, срок проверки — десять дней. Ответим здесь же.', { replyTo: `message:${question}` });
  });
  return messages;
}

/** Notifications older than a fortnight have been read by their users: the inboxes look lived in. */
export function readOldNotifications(db: Db, now: Date): void {
  db.$client.prepare("UPDATE notifications SET read_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+1 day') WHERE read_at IS NULL AND created_at < ?").run(new Date(now.getTime() - 14 * DAY).toISOString());
}
