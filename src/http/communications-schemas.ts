import { z } from 'zod';
import { messageAttachmentSchema, replyToSchema } from '../../machines/conversation.ts';
import { notificationKinds } from '../workflows/notifications/rules.ts';
import { pathId } from './api-schemas.ts';

/**
 * The API's schemas of communications (issue 12): the conversation, the notifications and the
 * informing of stage 7, documented in /api/openapi.json beside the others (src/http/api-schemas.ts).
 */

const positive = z.int().min(1);
const count = z.int().min(0);
const timestamp = z.string().meta({ description: 'UTC, ISO 8601', format: 'date-time' });

export const messageFileParams = z.object({
  id: pathId,
  seq: pathId.meta({ description: 'the message’s seq in the conversation' }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).meta({ description: 'the SHA-256 of the file, lower-case hex' }),
});

/** A message as JSON or as a multipart form (the fields, then one `file`); the engine checks it against the conversation's rules. */
export const messageBody = z
  .object({
    text: z.string().meta({ description: 'up to 5000 characters' }),
    replyTo: replyToSchema.optional(),
    internal: z.boolean().optional().meta({ description: 'an internal note: staff only, never shown to an applicant' }),
    file: z.string().optional().meta({ format: 'binary', description: 'multipart only: PDF, JPEG, PNG, XLSX or DOCX up to 10 MiB, checked by its content' }),
  })
  .meta({ id: 'NewMessage' });

export const messageSchema = z
  .object({
    id: z.string().meta({ description: '`message:<seq>`, what `replyTo` names' }),
    seq: positive,
    at: timestamp,
    author: z.object({ id: positive, name: z.string(), role: z.string() }),
    text: z.string(),
    replyTo: z.string().nullable(),
    internal: z.boolean(),
    attachments: z.array(messageAttachmentSchema),
    remark: z.object({ id: z.string(), field: z.string(), text: z.string() }).nullable().meta({ description: 'for an answer to a remark: the remark as it stood when answered' }),
  })
  .meta({ id: 'Message' });

export const messagesResponse = z.array(messageSchema).meta({ id: 'Messages' });

export const notificationsQuery = z.object({ unread: z.enum(['true', 'false']).optional().meta({ description: '`true`: the unread ones only' }) });

export const notificationsResponse = z
  .object({
    unread: count,
    notifications: z.array(
      z.object({
        id: positive,
        kind: z.string().meta({ enum: [...notificationKinds] }),
        title: z.string(),
        text: z.string(),
        link: z.string(),
        params: z.record(z.string(), z.union([z.string(), z.number()])),
        createdAt: timestamp,
        readAt: timestamp.nullable(),
        applicationId: positive.nullable(),
        programmeId: positive.nullable(),
        mail: z.object({ state: z.string().meta({ enum: ['none', 'pending', 'sending', 'sent', 'failed'] }), sentAt: timestamp.nullable() }),
      }),
    ),
  })
  .meta({ id: 'Notifications' });

export const markReadBody = z
  .object({ ids: z.array(positive).min(1).max(500).optional(), all: z.literal(true).optional() })
  .meta({ id: 'MarkRead', description: '`{ids}` (of one’s own notifications; others’ are left alone) or `{all: true}`' });

export const markReadResponse = z.object({ read: count, unread: count }).meta({ id: 'MarkedRead' });

const informingFactsSchema = z.object({ total: count, emailed: count, failed: count, pending: count, inboxOnly: count, sentAt: timestamp.nullable() });

export const informingResponse = z
  .object({
    sent: z.boolean(),
    sentAt: timestamp.nullable(),
    facts: informingFactsSchema.nullable(),
    deliveries: z.array(
      z.object({
        notification: positive,
        login: z.string(),
        applicationId: positive,
        createdAt: timestamp,
        mail: z.object({ state: z.string(), to: z.string().nullable(), sentAt: timestamp.nullable(), attempts: count, error: z.string().nullable() }),
      }),
    ),
  })
  .meta({ id: 'Informing' });

export const informedResponse = z.object({ notifications: count, facts: informingFactsSchema }).meta({ id: 'Informed' });
