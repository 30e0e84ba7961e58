import type { FastifyInstance, FastifyRequest } from 'fastify';
import { recordSetting } from '../../engine/settings-log.ts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { formatPoints } from '../../domain/criteria.ts';
import { NotFoundError } from '../../engine/errors.ts';
import { listMunicipalities } from '../../read/applications.ts';
import { findProgramme, type ProgrammeRow } from '../../workflows/programme/reads.ts';
import { programmeRegister, registerPage, registerQuerySchema, registerStates, type RegisterQuery } from '../../workflows/application/register.ts';
import { DEFAULT_PROGRAMME_CODE, formatRegistrationNo, saveProgrammeCode } from '../../workflows/application/registration.ts';
import { access } from '../authorization.ts';
import { errors, idParams, json, pathErrors, registerCsvResponse, registerResponse } from '../api-schemas.ts';
import { contentDisposition } from '../content-disposition.ts';
import { registerCsv, registerXlsx } from '../exports/register.ts';
import { bodyText } from '../forms.ts';
import { formBody } from '../page-kit.ts';
import { idParam } from './params.ts';
import { requireActor } from '../plugins/auth.ts';

/** The numeric columns, right-aligned on the page. */
const numericSorts = new Set(['subsidy', 'localBudget', 'residents', 'business', 'total', 'score', 'awarded', 'received', 'spent']);

/** The query string of the register with one parameter changed (the sort links, the export links). */
function registerHref(base: string, query: RegisterQuery, change: Partial<RegisterQuery> = {}): string {
  const merged = { ...query, ...change };
  const params = new URLSearchParams();
  if (merged.municipalityId) params.set('municipalityId', String(merged.municipalityId));
  if (merged.state) params.set('state', merged.state);
  if (merged.sort !== 'number') params.set('sort', merged.sort);
  if (merged.dir !== 'asc') params.set('dir', merged.dir);
  if (merged.page > 1) params.set('page', String(merged.page));
  const text = params.toString();
  return text ? `${base}?${text}` : base;
}

/**
 * The register of applications (issue 13): the staff's page with filters, sorting and a totals
 * row, its CSV and XLSX, and `GET /api/programmes/:id/register`; and the admin's programme code,
 * the prefix of registration numbers.
 */
