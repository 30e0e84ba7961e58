import type { Role } from '../../domain/roles.ts';
import { applicationEventRoles, type ApplicationContext } from '../../../machines/application.ts';
import type { ConversationContext, PostMessagePayload } from '../../../machines/conversation.ts';
import { stageDefinition } from '../../../machines/stages.ts';
import type { StageContext } from '../../../machines/stage.ts';

/**
 * Who is concerned by what (issue 12): pure rules from an event, as the engine wrote it, to the
 * notifications it causes and their audiences. The outbox resolves an audience to users and
 * writes the rows in the event's own transaction; nothing here reads the database.
 */

export const notificationKinds = [
  'submitted',
  'returned',
  'accepted',
  'rejected',
  'withdrawn',
  'document-remark',
  'awarded',
  'not-awarded',
  'terminated',
  'message',
  'internal-note',
  'remark-answer',
  'stage-started',
  'stage-closing',
  'review-due',
  'review-overdue',
  'answer-due',
  'answer-overdue',
  'result',
] as const;
export type NotificationKind = (typeof notificationKinds)[number];

export function isNotificationKind(value: unknown): value is NotificationKind {
  return typeof value === 'string' && (notificationKinds as readonly string[]).includes(value);
}

/**
 * Whether a kind goes out by e-mail when the user has said nothing: yes, except the award and its
 * refusal, because the formal letter with the result and the protocol follows them (`result`).
 */
export function emailByDefault(kind: NotificationKind): boolean {
  return kind !== 'awarded' && kind !== 'not-awarded';
}

/** The people a notification is for, before they are looked up. */
export type Audience =
  /** The active applicants of one municipality. */
  | { to: 'applicants'; municipalityId: number }
  /** Every active user of a role. */
  | { to: 'role'; role: Role }
  /** The reviewer assigned to the application (or who last took it up), or every reviewer when none is. */
  | { to: 'handling-reviewer'; applicationId: number }
  | { to: 'users'; ids: readonly number[] };

export interface NotificationPlan {
  kind: NotificationKind;
  audience: Audience[];
  /** Codes and values the texts are made of, rendered in each reader's language. */
  params: Record<string, string | number>;
  link: string;
  programmeId: number | null;
  applicationId: number | null;
  /** Never told of one's own act. */
  exclude: readonly number[];
}

/** An event as the engine stored it, parsed: what the rules look at. */
export interface WrittenEvent {
  machineId: string;
  streamId: string;
  type: string;
  seq: number;
  payload: Record<string, unknown>;
  actor: { id: number; role: Role; name: string };
  fromState: string | null;
  toState: string;
  /** The stream's context after the event. */
  context: unknown;
}

const applicationIdOf = (streamId: string): number => Number(streamId.slice('application-'.length));

/** What each application event tells its applicants, by kind. */
const toApplicants: Partial<Record<string, NotificationKind>> = {
  'return-for-revision': 'returned',
  accept: 'accepted',
  reject: 'rejected',
  award: 'awarded',
  'not-award': 'not-awarded',
  terminate: 'terminated',
};

function applicationPlans(event: WrittenEvent): NotificationPlan[] {
  const context = event.context as ApplicationContext;
  const id = applicationIdOf(event.streamId);
  const base = {
    params: { id, title: context.form.title ?? '' } as Record<string, string | number>,
    link: `/applications/${id}`,
    programmeId: context.programmeId,
    applicationId: id,
    exclude: [event.actor.id],
  };
  const applicants: Audience = { to: 'applicants', municipalityId: context.municipalityId };
  const kind = toApplicants[event.type];
  if (kind) {
    const params = { ...base.params };
    if (typeof event.payload.reason === 'string') params.reason = event.payload.reason;
    if (typeof event.payload.amountKopecks === 'number') params.amountKopecks = event.payload.amountKopecks;
    if (event.type === 'return-for-revision') params.remarks = context.remarks.length;
    return [{ ...base, params, kind, audience: [applicants] }];
  }
  if (event.type === 'review-document' && event.payload.verdict === 'remark') {
    return [{ ...base, kind: 'document-remark', params: { ...base.params, document: String(event.payload.kind ?? '') }, link: `${base.link}#documents`, audience: [applicants] }];
  }
  if (event.type === 'submit') {
    return [{ ...base, kind: 'submitted', params: { ...base.params, submissions: context.submissions }, audience: [{ to: 'handling-reviewer', applicationId: id }] }];
  }
  // A draft withdrawn concerned nobody yet; one that was submitted concerns its reviewer.
  if (event.type === 'withdraw' && event.fromState !== 'draft') {
    return [{ ...base, kind: 'withdrawn', params: { ...base.params, reason: String(event.payload.reason ?? '') }, audience: [{ to: 'handling-reviewer', applicationId: id }] }];
  }
  return [];
}

function conversationPlans(event: WrittenEvent): NotificationPlan[] {
  if (event.type !== 'post-message') return [];
  const context = event.context as ConversationContext;
  const payload = event.payload as PostMessagePayload;
  const id = context.applicationId;
  const staff: Audience = { to: 'users', ids: context.staff };
  const reviewer: Audience = { to: 'handling-reviewer', applicationId: id };
  const answer = payload.replyTo?.startsWith('remark:') ?? false;
  const kind: NotificationKind = payload.internal ? 'internal-note' : answer ? 'remark-answer' : 'message';
  // An internal note stays among the staff, whoever else the thread has.
  const audience: Audience[] = payload.internal
    ? [staff, reviewer]
    : event.actor.role === 'applicant'
      ? [staff, reviewer]
      : [{ to: 'applicants', municipalityId: context.municipalityId }, staff];
  return [
    {
      kind,
      audience,
      params: { id, seq: event.seq, author: event.actor.name, excerpt: excerpt(payload.text) },
      link: `/applications/${id}#message-${event.seq}`,
      programmeId: context.programmeId,
      applicationId: id,
      exclude: [event.actor.id],
    },
  ];
}

/** The roles that act in a stage: whoever may send an application event it owns. */
export function stageAudience(key: string): Role[] {
  const owned = stageDefinition(key)?.ownsEvents ?? [];
  const roles = new Set<Role>();
  for (const type of owned) {
    const senders = type === 'create' ? (['applicant'] as const) : (applicationEventRoles[type as keyof typeof applicationEventRoles] ?? []);
    for (const role of senders) roles.add(role);
  }
  return [...roles];
}

function stagePlans(event: WrittenEvent): NotificationPlan[] {
  if (event.type !== 'start') return [];
  const context = event.context as StageContext;
  const roles = stageAudience(context.key);
  if (roles.length === 0) return [];
  return [
    {
      kind: 'stage-started',
      audience: roles.map((role) => ({ to: 'role', role })),
      params: { stage: context.key, no: context.no, plannedEnd: context.plannedEnd ?? '' },
      link: `/programmes/${context.programmeId}/stages/${context.no}`,
      programmeId: context.programmeId,
      applicationId: null,
      exclude: [event.actor.id],
    },
  ];
}

/** The notifications an event causes: none for most, one plan per kind for the others. */
export function plansForEvent(event: WrittenEvent): NotificationPlan[] {
  if (event.type === 'create') return [];
  if (event.machineId === 'application') return applicationPlans(event);
  if (event.machineId === 'conversation') return conversationPlans(event);
  if (event.machineId === 'stage') return stagePlans(event);
  return [];
}

/** The first words of a message, for the inbox and the subject line. */
export function excerpt(text: string, max = 140): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}
