import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ANY_PROJECT_TYPE, requirementProjectTypes } from '../../domain/document-requirements.ts';
import { documentKinds, fileTypeKeys, MIB } from '../../domain/documents.ts';
import { documentRequirementReads, removeDocumentRequirement, saveDocumentRequirement } from '../../workflows/documents/requirements.ts';
import { NotFoundError, ValidationError } from '../../engine/errors.ts';
import { findProgramme } from '../../workflows/programme/reads.ts';
import { access, allows } from '../authorization.ts';
import { formatBytes, kindLabel, typesText } from '../documents-view.ts';
import { bodyText } from '../forms.ts';
import { actorOf, formBody, type Notice } from '../page-kit.ts';
import { idParam } from './params.ts';
import { problemText } from '../problem-text.ts';
import { publicDocumentKinds, savePublicDocumentKinds } from '../../workflows/programme/public-settings.ts';

/**
 * The documents a programme requires (issue 7): everyone signed in reads them (applicants prepare
 * by them), an admin adds, changes and removes rows. Works without JavaScript.
 */
export async function documentRequirementsPages(app: FastifyInstance) {
  const reads = documentRequirementReads(app.db);

  function page(request: FastifyRequest, reply: FastifyReply, programmeId: number, status = 200, notice: Notice | null = null, values: Record<string, unknown> = {}) {
    const programme = findProgramme(app.db, programmeId);
    if (!programme) throw new NotFoundError();
    const t = request.t;
    const projectTypeLabel = (type: string) => (type === ANY_PROJECT_TYPE ? t('documents.requirements.allTypes') : t(`projectType.${type}`));
    const rows = reads.requirements(programmeId).map((row) => ({
      ...row,
      projectTypeLabel: projectTypeLabel(row.projectType),
      kindLabel: kindLabel(t, row.kind),
      typesText: typesText(row.fileTypes),
      sizeText: formatBytes(row.maxBytes, t, request.lang),
      removeLabel: t('documents.requirements.removeOf', { kind: kindLabel(t, row.kind), projectType: projectTypeLabel(row.projectType) }),
    }));
    return reply.page(
      'pages/document-requirements.eta',
      {
        title: t('documents.requirements.title', { title: programme.title }),
        programme,
        rows,
        isAdmin: allows(access.admin, actorOf(request).role),
        projectTypeOptions: requirementProjectTypes.map((type) => ({ value: type, label: projectTypeLabel(type) })),
        kindOptions: documentKinds.map((kind) => ({ value: kind, label: kindLabel(t, kind) })),
        // What the public portal publishes (issue 15): the kinds, with those now public ticked.
        publicKinds: ((published) => documentKinds.map((kind) => ({ value: kind, label: kindLabel(t, kind), checked: published.includes(kind) })))(publicDocumentKinds(app.db, programmeId)),
        fileTypeOptions: fileTypeKeys.map((key) => ({ value: key, label: key.toUpperCase() })),
        values: { projectType: ANY_PROJECT_TYPE, kind: documentKinds[0], required: true, fileTypes: ['pdf'], maxMb: '10', ...values },
        notice,
      },
      status,
    );
  }

  app.get('/programmes/:id/documents', { config: { access: access.signedIn } }, async (request, reply) => {
    const id = idParam(request.params);
    const done = (request.query as Record<string, unknown>).done;
    const notice: Notice | null =
      done === 'saved' || done === 'removed' || done === 'public' ? { tone: 'success', text: request.t(done === 'public' ? 'public.documentsSaved' : `documents.requirements.${done}`) } : null;
    return page(request, reply, id, 200, notice);
  });

  app.post('/programmes/:id/documents', { config: { access: access.admin } }, async (request, reply) => {
    const actor = actorOf(request);
    const id = idParam(request.params);
    const body = formBody(request);
    const rawTypes = body.fileTypes;
    const fileTypes = (Array.isArray(rawTypes) ? rawTypes : rawTypes === undefined ? [] : [rawTypes]).filter((v): v is string => typeof v === 'string');
    const maxMb = (bodyText(body, 'maxMb') ?? '').trim().replace(',', '.');
    const values = { projectType: bodyText(body, 'projectType'), kind: bodyText(body, 'kind'), required: bodyText(body, 'required') === 'on', fileTypes, maxMb };
    if (!/^\d{1,3}(\.\d{1,2})?$/.test(maxMb)) {
      return page(request, reply, id, 422, { tone: 'error', text: request.t('documents.requirements.notANumber') }, values);
    }
    try {
      const { maxMb: _typed, ...requirement } = values;
      await app.engine.write(() => saveDocumentRequirement(app.engine, actor, id, { ...requirement, maxBytes: Math.round(Number(maxMb) * MIB) }));
    } catch (error) {
      if (error instanceof ValidationError) {
        return page(request, reply, id, 422, { tone: 'error', text: request.t('documents.requirements.invalid'), items: error.problems.map((p) => problemText(request.t, request.lang, p)) }, values);
      }
      throw error;
    }
    return reply.redirect(`/programmes/${id}/documents?done=saved`, 303);
  });

  // The kinds of documents the public portal publishes (issue 15): an admin's setting, through the engine's transaction.
  app.post('/programmes/:id/documents/public', { config: { access: access.admin } }, async (request, reply) => {
    const actor = actorOf(request);
    const id = idParam(request.params);
    const raw = formBody(request).documentKinds;
    const kinds = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((v): v is string => typeof v === 'string');
    try {
      await app.engine.write(() => savePublicDocumentKinds(app.engine, actor, id, { documentKinds: kinds }));
    } catch (error) {
      if (error instanceof ValidationError) return page(request, reply, id, 422, { tone: 'error', text: request.t('documents.requirements.invalid') });
      throw error;
    }
    return reply.redirect(`/programmes/${id}/documents?done=public`, 303);
  });

  app.post('/programmes/:id/documents/remove', { config: { access: access.admin } }, async (request, reply) => {
    const actor = actorOf(request);
    const id = idParam(request.params);
    const body = formBody(request);
    try {
      await app.engine.write(() => removeDocumentRequirement(app.engine, actor, id, bodyText(body, 'projectType'), bodyText(body, 'kind')));
    } catch (error) {
      if (error instanceof ValidationError) return page(request, reply, id, 422, { tone: 'error', text: request.t('documents.requirements.invalid') });
      throw error;
    }
    return reply.redirect(`/programmes/${id}/documents?done=removed`, 303);
  });
}
