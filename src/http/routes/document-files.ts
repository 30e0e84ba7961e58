import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MultipartFile, MultipartValue } from '@fastify/multipart';
import { fileTypeOfMedia, fileTypes, MAX_DOCUMENT_BYTES } from '../../domain/documents.ts';
import type { Actor } from '../../domain/roles.ts';
import type { AppliedEvent } from '../../engine/engine.ts';
import { findApplication } from '../../workflows/application/reads.ts';
import { documentRequirementReads } from '../../workflows/documents/requirements.ts';
import { attachUploadedDocument, findApplicationFile } from '../../workflows/documents/upload.ts';
import { attachUploadedEvidence } from '../../workflows/documents/evidence.ts';
import { evidenceRules } from '../../domain/implementation.ts';
import { DomainError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import { storageFaultOf } from '../../db/storage-faults.ts';
import { verifyMultipartCsrf } from '../plugins/auth.ts';
import { contentDisposition } from '../content-disposition.ts';

/** The form itself is broken (a multipart body cut short or without a boundary): nothing in it can be read. A 400. */
export class MalformedRequestError extends DomainError {
  constructor(message: string) {
    super('malformed-request', message);
  }
}

/** A field of a multipart form read before its file: the first value when repeated, strings only. */
function fieldText(fields: MultipartFile['fields'], name: string): string | undefined {
  const value = fields[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first && first.type === 'field' && typeof (first as MultipartValue).value === 'string' ? ((first as MultipartValue).value as string) : undefined;
}

function versionOf(text: string | undefined, ifMatch: unknown): number | undefined {
  const raw = text ?? (typeof ifMatch === 'string' ? ifMatch.replace(/^W\//, '').replace(/"/g, '') : undefined);
  return raw !== undefined && /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
}

/**
 * Receives one upload (issue 7) for the page and the API alike: the form's fields come first
 * (`_csrf`, `kind`, `expectedVersion`), then the file, which streams to the document store. A page
 * form without the CSRF header has its `_csrf` field checked here, before a byte of the file is
 * read; `null` means that check failed and the 403 is on its way.
 */
export async function receiveUpload(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  actor: Actor,
  id: number,
  options: { evidence?: boolean } = {},
): Promise<AppliedEvent | null> {
  const row = findApplication(app.db, actor, id);
  if (!request.isMultipart()) {
    if (!verifyMultipartCsrf(request, reply, undefined)) return null;
    throw new ValidationError('send the file as multipart/form-data', [{ field: 'file', code: 'document-no-file' }]);
  }
  // The largest file any kind of this application takes, plus one byte so that an overflow shows.
  // Evidence of an implementation (issue 11: the agreement's scan, the act, photos) has rules of its own.
  const limits = options.evidence
    ? Object.values(evidenceRules).map((rule) => rule.maxBytes)
    : documentRequirementReads(app.db).rulesFor(row.programmeId, row.projectType).map((rule) => rule.maxBytes);
  const ceiling = Math.min(MAX_DOCUMENT_BYTES, Math.max(1024, ...limits)) + 1;
  // A form the parser cannot read (no boundary, cut short, broken part headers) is the client's fault: a 400, never a 500.
  const malformed = (error: unknown): never => {
    request.log.info({ user: actor.login, ip: request.ip, err: (error as Error).message }, 'malformed upload');
    throw new MalformedRequestError(request.t('upload.malformed'));
  };
  let part: MultipartFile | undefined;
  try {
    part = await request.file({ limits: { fileSize: ceiling, files: 1, fields: 8, fieldSize: 4096, parts: 10 }, throwFileSizeLimit: false });
  } catch (error) {
    if (isParserError(error)) malformed(error);
    throw error;
  }
  if (!part) {
    if (!verifyMultipartCsrf(request, reply, undefined)) return null;
    throw new ValidationError('no file was sent', [{ field: 'file', code: 'document-no-file' }]);
  }
  if (!verifyMultipartCsrf(request, reply, fieldText(part.fields, '_csrf'))) {
    part.file.resume();
    return null;
  }
  const query = (request.query ?? {}) as Record<string, unknown>;
  const kind = fieldText(part.fields, 'kind') ?? (typeof query.kind === 'string' ? query.kind : undefined);
  // An error of the file's own stream is the form's (cut short); one of the disk stays what it is (a 503).
  // The parser may have failed already (the whole body was there at once): then the stream is errored before we listen.
  const file = part.file;
  let streamFailed = false;
  file.once('error', () => {
    streamFailed = true;
  });
  const expectedVersion = versionOf(fieldText(part.fields, 'expectedVersion'), request.headers['if-match']);
  try {
    if (options.evidence) {
      const caption = fieldText(part.fields, 'caption') ?? (typeof query.caption === 'string' ? query.caption : undefined);
      return await attachUploadedEvidence(app.engine, app.documentStore, actor, id, { kind, caption, fileName: part.filename, source: part.file, expectedVersion });
    }
    return await attachUploadedDocument(app.engine, app.documentStore, actor, id, { kind, fileName: part.filename, source: part.file, expectedVersion });
  } catch (error) {
    if ((streamFailed || file.errored !== null) && isParserError(error)) malformed(error);
    throw error;
  }
}

/** An error of the multipart parser: neither ours (a DomainError), nor the disk's (a code), nor fastify's (a status). */
function isParserError(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof DomainError) return false;
  if (storageFaultOf(error)) return false;
  const status = (error as { statusCode?: unknown }).statusCode;
  return status === undefined || status === 400;
}

/**
 * Sends a stored file to someone allowed to see its application. A download is an attachment; a
 * preview (images, PDF) is inline and sandboxed by its own Content-Security-Policy, so that a
 * crafted file cannot run anything in the application's origin. Never sniffed by the browser.
 */
export function sendDocumentFile(app: FastifyInstance, reply: FastifyReply, actor: Actor, id: number, sha256: string, mode: 'download' | 'preview'): FastifyReply {
  const file = findApplicationFile(app.engine, actor, id, sha256);
  if (!app.documentStore.has(file.sha256)) throw new NotFoundError('the file is not in the document store');
  const type = fileTypeOfMedia(file.mediaType);
  if (mode === 'preview' && !(type && fileTypes[type].preview)) throw new NotFoundError('this kind of file has no preview');
  const disposition = contentDisposition(mode === 'preview' ? 'inline' : 'attachment', file.name);
  void reply
    .type(file.mediaType)
    .header('Content-Disposition', disposition)
    .header('Content-Length', String(app.documentStore.size(file.sha256)))
    .header('X-Content-Type-Options', 'nosniff')
    .header('Cache-Control', 'private, no-store')
    .header('ETag', `"${file.sha256}"`);
  if (mode === 'preview') {
    // Chromium's PDF viewer does not run in a sandboxed document: PDFs get no sandbox, but nothing else either.
    void reply.header(
      'Content-Security-Policy',
      type === 'pdf' ? "default-src 'none'; object-src 'self'; frame-ancestors 'self'" : "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'",
    );
  }
  return reply.send(createReadStream(app.documentStore.pathOf(file.sha256)));
}
