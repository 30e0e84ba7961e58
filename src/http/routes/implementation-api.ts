import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Evidence } from '../../domain/implementation.ts';
import { summaryOf } from '../implementation-view.ts';
import { loadApplication } from '../../workflows/application/reads.ts';
import { access } from '../authorization.ts';
import { requireActor } from '../plugins/auth.ts';
import { bodyErrors, errors, idParams, json, pathErrors } from '../api-schemas.ts';
import { evidenceUploadBody, evidenceUploadResponse, implementationResponse } from '../implementation-schemas.ts';
import { receiveUpload } from './document-files.ts';

/** A stored file's address: the application's document route serves evidence too. */
const withHref = (id: number) => (e: Evidence) => ({ ...e, href: `/api/applications/${id}/documents/${e.sha256}` });

/**
 * After the award in the JSON API (issue 11): the implementation as the ledger holds it, and the
 * upload of its evidence. Its events go through `POST /api/applications/:id/events` like all others.
 */
export async function implementationApi(app: FastifyInstance) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['implementation'];

  api.get(
    '/api/applications/:id/implementation',
    {
      config: { access: access.signedIn },
      schema: {
        tags,
        summary: 'What was agreed, received, contracted, built and checked, and what blocks the next step',
        description: 'Read from the application’s stream (its snapshot, which verify replays from the events). Money in kopecks.',
        params: idParams,
        response: { 200: json('the implementation', implementationResponse), ...errors(401, ...pathErrors) },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const { row, context } = loadApplication(app.engine, actor, request.params.id);
      const { missingProblems: _words, ...summary } = summaryOf(row.state, context);
      const href = withHref(row.id);
      return {
        id: row.id,
        state: row.state,
        version: row.version,
        ...summary,
        photos: summary.photos.map(href),
        documents: {
          agreementScan: summary.documents.agreementScan ? href(summary.documents.agreementScan) : null,
          acceptanceAct: summary.documents.acceptanceAct ? href(summary.documents.acceptanceAct) : null,
        },
      };
    },
  );

  api.post(
    '/api/applications/:id/evidence',
    {
      config: { access: access.attachEvidence },
      schema: {
        tags,
        summary: 'Upload evidence of the implementation (multipart: `kind`, `caption`, then `file`)',
        description: 'The signed agreement’s scan, the acceptance act or a photo: stored under its SHA-256, checked by its content, then an `attach-evidence` event names it.',
        params: idParams,
        consumes: ['multipart/form-data'],
        documentedBody: evidenceUploadBody,
        response: { 201: json('attached: the new state and version, and the stored file', evidenceUploadResponse), ...errors(401, 403, ...pathErrors, 409, ...bodyErrors) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const id = request.params.id;
      const applied = (await receiveUpload(app, request, reply, actor, id, { evidence: true }))!;
      return reply.code(201).header('ETag', `"${applied.version}"`).send({ id, state: applied.state, version: applied.version, evidence: JSON.parse(applied.event.payload) });
    },
  );
}
