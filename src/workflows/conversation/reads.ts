import type { Db } from '../../db/client.ts';
import { perDatabase } from '../../db/statements.ts';
import type { Actor, Role } from '../../domain/roles.ts';
import { messageVisibleTo, type MessageAttachment, type RemarkFact } from '../../../machines/conversation.ts';

export const conversationStreamId = (applicationId: number) => `conversation-${applicationId}`;
export const applicationOfConversation = (streamId: string): number => Number(streamId.slice('conversation-'.length));

/** One message as its readers see it. */
export interface Message {
  seq: number;
  at: string;
  author: { id: number; name: string; role: Role };
  text: string;
  replyTo: string | null;
  internal: boolean;
  attachments: MessageAttachment[];
  /** For an answer to a remark: the remark as it stood when it was answered. */
  remark: RemarkFact | null;
}

const conversationStatements = perDatabase((db: Db) => ({
  messages: db.$client.prepare<[string], { seq: number; at: string; actor: string; payload: string; facts: string }>(
    "SELECT seq, at, actor, payload, facts FROM events WHERE stream_id = ? AND type = 'post-message' ORDER BY seq",
  ),
  lastReturn: db.$client.prepare<[string], { seq: number }>("SELECT seq FROM events WHERE stream_id = ? AND type = 'return-for-revision' ORDER BY seq DESC LIMIT 1"),
}));

function toMessage(row: { seq: number; at: string; actor: string; payload: string; facts: string }): Message {
  const payload = JSON.parse(row.payload) as { text: string; replyTo?: string; internal?: boolean; attachments?: MessageAttachment[] };
  const facts = JSON.parse(row.facts) as { remarks?: RemarkFact[] };
  const actor = JSON.parse(row.actor) as { id: number; name: string; role: Role };
  const replyTo = payload.replyTo ?? null;
  return {
    seq: row.seq,
    at: row.at,
    author: { id: actor.id, name: actor.name, role: actor.role },
    text: payload.text,
    replyTo,
    internal: payload.internal === true,
    attachments: payload.attachments ?? [],
    remark: replyTo?.startsWith('remark:') ? (facts.remarks?.find((remark) => remark.id === replyTo) ?? null) : null,
  };
}

/**
 * The messages of an application's conversation that this reader may see (the machine's
 * `messageVisibleTo`: an applicant never gets an internal note), oldest first. The caller has
 * already let the reader see the application.
 */
export function messagesFor(db: Db, reader: Pick<Actor, 'role'>, applicationId: number): Message[] {
  return conversationStatements(db)
    .messages.all(conversationStreamId(applicationId))
    .map(toMessage)
    .filter((message) => messageVisibleTo(message, reader.role));
}

/** The seq of the application's latest return for revision: its remarks are `remark:<seq>:<n>`. */
export function latestReturnSeq(db: Db, applicationStreamId: string): number | null {
  return conversationStatements(db).lastReturn.get(applicationStreamId)?.seq ?? null;
}

export const remarkId = (returnSeq: number, index: number) => `remark:${returnSeq}:${index}`;
