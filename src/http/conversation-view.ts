import type { FastifyInstance } from 'fastify';
import { formFields } from '../domain/application.ts';
import type { Actor } from '../domain/roles.ts';
import type { Translate } from '../i18n/index.ts';
import { answersRemarks, writesInternalNotes } from '../../machines/conversation.ts';
import { remarksStandOpen } from '../../machines/application.ts';
import type { LoadedApplication } from '../workflows/application/reads.ts';
import { latestReturnSeq, messagesFor, remarkId, type Message } from '../workflows/conversation/reads.ts';
import { excerpt } from '../workflows/notifications/rules.ts';
import { allows, access } from './authorization.ts';

/** The id of the answers block beside a field: `answers-costs-subsidy`. */
export const answersId = (field: string) => `answers-${field.replace(/[^\w-]/g, '-')}`;

export interface MessageView extends Message {
  /** The message it answers, when the reader may see it: its author and first words. */
  quote: { seq: number; author: string; excerpt: string } | null;
  remarkLabel: string | null;
}

/** One remark of a return with its answers, as the field beside it shows them. */
export interface RemarkThread {
  id: string;
  text: string;
  answers: MessageView[];
  /** The reader may answer it here now. */
  canAnswer: boolean;
}

export interface ConversationView {
  applicationId: number;
  messages: MessageView[];
  canPost: boolean;
  canWriteInternal: boolean;
  /** The remarks of the latest return by field, each with its answers (empty when it was never returned). */
  remarkThreads: Record<string, RemarkThread[]>;
  /** While the application is back for revision the remarks are open; afterwards they are the last return's. */
  remarksOpen: boolean;
  answersId: (field: string) => string;
  /** What the answers partial beside a field takes. */
  block: (field: string) => { threads: RemarkThread[]; blockId: string; open: boolean; applicationId: number; oob: false };
  /** The remarked fields that stand apart from the form (the general remark, the documents), in order. */
  otherFields: string[];
}

/**
 * The conversation card and the answers beside the remarks (issue 12), for one reader: only the
 * messages the machine lets them see (an applicant never an internal note). While the application
 * is back for revision each remark of the return can be answered in place; at the re-review the
 * reviewer finds the answers beside the fields, with the remark as it stood when answered.
 */
export function conversationView(app: FastifyInstance, t: Translate, actor: Actor, { row, stream, context }: Pick<LoadedApplication, 'row' | 'stream' | 'context'>): ConversationView {
  const messages = messagesFor(app.db, actor, row.id);
  const bySeq = new Map(messages.map((message) => [message.seq, message]));
  const views: MessageView[] = messages.map((message) => {
    const target = message.replyTo?.startsWith('message:') ? bySeq.get(Number(message.replyTo.split(':')[1])) : undefined;
    return {
      ...message,
      quote: target ? { seq: target.seq, author: target.author.name, excerpt: excerpt(target.text, 90) } : null,
      remarkLabel: message.remark ? (message.remark.field === 'general' ? t('conversation.remarkGeneral') : t(`field.${message.remark.field}`)) : null,
    };
  });
  const canPost = allows(access.postMessage, actor.role);
  const open = remarksStandOpen(stream.state);
  const returnSeq = latestReturnSeq(app.db, stream.id);
  const threads: Record<string, RemarkThread[]> = {};
  if (returnSeq !== null) {
    const answersTo = (id: string) => views.filter((message) => message.replyTo === id);
    if (open) {
      context.remarks.forEach((remark, index) => {
        const id = remarkId(returnSeq, index);
        (threads[remark.field] ??= []).push({ id, text: remark.text, answers: answersTo(id), canAnswer: canPost && answersRemarks(actor.role) });
      });
    } else {
      // After the return: the remarks that were answered, as their answers recorded them.
      const prefix = `remark:${returnSeq}:`;
      for (const message of views) {
        if (!message.remark || !message.replyTo?.startsWith(prefix)) continue;
        const list = (threads[message.remark.field] ??= []);
        let thread = list.find((item) => item.id === message.replyTo);
        if (!thread) list.push((thread = { id: message.replyTo, text: message.remark.text, answers: [], canAnswer: false }));
        thread.answers.push(message);
      }
    }
  }
  return {
    applicationId: row.id,
    messages: views,
    canPost,
    canWriteInternal: canPost && writesInternalNotes(actor.role),
    remarkThreads: threads,
    remarksOpen: open,
    answersId,
    block: (field) => ({ threads: threads[field] ?? [], blockId: answersId(field), open, applicationId: row.id, oob: false }),
    otherFields: Object.keys(threads).filter((field) => !(formFields as readonly string[]).includes(field)),
  };
}
