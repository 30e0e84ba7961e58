import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldProblem } from '../../domain/application.ts';
import { russianTimeZones, zoneName } from '../../domain/time.ts';
import { ValidationError } from '../../engine/errors.ts';
import { createProgramme } from '../../workflows/programme/create.ts';
import type { Translate } from '../../i18n/index.ts';
import { access } from '../authorization.ts';
import { defaultTimeZone, programmeFieldKinds, programmeFormFields, readProgrammeForm, type ProgrammeFormField } from '../programme-form.ts';
import { requireActor } from '../plugins/auth.ts';

/** Each problem as the sentence shown under its field. */
function problemTexts(t: Translate, problems: FieldProblem[]): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const problem of problems) {
    const key = `programmes.problem.${problem.code}`;
    const text = t(key);
    texts[problem.field] ??= text === key ? t('problem.invalid') : text;
  }
  return texts;
}

/**
 * The admin's form for a new programme (the page twin of `POST /api/programmes`): on success the
 * programme's overview with its twelve planned stages; on bad input the form again, as typed,
 * each problem under its field, and nothing written.
 */
export async function programmeCreatePages(app: FastifyInstance) {
  const adminOnly = { config: { access: access.createProgramme } };

  function formPage(request: FastifyRequest, reply: FastifyReply, values: Partial<Record<ProgrammeFormField, string>>, problems: FieldProblem[], status: number) {
    const t = request.t;
    const now = app.engine.now();
    return reply.page(
      'pages/programme-new.eta',
      {
        title: t('programmes.new.title'),
        fields: programmeFormFields.filter((name) => programmeFieldKinds[name].kind !== 'date').map((name) => ({ name, ...programmeFieldKinds[name] })),
        dateFields: programmeFormFields.filter((name) => programmeFieldKinds[name].kind === 'date').map((name) => ({ name, ...programmeFieldKinds[name] })),
        values,
        problems: problemTexts(t, problems),
        zones: russianTimeZones.map((zone) => ({ value: zone, label: zoneName(zone, request.lang, now) })),
        notice: problems.length > 0 ? { tone: 'error', text: t('programmes.new.errors', { count: problems.length }) } : null,
      },
      status,
    );
  }

  app.get('/programmes/new', adminOnly, async (request, reply) => {
    const year = Number(new Intl.DateTimeFormat('en', { timeZone: defaultTimeZone, year: 'numeric' }).format(app.engine.now()));
    return formPage(request, reply, { year: String(year + 1), timeZone: defaultTimeZone }, [], 200);
  });

  app.post('/programmes', adminOnly, async (request, reply) => {
    const actor = requireActor(request);
    const body = (request.body !== null && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
    const form = readProgrammeForm(body, request.lang);
    if (form.problems.length > 0) return formPage(request, reply, form.entered, form.problems, 422);
    try {
      const programme = await app.engine.write(() => createProgramme(app.engine, actor, form.input, form.planned));
      request.log.info({ admin: actor.login, ip: request.ip, programmeId: programme.id }, 'programme created');
      return reply.redirect(`/programmes/${programme.id}?done=created`, 303);
    } catch (error) {
      // The form reader asks the engine first; this is only a second line.
      if (error instanceof ValidationError) return formPage(request, reply, form.entered, error.problems.map((p) => ({ field: 'general', code: p.code })), 422);
      throw error;
    }
  });
}
