import { initialTransition, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { Actor, Role } from '../../src/domain/roles.ts';
import { roles } from '../../src/domain/roles.ts';
import {
  conversationEventRoles,
  conversationMachine,
  messageVisibleTo,
  whyNotConversation,
  whyNotCreateConversation,
  type ConversationContext,
  type ConversationEvent,
} from '../../machines/conversation.ts';
import { stageMachine, type StageEvent } from '../../machines/stage.ts';
import { stageDefinitions } from '../../machines/stages.ts';
import { emailByDefault, notificationKinds, plansForEvent, stageAudience, type WrittenEvent } from '../../src/workflows/notifications/rules.ts';
import { clockAfter, deadlineOf, defaultDeadlines } from '../../src/workflows/deadlines/rules.ts';
import { notificationMail, notificationText } from '../../src/workflows/notifications/texts.ts';

const AT = '2027-03-01T09:00:00.000Z';
const actor = (role: Role, id = 7, municipalityId: number | null = role === 'applicant' ? 3 : null): Actor => ({ id, login: `${role}${id}`, name: `Имя ${role}`, role, municipalityId });

const input = { applicationId: 12, municipalityId: 3, programmeId: 2, actor: actor('applicant'), at: AT };

function post(context: ConversationContext, by: Actor, payload: Record<string, unknown>, facts: Record<string, unknown> = {}): ConversationEvent {
  return { type: 'post-message', payload: { text: 'Текст', ...payload } as never, facts, actor: by, at: AT };
}

describe('the conversation machine', () => {
  const [start] = initialTransition(conversationMachine, input);
  const context = start.context as ConversationContext;

  it('opens with nothing in it, and counts each message into its seq, remembering internal notes and the staff who wrote', () => {
    expect(context).toMatchObject({ applicationId: 12, municipalityId: 3, lastSeq: 1, internal: [], staff: [] });
    const [one] = transition(conversationMachine, start, post(context, actor('applicant'), {}) as never);
    const [two] = transition(conversationMachine, one, post(one.context, actor('reviewer', 20), { internal: true }) as never);
    const [three] = transition(conversationMachine, two, post(two.context, actor('coordinator', 30), {}) as never);
    expect(three.context).toMatchObject({ lastSeq: 4, internal: [3], staff: [20, 30] });
    expect(three.value).toBe('open');
  });

  it('lets the applicants of its municipality and the staff write, and no one else', () => {
    for (const role of roles) {
      const problems = whyNotConversation(context, post(context, actor(role), {}));
      expect(problems.some((p) => p.code === 'role'), role).toBe(!conversationEventRoles['post-message'].includes(role));
    }
    expect(whyNotConversation(context, post(context, actor('applicant', 8, 4), {}))).toEqual([{ code: 'not-own-municipality' }]);
    expect(whyNotCreateConversation({ municipalityId: 3 }, {}, actor('applicant', 8, 4))).toEqual([{ code: 'not-own-municipality' }]);
    expect(whyNotCreateConversation({ municipalityId: 3 }, {}, actor('reviewer'))).toEqual([]);
  });

  it('keeps internal notes among the staff: an applicant writes none, and no public message points at one', () => {
    expect(whyNotConversation(context, post(context, actor('applicant'), { internal: true }))).toEqual([{ field: 'internal', code: 'conversation.internal-staff-only' }]);
    const withNote = { ...context, lastSeq: 3, internal: [2] };
    expect(whyNotConversation(withNote, post(withNote, actor('applicant'), { replyTo: 'message:2' }))).toEqual([{ field: 'replyTo', code: 'conversation.reply-to-internal' }]);
    expect(whyNotConversation(withNote, post(withNote, actor('reviewer'), { replyTo: 'message:2', internal: true }))).toEqual([]);
    expect(whyNotConversation(withNote, post(withNote, actor('reviewer'), { replyTo: 'message:3' }))).toEqual([]);
    expect(whyNotConversation(withNote, post(withNote, actor('reviewer'), { replyTo: 'message:9' }))).toEqual([{ field: 'replyTo', code: 'conversation.reply-unknown' }]);
    for (const role of roles) {
      expect(messageVisibleTo({ internal: true }, role), role).toBe(role !== 'applicant');
      expect(messageVisibleTo({ internal: false }, role), role).toBe(true);
    }
  });

  it('answers a remark only while the return it belongs to is open, from the applicant, in the open', () => {
    const facts = { remarks: [{ id: 'remark:9:0', field: 'costs.subsidy', text: 'Уточните.' }] };
    expect(whyNotConversation(context, post(context, actor('applicant'), { replyTo: 'remark:9:0' }, facts))).toEqual([]);
    expect(whyNotConversation(context, post(context, actor('applicant'), { replyTo: 'remark:9:1' }, facts))).toEqual([{ field: 'replyTo', code: 'conversation.remark-closed' }]);
    expect(whyNotConversation(context, post(context, actor('applicant'), { replyTo: 'remark:9:0' }, {}))).toEqual([{ field: 'replyTo', code: 'conversation.remark-closed' }]);
    expect(whyNotConversation(context, post(context, actor('reviewer'), { replyTo: 'remark:9:0' }, facts))).toEqual([{ field: 'replyTo', code: 'conversation.answer-applicants-only' }]);
  });

  it('refuses a refused message by not moving: the same snapshot comes back', () => {
    const [after] = transition(conversationMachine, start, post(context, actor('applicant'), { internal: true }) as never);
    expect(after).toBe(start);
  });
});

function written(partial: Partial<WrittenEvent> & Pick<WrittenEvent, 'machineId' | 'type'>): WrittenEvent {
  return { streamId: 'application-12', seq: 5, payload: {}, actor: { id: 20, role: 'reviewer', name: 'Рецензент' }, fromState: 'under-review', toState: 'returned', context: {}, ...partial };
}

const applicationContext = { programmeId: 2, municipalityId: 3, form: { title: 'Дорога' }, remarks: [{ field: 'general', text: 'Протокол.' }], submissions: 1 };

describe('who is concerned', () => {
  it('a return, an acceptance, a rejection, an award: the applicants of the municipality, never the one who did it', () => {
    for (const [type, kind] of [['return-for-revision', 'returned'], ['accept', 'accepted'], ['reject', 'rejected'], ['award', 'awarded'], ['not-award', 'not-awarded']] as const) {
      const plans = plansForEvent(written({ machineId: 'application', type, context: applicationContext, payload: type === 'award' ? { amountKopecks: 100 } : { reason: 'Причина' } }));
      expect(plans.map((p) => p.kind), type).toEqual([kind]);
      expect(plans[0]!.audience).toEqual([{ to: 'applicants', municipalityId: 3 }]);
      expect(plans[0]!.exclude).toEqual([20]);
      expect(plans[0]!.link).toBe('/applications/12');
    }
  });

  it('a submission and a withdrawal after it: the reviewer handling it; updates and scores: nobody', () => {
    const submit = plansForEvent(written({ machineId: 'application', type: 'submit', context: applicationContext, actor: { id: 1, role: 'applicant', name: 'А' } }));
    expect(submit.map((p) => [p.kind, p.audience])).toEqual([['submitted', [{ to: 'handling-reviewer', applicationId: 12 }]]]);
    expect(plansForEvent(written({ machineId: 'application', type: 'withdraw', fromState: 'draft', context: applicationContext }))).toEqual([]);
    expect(plansForEvent(written({ machineId: 'application', type: 'withdraw', fromState: 'submitted', context: applicationContext, payload: { reason: 'x' } })).map((p) => p.kind)).toEqual(['withdrawn']);
    for (const type of ['update', 'score', 'start-review', 'create']) expect(plansForEvent(written({ machineId: 'application', type, context: applicationContext })), type).toEqual([]);
    expect(plansForEvent(written({ machineId: 'application', type: 'review-document', context: applicationContext, payload: { verdict: 'accepted' } }))).toEqual([]);
    expect(plansForEvent(written({ machineId: 'application', type: 'review-document', context: applicationContext, payload: { verdict: 'remark', kind: 'cost-estimate' } })).map((p) => p.kind)).toEqual(['document-remark']);
  });

  it('a message: the applicants and the staff who wrote when staff writes; the staff when the applicant writes; an internal note never the applicants', () => {
    const context = { applicationId: 12, municipalityId: 3, programmeId: 2, lastSeq: 4, internal: [], staff: [20, 30] };
    const byStaff = plansForEvent(written({ machineId: 'conversation', streamId: 'conversation-12', type: 'post-message', context, payload: { text: 'Добрый день' } }));
    expect(byStaff.map((p) => [p.kind, p.audience])).toEqual([['message', [{ to: 'applicants', municipalityId: 3 }, { to: 'users', ids: [20, 30] }]]]);
    const byApplicant = plansForEvent(written({ machineId: 'conversation', streamId: 'conversation-12', type: 'post-message', context, actor: { id: 1, role: 'applicant', name: 'А' }, payload: { text: 'Вопрос', replyTo: 'remark:9:0' } }));
    expect(byApplicant.map((p) => [p.kind, p.audience])).toEqual([['remark-answer', [{ to: 'users', ids: [20, 30] }, { to: 'handling-reviewer', applicationId: 12 }]]]);
    const note = plansForEvent(written({ machineId: 'conversation', streamId: 'conversation-12', type: 'post-message', context, payload: { text: 'Заметка', internal: true } }));
    expect(note[0]!.kind).toBe('internal-note');
    expect(note[0]!.audience.some((a) => a.to === 'applicants' || (a.to === 'role' && a.role === 'applicant'))).toBe(false);
    expect(note[0]!.link).toBe('/applications/12#message-5');
  });

  it('a stage that starts: the roles that act in it', () => {
    expect(stageAudience('intake').sort()).toEqual(['applicant', 'coordinator', 'reviewer']);
    expect(stageAudience('commission')).toEqual(['commission']);
    expect(stageAudience('preparation')).toEqual([]);
    const plans = plansForEvent(written({ machineId: 'stage', streamId: 'stage-2-6', type: 'start', context: { programmeId: 2, no: 6, key: 'intake', plannedEnd: '2027-05-01' }, actor: { id: 30, role: 'coordinator', name: 'К' } }));
    expect(plans[0]).toMatchObject({ kind: 'stage-started', link: '/programmes/2/stages/6', exclude: [30] });
    expect(plansForEvent(written({ machineId: 'stage', streamId: 'stage-2-1', type: 'start', context: { programmeId: 2, no: 1, key: 'preparation' } }))).toEqual([]);
  });

  it('every kind has an e-mail default, and only the award and its refusal wait for the result letter', () => {
    expect(notificationKinds.filter((kind) => !emailByDefault(kind))).toEqual(['awarded', 'not-awarded']);
  });
});

describe('the texts', () => {
  it('are in the reader’s language, with the amount in roubles and the reason in words', () => {
    const ru = notificationText('ru', 'result', { id: 5, title: 'Дорога', outcome: 'awarded', amountKopecks: 120_000_000 });
    expect(ru.title).toBe('Итоги конкурса: заявка № 5');
    expect(ru.body).toContain('победитель конкурса, субсидия 1\u00a0200\u00a0000,00 ₽');
    const en = notificationText('en', 'result', { id: 5, title: 'Road', outcome: 'not-awarded', why: 'over-remainder', rank: 7, count: 9 });
    expect(en.body).toContain('not awarded.');
    expect(en.body).toContain('7');
    const mail = notificationMail('ru', 'message', { id: 5, seq: 2, author: 'Анна', excerpt: '<b>вопрос</b> & ответ' }, 'https://isu.example.org/applications/5#message-2');
    expect(mail.subject).toBe('ИСУ ИБ: Новое сообщение по заявке № 5');
    expect(mail.text).toContain('https://isu.example.org/applications/5#message-2');
    expect(mail.html).toContain('&lt;b&gt;вопрос&lt;/b&gt; &amp; ответ');
    expect(mail.html).not.toContain('<b>вопрос');
  });
});

describe('deadlines', () => {
  it('a submission starts the review clock, a return the answer clock, a decision stops it', () => {
    expect(['submit', 'return-for-revision', 'accept', 'reject', 'withdraw', 'update', 'start-review'].map(clockAfter)).toEqual(['review', 'answer', 'stop', 'stop', 'stop', 'keep', 'keep']);
  });

  it('count whole days left, soon within the reminder window, overdue after', () => {
    const day = 24 * 60 * 60 * 1000;
    const start = Date.parse(AT);
    expect(deadlineOf('review', AT, defaultDeadlines, new Date(start))).toMatchObject({ daysLeft: 10, soon: false, overdue: false, dueAt: '2027-03-11T09:00:00.000Z' });
    expect(deadlineOf('review', AT, defaultDeadlines, new Date(start + 8.5 * day))).toMatchObject({ daysLeft: 2, soon: true, overdue: false });
    expect(deadlineOf('answer', AT, defaultDeadlines, new Date(start + 15 * day))).toMatchObject({ daysLeft: -1, soon: false, overdue: true });
  });
});

describe('the informing task of stage 7', () => {
  const commission = stageDefinitions.find((d) => d.key === 'commission')!;
  const coordinator = actor('coordinator', 30);
  const [planned] = initialTransition(stageMachine, { programmeId: 1, no: 7, key: 'commission', tasks: [...commission.tasks], actor: actor('admin'), at: AT });
  const [active] = transition(stageMachine, planned, { type: 'start', payload: {}, facts: { previousState: 'completed' }, actor: coordinator, at: AT } as never);
  const tick = (informing: unknown) => transition(stageMachine, active, { type: 'complete-task', payload: { task: 'informing' }, facts: { informing }, actor: coordinator, at: AT } as StageEvent as never)[0];
  const record = { total: 3, emailed: 2, failed: 1, pending: 0, inboxOnly: 0, sentAt: AT };

  it('is ticked from a settled delivery record, which the stage keeps', () => {
    const ticked = tick(record);
    expect(ticked.context.tasks.find((t: { key: string }) => t.key === 'informing')).toMatchObject({ done: true, doneBy: coordinator.name });
    expect(ticked.context.informed).toEqual({ ...record, at: AT });
  });

  it('is not ticked while nobody was informed or an e-mail is on its way', () => {
    expect(tick({ ...record, total: 0, emailed: 0, failed: 0 })).toBe(active);
    expect(tick({ ...record, pending: 1 })).toBe(active);
  });
});
