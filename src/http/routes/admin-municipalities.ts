import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldProblem } from '../../domain/application.ts';
import { MUNICIPALITY_NAME_MAX, municipalityKinds } from '../../domain/municipality.ts';
import { ValidationError } from '../../engine/errors.ts';
import type { Translate } from '../../i18n/index.ts';
import { municipalityProblemText } from '../../municipalities/problem-messages.ts';
import { changeMunicipality, createMunicipality, findMunicipality, listMunicipalityRows, type MunicipalityRow } from '../../municipalities/municipality-admin.ts';
import { access } from '../authorization.ts';
import { bodyText } from '../forms.ts';
import type { Notice } from '../page-kit.ts';
import { idParam } from './params.ts';

const adminOnly = { config: { access: access.admin } };

/** The outcomes a redirect may announce: `?done=<key>&id=<municipality>`. */
const doneMessages = new Set(['created', 'saved']);


/** The form's fields as posted, kept as typed so that a refused form shows them back. */
function typed(body: unknown): { name: string; kind: string; population: string } {
  const fields = (body ?? {}) as Record<string, unknown>;
  return { name: bodyText(fields, 'name') ?? '', kind: bodyText(fields, 'kind') ?? '', population: bodyText(fields, 'population') ?? '' };
}

function problemTexts(request: FastifyRequest, problems: FieldProblem[]): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const problem of problems) texts[problem.field] ??= municipalityProblemText(request.t, request.lang, problem);
  return texts;
}

function refusal(t: Translate, problems: FieldProblem[]): Notice {
  return { tone: 'error', text: t('admin.errors', { count: problems.length }) };
}

/**
 * Municipalities (for a real installation, which has no demo ones): the list with the form that
 * adds one, and each municipality's page with the form that changes it. No deletion: users,
 * applications and the event log refer to them.
 */
export async function adminMunicipalityRoutes(app: FastifyInstance) {
  function audit(request: FastifyRequest, action: string, municipality: MunicipalityRow, details: Record<string, unknown> = {}) {
    request.log.info({ admin: request.actor?.login, ip: request.ip, action, municipalityId: municipality.id, name: municipality.name, ...details }, `municipality administration: ${action}`);
  }

  function listPage(request: FastifyRequest, reply: FastifyReply, extras: { values?: Record<string, string>; problems?: FieldProblem[]; notice?: Notice | null; highlight?: number | null }, status = 200) {
    const problems = extras.problems ?? [];
    return reply.page(
      'pages/admin-municipalities.eta',
      {
        title: request.t('admin.municipalities.title'),
        rows: listMunicipalityRows(app.db),
        kinds: municipalityKinds,
        values: extras.values ?? { name: '', kind: '', population: '' },
        problems: problemTexts(request, problems),
        notice: extras.notice ?? (problems.length > 0 ? refusal(request.t, problems) : null),
        highlight: extras.highlight ?? null,
        nameMax: MUNICIPALITY_NAME_MAX,
      },
      status,
    );
  }

  function municipalityPage(request: FastifyRequest, reply: FastifyReply, municipality: MunicipalityRow, extras: { values?: Record<string, string>; problems?: FieldProblem[]; notice?: Notice | null }, status = 200) {
    const problems = extras.problems ?? [];
    return reply.page(
      'pages/admin-municipality.eta',
      {
        title: municipality.name,
        municipality,
        kinds: municipalityKinds,
        values: extras.values ?? { name: municipality.name, kind: municipality.kind, population: String(municipality.population) },
        problems: problemTexts(request, problems),
        notice: extras.notice ?? (problems.length > 0 ? refusal(request.t, problems) : null),
        nameMax: MUNICIPALITY_NAME_MAX,
      },
      status,
    );
  }

  /** `?done=…&id=…` from a redirect: what to announce, about which municipality. */
  function doneOf(request: FastifyRequest): { done: string; id: number | null } | null {
    const query = (request.query ?? {}) as Record<string, unknown>;
    if (typeof query.done !== 'string' || !doneMessages.has(query.done)) return null;
    return { done: query.done, id: typeof query.id === 'string' && /^[1-9]\d{0,8}$/.test(query.id) ? Number(query.id) : null };
  }

  app.get('/admin/municipalities', adminOnly, async (request, reply) => {
    const done = doneOf(request);
    const named = done?.id ? listMunicipalityRows(app.db).find((row) => row.id === done.id) : undefined;
    const notice: Notice | null = done && named ? { tone: 'success', text: request.t(`admin.municipalities.done.${done.done}`, { name: named.name }) } : null;
    return listPage(request, reply, { notice, highlight: named?.id ?? null });
  });

  app.post('/admin/municipalities', adminOnly, async (request, reply) => {
    const values = typed(request.body);
    try {
      const created = createMunicipality(app.db, values);
      audit(request, 'create', created, { kind: created.kind, population: created.population });
      return reply.redirect(`/admin/municipalities?done=created&id=${created.id}#m-${created.id}`, 303);
    } catch (error) {
      if (error instanceof ValidationError) return listPage(request, reply, { values, problems: error.problems }, 422);
      throw error;
    }
  });

  app.get('/admin/municipalities/:id', adminOnly, async (request, reply) => {
    const municipality = findMunicipality(app.db, idParam(request.params));
    const done = doneOf(request);
    const notice: Notice | null = done ? { tone: 'success', text: request.t(`admin.municipalities.done.${done.done}`, { name: municipality.name }) } : null;
    return municipalityPage(request, reply, municipality, { notice });
  });

  app.post('/admin/municipalities/:id', adminOnly, async (request, reply) => {
    const before = findMunicipality(app.db, idParam(request.params));
    const values = typed(request.body);
    try {
      const after = changeMunicipality(app.db, before.id, values);
      audit(request, 'change', after, { from: { name: before.name, kind: before.kind, population: before.population }, to: { name: after.name, kind: after.kind, population: after.population } });
      return reply.redirect(`/admin/municipalities/${after.id}?done=saved`, 303);
    } catch (error) {
      // A refused change shows what was typed beside its problems, not the stored values.
      if (error instanceof ValidationError) return municipalityPage(request, reply, before, { values, problems: error.problems }, 422);
      throw error;
    }
  });
}