export async function registerRoutes(app: FastifyInstance) {
  const programmeOf = (request: FastifyRequest): ProgrammeRow => {
    const programme = findProgramme(app.db, idParam(request.params));
    if (!programme) throw new NotFoundError();
    return programme;
  };
  const queryOf = (request: FastifyRequest): RegisterQuery => registerQuerySchema.parse(request.query ?? {});
  const fileName = (programme: ProgrammeRow) => `register-${programme.id}-${app.engine.now().toISOString().slice(0, 10)}`;

  app.get('/programmes/:id/register', { config: { access: access.staff } }, async (request, reply) => {
    const programme = programmeOf(request);
    const query = queryOf(request);
    const register = registerPage(app.db, programme.id, query);
    const base = `/programmes/${programme.id}/register`;
    const t = request.t;
    const columns = (['number', 'submitted', 'municipality', 'settlement', 'type', 'state', 'subsidy', 'localBudget', 'residents', 'business', 'total', 'score', 'awarded', 'decided', 'received', 'spent'] as const).map((key) => {
      const sorted = query.sort === key;
      return {
        key,
        label: t(`register.col.${key}`),
        numeric: numericSorts.has(key),
        sorted: sorted ? query.dir : null,
        aria: sorted ? (query.dir === 'asc' ? 'ascending' : 'descending') : 'none',
        href: registerHref(base, query, { sort: key, dir: sorted && query.dir === 'asc' ? 'desc' : 'asc', page: 1 }),
      };
    });
    return reply.page('pages/register.eta', {
      title: t('register.title', { title: programme.title }),
      programme,
      query,
      register,
      columns,
      municipalities: listMunicipalities(app.db),
      states: registerStates,
      csvHref: registerHref(`${base}.csv`, query, { page: 1 }),
      xlsxHref: registerHref(`${base}.xlsx`, query, { page: 1 }),
      pager: {
        page: register.page,
        pages: register.pages,
        previous: register.page > 1 ? registerHref(base, query, { page: register.page - 1 }) : null,
        next: register.page < register.pages ? registerHref(base, query, { page: register.page + 1 }) : null,
      },
      base,
      points: (centi: number) => formatPoints(centi, request.lang),
    });
  });

  app.get('/programmes/:id/register.csv', { config: { access: access.staff } }, async (request, reply) => {
    const programme = programmeOf(request);
    const register = programmeRegister(app.db, programme.id, queryOf(request));
    return reply
      .header('Content-Disposition', contentDisposition('attachment', `${fileName(programme)}.csv`))
      .header('Cache-Control', 'no-store')
      .type('text/csv; charset=utf-8')
      .send(registerCsv(request.t, request.lang, programme.timeZone, register));
  });

  app.get('/programmes/:id/register.xlsx', { config: { access: access.staff } }, async (request, reply) => {
    const programme = programmeOf(request);
    const register = programmeRegister(app.db, programme.id, queryOf(request));
    const buffer = await registerXlsx(request.t, request.lang, programme.timeZone, register, app.engine.now());
    return reply
      .header('Content-Disposition', contentDisposition('attachment', `${fileName(programme)}.xlsx`))
      .header('Cache-Control', 'no-store')
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .send(buffer);
  });

  /** The admin's programme code, from the form on the programme page. */
  app.post('/programmes/:id/code', { config: { access: access.admin } }, async (request, reply) => {
    const programme = programmeOf(request);
    const code = (bodyText(formBody(request), 'code') ?? '').trim().toLocaleUpperCase('ru');
    const saved = saveProgrammeCode(app.db, programme.id, code, requireActor(request), app.engine.now());
    return reply.redirect(`/programmes/${programme.id}?done=${saved ? 'code-saved' : 'code-invalid'}#programme-code`, 303);
  });

  /** The admin's rule for a contract's savings (issue 11): read into each later `sign-contract`'s facts. */
  app.post('/programmes/:id/savings-rule', { config: { access: access.admin } }, async (request, reply) => {
    const programme = programmeOf(request);
    const rule = bodyText(formBody(request), 'savingsRule');
    const valid = rule === 'keep' || rule === 'refund';
    if (valid) {
      // The rule and its entry in the settings log, together (issue 17.2).
      app.db.$client
        .transaction(() => {
          app.db.$client.prepare('UPDATE programmes SET savings_rule = ? WHERE id = ?').run(rule, programme.id);
          recordSetting(app.db.$client, 'programmes', programme.id, app.engine.now(), requireActor(request));
        })
        .immediate();
    }
    return reply.redirect(`/programmes/${programme.id}?done=${valid ? 'savings-saved' : 'savings-invalid'}#programme-savings`, 303);
  });

  const api = app.withTypeProvider<ZodTypeProvider>();
  // The programme's open data (issue 13): the register of submitted applications as CSV, for anyone —
  // numbers, dates, places, types, states and money, no person and no remark (README, "Open data").
  api.get(
    '/api/programmes/:id/register.csv',
    {
      config: { access: access.public },
      schema: {
        tags: ['open data'],
        summary: 'The register of submitted applications as CSV: the programme’s open data',
        description: 'No sign-in. The same columns as the register page, in Russian unless `lang=en`; `municipalityId` and `state` filter as on the page.',
        params: idParams,
        querystring: registerQuerySchema,
        response: { 200: registerCsvResponse, ...errors(...pathErrors) },
      },
    },
    async (request, reply) => {
      const programme = findProgramme(app.db, request.params.id);
      if (!programme) throw new NotFoundError();
      const register = programmeRegister(app.db, programme.id, request.query);
      return reply
        .header('Content-Disposition', contentDisposition('attachment', `${fileName(programme)}.csv`))
        .type('text/csv; charset=utf-8')
        .send(registerCsv(request.t, request.lang, programme.timeZone, register));
    },
  );

  api.get(
    '/api/programmes/:id/register',
    {
      config: { access: access.staff },
      schema: {
        tags: ['programmes'],
        summary: 'The register of applications: every submitted one with its number, cost by source, score and award, and the totals',
        description: 'Staff only. Filters `municipalityId` and `state`; `sort` by a column, `dir` asc or desc. Filters that do not parse are ignored.',
        params: idParams,
        querystring: registerQuerySchema,
        response: { 200: json('the register under the filters', registerResponse), ...errors(401, 403, ...pathErrors) },
      },
    },
    async (request) => {
      const programme = findProgramme(app.db, request.params.id);
      if (!programme) throw new NotFoundError();
      return { programmeId: programme.id, ...programmeRegister(app.db, programme.id, request.query) };
    },
  );
}

/** The example number the programme page shows beside the code field. */
export function exampleRegistrationNo(programme: ProgrammeRow): string {
  return formatRegistrationNo(programme.code ?? DEFAULT_PROGRAMME_CODE, programme.year, 1);
}
export { DEFAULT_PROGRAMME_CODE };
