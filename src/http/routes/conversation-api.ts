import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldProblem } from '../../domain/problems.ts';
import type { Actor } from '../../domain/roles.ts';
import { NotFoundError, ValidationError } from '../../engine/errors.ts';
import type { Lang, Translate } from '../../i18n/index.ts';
import { loadApplication } from '../../workflows/application/reads.ts';
import { attachmentRule, checkMayPost, postMessage, postMessageWithFile, receiveAttachment, type NewMessage, type PostedMessage, type ReceivedAttachment } from '../../workflows/conversation/commands.ts';
import { messagesFor, type Message } from '../../workflows/conversation/reads.ts';
import { describeProblem } from '../application-view.ts';
import { access } from '../authorization.ts';
import { conversationView } from '../conversation-view.ts';
import { describeDocumentProblem } from '../documents-view.ts';
import { actorOf, attempt, formBody, type ShowApplication } from '../page-kit.ts';
import { isHtmx, requireActor, verifyMultipartCsrf } from '../plugins/auth.ts';
import { refusalText } from '../refusals.ts';
import { findProgramme } from '../../workflows/programme/reads.ts';
import { idParam } from './params.ts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { bodyErrors, errors, fileResponse, idParams, json, pathErrors } from '../api-schemas.ts';
import { messageBody, messageFileParams, messageSchema, messagesResponse } from '../communications-schemas.ts';

/** A JSON body as an object, or a 422 that says so. */
function objectBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('the body must be a JSON object', [{ field: 'body', code: 'invalid_type' }]);
  return body as Record<string, unknown>;
}
import { statusOf } from '../plugins/errors.ts';
import { contentDisposition } from '../content-disposition.ts';

/** A message's problem in words, beside its field: the upload's own texts for the file. */
export function describeMessageProblem(t: Translate, lang: Lang, problem: FieldProblem): string {
  if (problem.code.startsWith('document-')) return describeDocumentProblem(t, lang, problem);
  return describeProblem(t, lang, problem);
}

/** Reads `internal` as forms and scripts send it: a checkbox's `true`/`on`, or a JSON boolean. */
function internalOf(value: unknown): unknown {
  if (value === 'true' || value === 'on') return true;
  if (value === 'false' || value === '' || value === undefined) return undefined;
  return value;
}

