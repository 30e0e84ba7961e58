import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { NotFoundError } from '../../engine/errors.ts';
import { sendApplicationEvent } from '../../workflows/application/commands.ts';
import { applicationOptions, loadApplication } from '../../workflows/application/reads.ts';
import { documentRequirementReads, removeDocumentRequirement, saveDocumentRequirement } from '../../workflows/documents/requirements.ts';
import { applicationDocuments } from '../../workflows/documents/upload.ts';
import { findProgramme } from '../../workflows/programme/reads.ts';
import { access } from '../authorization.ts';
import { requireActor } from '../plugins/auth.ts';
import { receiveUpload, sendDocumentFile } from './document-files.ts';
import { expectedVersionOf } from './params.ts';
import {
  appliedResponse,
  bodyErrors,
  pathErrors,
  documentFileParams,
  documentKindParams,
  documentRequirementBody,
  documentRequirementParams,
  documentRequirementResponse,
  documentsResponse,
  errors,
  eventEnvelope,
  fileResponse,
  idParams,
  json,
  noContent,
  reviewDocumentBody,
  uploadBody,
  uploadResponse,
} from '../api-schemas.ts';

/** The documents in the JSON API (DESIGN §6, issue 7): bearer tokens, thin handlers over the engine. */
export async function documentApi(app: FastifyInstance) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['documents'];

  api.post(
    '/api/applications/:id/documents',
    {
      config: { access: access.attachDocument },
      schema: {
        tags,
        summary: 'Upload a document of a kind (multipart: `kind`, then `file`)',
        description: 'The file streams to the store under its SHA-256 and is checked by its content against the programme’s rules for the kind, then an `attach-document` event names it.',
        params: idParams,
        consumes: ['multipart/form-data'],
        // Read by the upload itself, field by field and then the file: nothing is parsed before.
        documentedBody: uploadBody,
        response: { 201: json('attached: the new state and version, and the stored file', uploadResponse), ...errors(401, 403, ...pathErrors, 409, ...bodyErrors) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const id = request.params.id;
      const applied = (await receiveUpload(app, request, reply, actor, id))!;
      return reply
        .code(201)
        .header('ETag', `"${applied.version}"`)
        .send({ id, state: applied.state, version: applied.version, document: JSON.parse(applied.event.payload) });
    },
  );

  api.get(
    '/api/applications/:id/documents',
    {
      config: { access: access.signedIn },
      schema: {
        tags,
        summary: 'The documents the application holds and the ones its programme asks for, with the reviewer’s verdicts',
        params: idParams,
        response: { 200: json('the documents by kind', documentsResponse), ...errors(401, ...pathErrors) },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const loaded = loadApplication(app.engine, actor, request.params.id);
      const { row } = loaded;
      const { rows } = applicationDocuments(app.engine, loaded);
      return {
        id: row.id,
        version: row.version,
        allowedEvents: applicationOptions(app.engine, actor, loaded.stream).documents.map((option) => option.type),
        documents: rows.map(({ kind, rule, entry }) => ({
          kind,
          required: rule?.required ?? false,
          fileTypes: rule?.fileTypes ?? [],
          maxBytes: rule?.maxBytes ?? null,
          file: entry?.file ?? null,
          verdict: entry?.file || entry?.verdict === 'remark' ? entry.verdict : 'missing',
          remark: entry?.remark ?? null,
          reviewedAt: entry?.reviewedAt ?? null,
        })),
      };
    },
  );

  api.get(
    '/api/applications/:id/documents/:sha256',
    {
      config: { access: access.signedIn },
      schema: { tags, summary: 'Download a stored file of the application', params: documentFileParams, response: { 200: fileResponse, ...errors(401, ...pathErrors) } },
    },
    async (request, reply) => sendDocumentFile(app, reply, requireActor(request), request.params.id, request.params.sha256, 'download'),
  );

  api.post(
    '/api/applications/:id/documents/:kind/review',
    {
      config: { access: access.reviewDocument },
      schema: {
        tags,
        summary: 'The reviewer’s verdict on one document: accepted, or a remark',
        description: 'Sends `review-document`; `expectedVersion` may come as `If-Match: "N"` instead.',
        params: documentKindParams,
        body: eventEnvelope.omit({ type: true }),
        documentedBody: reviewDocumentBody,
        response: { 200: json('taken: the new state and version', appliedResponse), ...errors(401, 403, ...pathErrors, 409, ...bodyErrors) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { id, kind } = request.params;
      const { expectedVersion: _ignored, ...payload } = request.body;
      const applied = await app.engine.write(() => sendApplicationEvent(app.engine, actor, id, 'review-document', { ...payload, kind }, expectedVersionOf(request.body, request.headers['if-match'])));
      return reply.header('ETag', `"${applied.version}"`).send({ id, state: applied.state, version: applied.version });
    },
  );

  api.get(
    '/api/programmes/:id/document-requirements',
    {
      config: { access: access.signedIn },
      schema: {
        tags,
        summary: 'The documents the programme requires, by project type (`*`: every type) and kind',
        params: idParams,
        response: { 200: json('the requirements', documentRequirementResponse.array()), ...errors(401, ...pathErrors) },
      },
    },
    async (request) => {
      requireActor(request);
      const id = request.params.id;
      if (!findProgramme(app.db, id)) throw new NotFoundError();
      return documentRequirementReads(app.db).requirements(id);
    },
  );

  api.put(
    '/api/programmes/:id/document-requirements',
    {
      config: { access: access.admin },
      schema: {
        tags,
        summary: 'Set one requirement (adds it, or changes the one for the same project type and kind)',
        params: idParams,
        body: documentRequirementBody,
        response: { 200: json('the requirement as saved', documentRequirementResponse), ...errors(401, 403, ...pathErrors, ...bodyErrors) },
      },
    },
    async (request) => await app.engine.write(() => saveDocumentRequirement(app.engine, requireActor(request), request.params.id, request.body)),
  );

  api.delete(
    '/api/programmes/:id/document-requirements/:projectType/:kind',
    {
      config: { access: access.admin },
      schema: {
        tags,
        summary: 'Remove one requirement: the kind is no longer asked for (or the default for every type applies again)',
        params: documentRequirementParams,
        response: { 204: noContent, ...errors(401, 403, ...pathErrors) },
      },
    },
    async (request, reply) => {
      const { id, projectType, kind } = request.params;
      await app.engine.write(() => removeDocumentRequirement(app.engine, requireActor(request), id, projectType, kind));
      return reply.code(204).send();
    },
  );
}
