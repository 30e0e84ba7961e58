import type { FastifyInstance } from 'fastify';
import { documentKinds } from '../../domain/documents.ts';
import { NotFoundError } from '../../engine/errors.ts';
import { sendApplicationEvent } from '../../workflows/application/commands.ts';
import { applicationOptions, loadApplication } from '../../workflows/application/reads.ts';
import { documentRequirementReads, removeDocumentRequirement, saveDocumentRequirement } from '../../workflows/documents/requirements.ts';
import { applicationDocuments } from '../../workflows/documents/upload.ts';
import { findProgramme } from '../../workflows/programme/reads.ts';
import { access } from '../authorization.ts';
import { requireActor } from '../plugins/auth.ts';
import { receiveUpload, sendDocumentFile } from './document-files.ts';
import { expectedVersionOf, idParam, objectBody } from './params.ts';

/** The documents in the JSON API (DESIGN §6, issue 7): bearer tokens, thin handlers over the engine. */
export async function documentApi(app: FastifyInstance) {
  app.post('/api/applications/:id/documents', { config: { access: access.attachDocument } }, async (request, reply) => {
    const actor = requireActor(request);
    const id = idParam(request.params);
    const applied = (await receiveUpload(app, request, reply, actor, id))!;
    return reply
      .code(201)
      .header('ETag', `"${applied.version}"`)
      .send({ id, state: applied.state, version: applied.version, document: JSON.parse(applied.event.payload) as unknown });
  });

  app.get('/api/applications/:id/documents', { config: { access: access.signedIn } }, async (request) => {
    const actor = requireActor(request);
    const loaded = loadApplication(app.engine, actor, idParam(request.params));
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
  });

  app.get('/api/applications/:id/documents/:sha256', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = requireActor(request);
    return sendDocumentFile(app, reply, actor, idParam(request.params), String((request.params as Record<string, unknown>).sha256), 'download');
  });

  app.post('/api/applications/:id/documents/:kind/review', { config: { access: access.reviewDocument } }, async (request, reply) => {
    const actor = requireActor(request);
    const id = idParam(request.params);
    const kind = (request.params as Record<string, unknown>).kind;
    if (typeof kind !== 'string' || !(documentKinds as readonly string[]).includes(kind)) throw new NotFoundError();
    const body = objectBody(request.body);
    const { expectedVersion: _ignored, ...payload } = body;
    const applied = sendApplicationEvent(app.engine, actor, id, 'review-document', { ...payload, kind }, expectedVersionOf(body, request.headers['if-match']));
    return reply.header('ETag', `"${applied.version}"`).send({ id, state: applied.state, version: applied.version });
  });

  app.get('/api/programmes/:id/document-requirements', { config: { access: access.signedIn } }, async (request) => {
    requireActor(request);
    const id = idParam(request.params);
    if (!findProgramme(app.db, id)) throw new NotFoundError();
    return documentRequirementReads(app.db).requirements(id);
  });

  app.put('/api/programmes/:id/document-requirements', { config: { access: access.admin } }, async (request) => {
    const actor = requireActor(request);
    return saveDocumentRequirement(app.engine, actor, idParam(request.params), objectBody(request.body));
  });

  app.delete('/api/programmes/:id/document-requirements/:projectType/:kind', { config: { access: access.admin } }, async (request, reply) => {
    const actor = requireActor(request);
    const params = request.params as Record<string, unknown>;
    removeDocumentRequirement(app.engine, actor, idParam(request.params), params.projectType, params.kind);
    return reply.code(204).send();
  });
}
