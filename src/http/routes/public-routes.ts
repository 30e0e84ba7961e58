import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { NotFoundError } from '../../engine/errors.ts';
import { publicDocument, publicPhoto, publicPosition, publicProgramme, publicProgrammes, type PublicProgramme } from '../../read/public.ts';
import { access, landingPage } from '../authorization.ts';
import { errors, json, pathErrors } from '../api-schemas.ts';
import { z } from 'zod';
import {
  applicationsJson,
  currentProgramme,
  programmeJson,
  programmePage,
  projectJson,
  publicFormat,
  resultsJson,
  statusTone,
} from '../public-view.ts';
import {
  programmeParams,
  projectParams,
  publicApplicationsResponse,
  publicIndexResponse,
  publicProgrammeResponse,
  publicProjectResponse,
  publicResultsResponse,
} from '../public-schemas.ts';
import { viewHelpers } from '../view-helpers.ts';
import { fundSources } from '../../domain/implementation.ts';
import { fileTypeOfMedia, fileTypes } from '../../domain/documents.ts';
import { contentDisposition } from '../content-disposition.ts';
import { publicDocumentKinds } from '../../workflows/programme/public-settings.ts';

/** How long a public cache may keep a portal page before asking again (the ETag makes asking cheap). */
export const PUBLIC_MAX_AGE_SECONDS = 60;

/**
 * The public portal (issue 15): the current programme, its applications, its results and its
 * winning projects, for anyone, as pages and as JSON under /api/public/. Everything is read from
 * the public projection (src/read/public.ts). Each answer carries an ETag made of the ledger's
 * position (and the settings kept beside it, the language, the day, whether someone is signed in),
 * so that a conditional request is answered 304 after two lookups, and public caches may keep it.
 */