function textOf(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A message as it arrives: JSON, an urlencoded form, or a multipart form whose fields come before
 * its one file (`_csrf`, `text`, `replyTo`, `internal`, then `file`). The file streams into the
 * document store's temporary area once the sender is known to be allowed and the form's CSRF
 * token (when a page sent it without the header) checked; `null` means that check failed and the
 * 403 is on its way.
 */
async function readMessage(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, actor: Actor, id: number): Promise<{ message: NewMessage; file: ReceivedAttachment | null } | null> {
  checkMayPost(app.engine, actor, id);
  if (!request.isMultipart()) {
    const body = request.url.startsWith('/api/') ? objectBody(request.body) : formBody(request);
    return { message: { text: textOf(body.text), replyTo: textOf(body.replyTo), internal: internalOf(textOf(body.internal)) }, file: null };
  }
  const fields: Record<string, string> = {};
  let file: ReceivedAttachment | null = null;
  try {
    for await (const part of request.parts({ limits: { fileSize: attachmentRule.maxBytes + 1, files: 1, fields: 8, fieldSize: 8192, parts: 10 } })) {
      if (part.type === 'field') {
        if (typeof part.value === 'string' && !(part.fieldname in fields)) fields[part.fieldname] = part.value;
        continue;
      }
      // A form whose file input was left empty still sends the part, without a name or a byte.
      if (!part.filename) {
        part.file.resume();
        continue;
      }
      if (!verifyMultipartCsrf(request, reply, fields._csrf)) {
        part.file.resume();
        return null;
      }
      file = await receiveAttachment(app.documentStore, part.filename, part.file);
    }
  } catch (error) {
    if (file) app.documentStore.discard(file.received);
    throw new ValidationError('the form could not be read', [{ field: 'file', code: 'document-no-file', params: { message: error instanceof Error ? error.message : String(error) } }]);
  }
  if (!verifyMultipartCsrf(request, reply, fields._csrf)) {
    if (file) app.documentStore.discard(file.received);
    return null;
  }
  return { message: { text: fields.text, replyTo: fields.replyTo, internal: internalOf(fields.internal) }, file };
}

function post(app: FastifyInstance, actor: Actor, id: number, read: { message: NewMessage; file: ReceivedAttachment | null }): Promise<PostedMessage> {
  return app.engine.write(() => read.file ? postMessageWithFile(app.engine, app.documentStore, actor, id, read.message, read.file) : postMessage(app.engine, actor, id, read.message));
}

/** A message in the API's shape. */
function messageJson(message: Message) {
  return {
    id: `message:${message.seq}`,
    seq: message.seq,
    at: message.at,
    author: message.author,
    text: message.text,
    replyTo: message.replyTo,
    internal: message.internal,
    attachments: message.attachments,
    remark: message.remark,
  };
}

/** Sends an attachment of a message the reader may see (an internal note's never reaches an applicant). */
function sendAttachment(app: FastifyInstance, reply: FastifyReply, actor: Actor, id: number, params: unknown): FastifyReply {
  loadApplication(app.engine, actor, id);
  const { seq, sha256 } = params as Record<string, unknown>;
  const message = messagesFor(app.db, actor, id).find((m) => String(m.seq) === String(seq));
  const file = message?.attachments.find((f) => f.sha256 === sha256);
  if (!file || !app.documentStore.has(file.sha256)) throw new NotFoundError();
  void reply
    .type(file.mediaType)
    .header('Content-Disposition', contentDisposition('attachment', file.name))
    .header('Content-Length', String(app.documentStore.size(file.sha256)))
    .header('X-Content-Type-Options', 'nosniff')
    .header('Cache-Control', 'private, no-store');
  return reply.send(createReadStream(app.documentStore.pathOf(file.sha256)));
}

/** The conversation in the JSON API (DESIGN §6 extension): `GET/POST /api/applications/:id/messages`. */
export async function conversationApi(app: FastifyInstance) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['conversation'];

  api.get(
    '/api/applications/:id/messages',
    {
      config: { access: access.signedIn },
      schema: {
        tags,
        summary: 'The messages of an application’s conversation the caller may see (an applicant never gets an internal note)',
        params: idParams,
        response: { 200: json('the messages, oldest first', messagesResponse), ...errors(401, ...pathErrors) },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const id = request.params.id;
      loadApplication(app.engine, actor, id);
      return messagesFor(app.db, actor, id).map(messageJson);
    },
  );

  api.post(
    '/api/applications/:id/messages',
    {
      config: { access: access.postMessage },
      schema: {
        tags,
        summary: 'Write a message (`{text, replyTo?, internal?}`, or multipart with one `file` after the fields)',
        description: 'A message never moves the application’s version. `replyTo` names `message:<seq>` or a remark of the open return, `remark:<seq of the return>:<n>` (applicants only); `internal` is for the staff.',
        params: idParams,
        consumes: ['application/json', 'multipart/form-data'],
        documentedBody: messageBody,
        response: { 201: json('written: the message', messageSchema), ...errors(401, 403, ...pathErrors, ...bodyErrors) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const id = request.params.id;
      const read = (await readMessage(app, request, reply, actor, id))!;
      const posted = await post(app, actor, id, read);
      const message = messagesFor(app.db, actor, id).find((m) => m.seq === posted.seq)!;
      return reply.code(201).send(messageJson(message));
    },
  );

  api.get(
    '/api/applications/:id/messages/:seq/files/:sha256',
    {
      config: { access: access.signedIn },
      schema: { tags, summary: 'Download a file attached to a message the caller may see', params: messageFileParams, response: { 200: fileResponse, ...errors(401, ...pathErrors) } },
    },
    async (request, reply) => sendAttachment(app, reply, requireActor(request), request.params.id, request.params),
  );
}

/** The conversation on the application page; registered by `applicationPages`, whose page it answers with. */
export function conversationPages(app: FastifyInstance, showApplication: ShowApplication): void {
  app.post('/applications/:id/messages', { config: { access: access.postMessage, csrf: 'multipart-field' } }, async (request, reply) => {
    const actor = actorOf(request);
    const id = idParam(request.params);
    const t = request.t;
    const sent = await attempt(async () => {
      const read = await readMessage(app, request, reply, actor, id);
      return read === null ? null : post(app, actor, id, read);
    });
    if (reply.sent) return reply;
    if (sent.ok && sent.value === null) return reply;
    if (sent.ok) {
      const posted = sent.value!;
      if (!isHtmx(request)) return reply.redirect(`/applications/${id}#message-${posted.seq}`, 303);
      return showApplication(request, reply, id, 200, { notice: { tone: 'success', text: t('conversation.sent') } });
    }
    const { error, status } = sent;
    if (error instanceof ValidationError) {
      const messageProblems: Record<string, string> = {};
      for (const problem of error.problems) messageProblems[problem.field === 'file' ? 'file' : 'text'] ??= describeMessageProblem(t, request.lang, problem);
      return showApplication(request, reply, id, 422, { messageProblems, notice: { tone: 'error', text: t('conversation.refused', { message: Object.values(messageProblems).join(' ') }) } });
    }
    return showApplication(request, reply, id, statusOf(error) || status, { notice: { tone: 'error', text: t('app.refused', { message: refusalText(t, request.lang, error) }) } });
  });

  // The messages and the answers beside the remarks, fresh: what an open page fetches when the reader is told of something new.
  app.get('/applications/:id/conversation', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = actorOf(request);
    const id = idParam(request.params);
    const loaded = loadApplication(app.engine, actor, id);
    if (!isHtmx(request)) return reply.redirect(`/applications/${id}#conversation`, 303);
    const programme = findProgramme(app.db, loaded.row.programmeId)!;
    return reply.page('partials/conversation-refresh.eta', { title: '', programme, conversation: conversationView(app, request.t, actor, loaded) });
  });

  app.get('/applications/:id/messages/:seq/files/:sha256', { config: { access: access.signedIn } }, async (request, reply) =>
    sendAttachment(app, reply, actorOf(request), idParam(request.params), request.params),
  );
}
