import type { Readable } from 'node:stream';
import { cleanFileName, fileTypeKeys, fileTypes, MIB, sniffFileType, uploadProblems, type DocumentRule } from '../../domain/documents.ts';
import { zodProblems } from '../../domain/problems.ts';
import type { Actor } from '../../domain/roles.ts';
import type { AppliedEvent, Engine } from '../../engine/engine.ts';
import { ForbiddenError, ValidationError } from '../../engine/errors.ts';
import { conversationMachineId, type MessageAttachment } from '../../../machines/conversation.ts';
import { loadApplication } from '../application/reads.ts';
import type { DocumentStore, ReceivedFile } from '../documents/store.ts';
import { isReferenced } from '../documents/upload.ts';
import { conversationStreamId } from './reads.ts';

/** What a message's attachment may be: any type the document store takes, checked by its content, up to 10 MiB. */
export const attachmentRule: Pick<DocumentRule, 'fileTypes' | 'maxBytes'> = { fileTypes: [...fileTypeKeys], maxBytes: 10 * MIB };

export interface NewMessage {
  text: unknown;
  replyTo?: unknown;
  internal?: unknown;
}

export interface PostedMessage extends AppliedEvent {
  applicationId: number;
  seq: number;
}

/**
 * Posts a message to an application's conversation through the one write path: the first one
 * opens the conversation's stream (its `create`) in the same transaction. The conversation's
 * version is read inside that transaction, so two people writing at once both get in; the
 * application's stream is not touched, so nobody's next click on it becomes a conflict.
 */
export function postMessage(engine: Engine, actor: Actor, applicationId: number, message: NewMessage, attachments: MessageAttachment[] = []): PostedMessage {
  const { row } = loadApplication(engine, actor, applicationId);
  const entry = engine.registry.latest(conversationMachineId);
  checkMayPost(engine, actor, applicationId);
  const payload: Record<string, unknown> = { text: typeof message.text === 'string' ? message.text : message.text ?? '' };
  if (message.replyTo !== undefined && message.replyTo !== null && message.replyTo !== '') payload.replyTo = message.replyTo;
  if (message.internal !== undefined && message.internal !== false) payload.internal = message.internal;
  if (attachments.length > 0) payload.attachments = attachments;
  // The commonest mistakes in the reader's words, beside the field; the schema checks the rest.
  const text = typeof payload.text === 'string' ? payload.text.trim() : '';
  if (text === '') throw new ValidationError('the message is empty', [{ field: 'text', code: 'required' }]);
  if (text.length > 5000) throw new ValidationError('the message is too long', [{ field: 'text', code: 'too-long' }]);
  const streamId = conversationStreamId(row.id);
  return engine.transaction(() => {
    // Checked before the stream is opened: a refused first message leaves no empty conversation behind.
    const schema = entry.eventSchemas['post-message']!;
    const parsed = schema.safeParse(payload);
    if (!parsed.success) throw new ValidationError('the message is invalid', zodProblems(parsed.error));
    let version = engine.loadStream(streamId)?.version;
    if (version === undefined) {
      version = engine.create({
        streamId,
        kind: 'conversation',
        machineId: conversationMachineId,
        input: { applicationId: row.id, municipalityId: row.municipalityId, programmeId: row.programmeId },
        actor,
      }).version;
    }
    const applied = engine.apply(streamId, { type: 'post-message', payload }, version, actor);
    return { ...applied, applicationId: row.id, seq: applied.event.seq };
  });
}

/** A file received for a message, judged by its bytes: type sniffed, name matching, size within the limit. */
export interface ReceivedAttachment {
  received: ReceivedFile;
  name: string;
}

/** Streams an attachment into the document store's temporary area (nothing is kept yet). */
export async function receiveAttachment(store: DocumentStore, fileName: string, source: Readable): Promise<ReceivedAttachment> {
  return { received: await store.receive(source, attachmentRule.maxBytes), name: cleanFileName(fileName) };
}

export function attachmentFromBytes(store: DocumentStore, fileName: string, bytes: Buffer): ReceivedAttachment {
  return { received: store.receiveBytes(bytes), name: cleanFileName(fileName) };
}

/**
 * A message with one attached file: the file is judged by its content, kept under its SHA-256 and
 * named by the message's event. A refused file or message takes back what no event names.
 */
export function postMessageWithFile(engine: Engine, store: DocumentStore, actor: Actor, applicationId: number, message: NewMessage, file: ReceivedAttachment): PostedMessage {
  const { received, name } = file;
  const sniffed = received.tooLarge ? null : sniffFileType(received.head, received.tail);
  const rule = { kind: 'sponsor-letters', required: false, ...attachmentRule } as DocumentRule;
  const problems = uploadProblems(rule, { name, size: received.size, sniffed, tooLarge: received.tooLarge });
  if (problems.length > 0 || sniffed === null) {
    store.discard(received);
    throw new ValidationError('the file is refused', problems);
  }
  const kept = store.keep(received);
  try {
    return postMessage(engine, actor, applicationId, message, [{ name, size: received.size, mediaType: fileTypes[sniffed].mediaType, sha256: received.sha256 }]);
  } catch (error) {
    if (kept.created && !isReferenced(engine, received.sha256)) store.forget(received.sha256);
    throw error;
  }
}

/** Refuses, before a byte of a file is read, whoever may not write in this conversation at all. */
export function checkMayPost(engine: Engine, actor: Actor, applicationId: number): void {
  loadApplication(engine, actor, applicationId);
  if (!engine.registry.latest(conversationMachineId).eventRoles['post-message']?.includes(actor.role)) throw new ForbiddenError(`the role ${actor.role} may not write in a conversation`);
}