export async function publicRoutes(app: FastifyInstance) {
  const open = { config: { access: access.public } };
  const api = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['public'];

  /** The answer's validators; true when the client's copy is current (the caller answers 304). */
  function conditional(request: FastifyRequest, reply: FastifyReply, kind: 'page' | 'json'): boolean {
    const now = app.engine.now();
    const position = publicPosition(app.db);
    const settings = createHash('sha256').update(position.settings).digest('base64url').slice(0, 10);
    // Pages differ by language, by the header's link for a signed-in person, and by today's line on the timeline.
    const variant = kind === 'page' ? `-${request.lang}-${request.actor ? 's' : 'v'}` : '';
    const tag = `W/"${position.position}-${settings}-${now.toISOString().slice(0, 10)}${variant}"`;
    void reply
      .header('ETag', tag)
      .header('Cache-Control', `public, max-age=${PUBLIC_MAX_AGE_SECONDS}`)
      .header('Vary', kind === 'page' ? 'Cookie, HX-Request' : 'Accept');
    if (position.at) void reply.header('Last-Modified', new Date(position.at).toUTCString());
    const match = request.headers['if-none-match'];
    return typeof match === 'string' && match.split(',').some((candidate) => candidate.trim() === tag || candidate.trim() === '*');
  }

  function programmeOr404(id: number): PublicProgramme {
    const programme = publicProgramme(app.db, id);
    if (!programme) throw new NotFoundError('no such programme');
    return programme;
  }

  const numberParam = (request: FastifyRequest, name: string): number => {
    const value = String((request.params as Record<string, unknown>)[name] ?? '');
    if (!/^[1-9]\d{0,14}$/.test(value)) throw new NotFoundError();
    return Number(value);
  };

  /**
   * What was answered for this ETag and address, kept: the ETag names the ledger position (and the
   * rest the answer depends on), so an answer is good for exactly as long as its ETag, and a page
   * asked for again before the next event costs a lookup too. Bounded; the oldest go first.
   */
  const answers = new Map<string, unknown>();
  const ANSWERS_KEPT = 256;
  async function remembered<T>(request: FastifyRequest, reply: FastifyReply, make: () => T | Promise<T>): Promise<T> {
    const key = `${String(reply.getHeader('etag'))} ${request.url}`;
    if (answers.has(key)) return answers.get(key) as T;
    const answer = await make();
    answers.set(key, answer);
    if (answers.size > ANSWERS_KEPT) answers.delete(answers.keys().next().value!);
    return answer;
  }

  /** A portal page: its own layout (no staff menu, no forms, so no CSRF token or cookie), cacheable. */
  async function render(request: FastifyRequest, reply: FastifyReply, template: string, make: () => Record<string, unknown> & { title: string }, section: string, programmeId: number | null) {
    const html = await remembered(request, reply, () => renderPage(request, reply, template, make(), section, programmeId));
    return reply.type('text/html; charset=utf-8').send(html);
  }

  function renderPage(request: FastifyRequest, reply: FastifyReply, template: string, data: Record<string, unknown> & { title: string }, section: string, programmeId: number | null): Promise<string> {
    return reply.viewAsync(
      template,
      {
        ...viewHelpers(request.lang),
        ...publicFormat(request.t, request.lang),
        t: request.t,
        lang: request.lang,
        url: request.url,
        signedIn: request.actor !== null && request.actor !== undefined,
        section,
        programmeId,
        tone: (status: string) => statusTone[status] ?? 'neutral',
        sources: fundSources,
        ...data,
      },
      { layout: 'public-layout.eta' },
    );
  }

  async function programmeHome(request: FastifyRequest, reply: FastifyReply, programme: PublicProgramme | undefined) {
    if (conditional(request, reply, 'page')) return reply.code(304).send();
    if (!programme) return render(request, reply, 'pages/public-home.eta', () => ({ title: request.t('public.title'), page: null }), 'programme', null);
    return render(
      request,
      reply,
      'pages/public-home.eta',
      () => {
        const page = programmePage(request.t, request.lang, programmeJson(app.db, programme), app.engine.now());
        // The timeline is SVG from src/http/charts/timeline.ts, every text in it escaped: the one raw output of the portal.
        return { title: programme.title, page, timeline: page.timeline };
      },
      'programme',
      programme.id,
    );
  }

  // The portal is the home page for visitors; a signed-in person keeps landing on their own page (its header links back here).
  app.get('/', open, async (request, reply) => {
    if (request.actor) return reply.redirect(landingPage[request.actor.role], 303);
    return programmeHome(request, reply, currentProgramme(app.db, app.engine.now()));
  });

  app.get('/p/:programmeId', open, async (request, reply) => programmeHome(request, reply, programmeOr404(numberParam(request, 'programmeId'))));

  app.get('/p/:programmeId/applications', open, async (request, reply) => {
    const programme = programmeOr404(numberParam(request, 'programmeId'));
    if (conditional(request, reply, 'page')) return reply.code(304).send();
    return render(request, reply, 'pages/public-applications.eta', () => ({ title: request.t('public.applications', { title: programme.title }), data: applicationsJson(app.db, programme) }), 'applications', programme.id);
  });

  app.get('/p/:programmeId/results', open, async (request, reply) => {
    const programme = programmeOr404(numberParam(request, 'programmeId'));
    if (conditional(request, reply, 'page')) return reply.code(304).send();
    return render(request, reply, 'pages/public-results.eta', () => ({ title: request.t('public.resultsTitle', { title: programme.title }), data: resultsJson(app.db, programme) }), 'results', programme.id);
  });

  app.get('/p/:programmeId/projects/:id', open, async (request, reply) => {
    const programme = programmeOr404(numberParam(request, 'programmeId'));
    const data = projectJson(app.db, programme, numberParam(request, 'id'));
    if (!data) throw new NotFoundError('no such winning project');
    if (conditional(request, reply, 'page')) return reply.code(304).send();
    return render(request, reply, 'pages/public-project.eta', () => ({ title: data.project.title, data }), 'applications', programme.id);
  });

  // A winner's photo only: any other file of the store, and any photo of an application that did not win, is not found.
  app.get('/p/:programmeId/projects/:id/photos/:sha256', open, async (request, reply) => {
    const sha256 = String((request.params as Record<string, unknown>).sha256 ?? '');
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new NotFoundError();
    const photo = publicPhoto(app.db, numberParam(request, 'programmeId'), numberParam(request, 'id'), sha256);
    if (!photo || !photo.mediaType.startsWith('image/') || !app.documentStore.has(sha256)) throw new NotFoundError('no such photo');
    // The content never changes under its hash.
    void reply
      .type(photo.mediaType)
      .header('ETag', `"${sha256}"`)
      .header('Cache-Control', 'public, max-age=86400, immutable')
      .header('X-Content-Type-Options', 'nosniff')
      .header('Content-Security-Policy', "sandbox; default-src 'none'");
    if (request.headers['if-none-match'] === `"${sha256}"`) return reply.code(304).send();
    return reply.header('Content-Length', String(app.documentStore.size(sha256))).send(createReadStream(app.documentStore.pathOf(sha256)));
  });

  // A published document of a winner: accepted, of a kind the programme publishes; named by its kind, never by its uploaded name.
  app.get('/p/:programmeId/projects/:id/documents/:sha256', open, async (request, reply) => {
    const sha256 = String((request.params as Record<string, unknown>).sha256 ?? '');
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new NotFoundError();
    const programmeId = numberParam(request, 'programmeId');
    const document = publicDocument(app.db, programmeId, numberParam(request, 'id'), sha256, publicDocumentKinds(app.db, programmeId));
    if (!document || !app.documentStore.has(sha256)) throw new NotFoundError('no such published document');
    const type = fileTypeOfMedia(document.mediaType);
    const name = `${request.t(`field.document.${document.kind}`)}.${type ? fileTypes[type].extensions[0] : 'bin'}`;
    void reply
      .type(document.mediaType)
      .header('Content-Disposition', contentDisposition('attachment', name))
      .header('ETag', `"${sha256}"`)
      .header('Cache-Control', 'public, max-age=3600')
      .header('X-Content-Type-Options', 'nosniff');
    if (request.headers['if-none-match'] === `"${sha256}"`) return reply.code(304).send();
    return reply.header('Content-Length', String(app.documentStore.size(sha256))).send(createReadStream(app.documentStore.pathOf(sha256)));
  });

  const notModified = z.undefined().meta({ description: 'not modified: the ETag sent in If-None-Match is current; nothing in the body' });
  const common = (summary: string, description: string) => ({ tags, summary, description: `${description}\n\nCacheable: \`ETag\` from the ledger position and \`Cache-Control: public\`; send \`If-None-Match\` and a 304 answers when nothing changed.` });

  api.get(
    '/api/public/programmes',
    { ...open, schema: { ...common('The programmes, and which one is current', 'Every programme with its rules; `currentId` is the one the portal opens with.'), response: { 304: notModified, 200: json('the programmes', publicIndexResponse), ...errors() } } },
    async (request, reply) => {
      if (conditional(request, reply, 'json')) return reply.code(304).send();
      return remembered(request, reply, () => ({ currentId: currentProgramme(app.db, app.engine.now())?.id ?? null, programmes: publicProgrammes(app.db) }));
    },
  );

  api.get(
    '/api/public/programmes/:programmeId',
    {
      ...open,
      schema: {
        ...common('A programme as the portal shows it', 'The announcement, the rules (fund, cap, minimum shares, criteria and weights, required documents), the stage calendar, the results when decided and the archive.'),
        params: programmeParams,
        response: { 304: notModified, 200: json('the programme', publicProgrammeResponse), ...errors(...pathErrors) },
      },
    },
    async (request, reply) => {
      const programme = programmeOr404(request.params.programmeId);
      if (conditional(request, reply, 'json')) return reply.code(304).send();
      return remembered(request, reply, () => programmeJson(app.db, programme));
    },
  );

  api.get(
    '/api/public/programmes/:programmeId/applications',
    {
      ...open,
      schema: {
        ...common('Every submitted application of a programme', 'From its first submission on: registration number, title, municipality, settlement, type, cost by source (kopecks) and the public status. Never drafts.'),
        params: programmeParams,
        response: { 304: notModified, 200: json('the applications', publicApplicationsResponse), ...errors(...pathErrors) },
      },
    },
    async (request, reply) => {
      const programme = programmeOr404(request.params.programmeId);
      if (conditional(request, reply, 'json')) return reply.code(304).send();
      return remembered(request, reply, () => applicationsJson(app.db, programme));
    },
  );

  api.get(
    '/api/public/programmes/:programmeId/results',
    {
      ...open,
      schema: {
        ...common('The results of a programme', 'The ranking as decided, the protocol’s public facts, the ledger head the decision was made on, and the co-financing leverage. `decision` is null until the commission decides.'),
        params: programmeParams,
        response: { 304: notModified, 200: json('the results', publicResultsResponse), ...errors(...pathErrors) },
      },
    },
    async (request, reply) => {
      const programme = programmeOr404(request.params.programmeId);
      if (conditional(request, reply, 'json')) return reply.code(304).send();
      return remembered(request, reply, () => resultsJson(app.db, programme));
    },
  );

  api.get(
    '/api/public/programmes/:programmeId/projects/:id',
    {
      ...open,
      schema: {
        ...common('A winning project', 'What is built, the funds by source agreed, received and spent, the contract price, progress, milestones, photos and the monitoring verdicts. 404 for an application that did not win.'),
        params: projectParams,
        response: { 304: notModified, 200: json('the project', publicProjectResponse), ...errors(...pathErrors) },
      },
    },
    async (request, reply) => {
      const programme = programmeOr404(request.params.programmeId);
      const data = projectJson(app.db, programme, request.params.id);
      if (!data) throw new NotFoundError('no such winning project');
      if (conditional(request, reply, 'json')) return reply.code(304).send();
      return data;
    },
  );
}
