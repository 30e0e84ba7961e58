import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { changeOwnPassword } from '../../accounts/user-admin.ts';
import { PASSWORD_MAX, PASSWORD_MIN } from '../../accounts/password-policy.ts';
import { ValidationError } from '../../engine/errors.ts';
import { access } from '../authorization.ts';
import { bodyText } from '../forms.ts';
import { requireActor } from '../plugins/auth.ts';

/**
 * Every signed-in user changes their own password here (ASVS 2.1.5–2.1.6, 3.3.3). The current
 * password is asked for, so a borrowed session cannot lock its owner out; the attempts are
 * rate limited like the login, since a wrong current password is a guess.
 */
export async function accountPasswordRoutes(app: FastifyInstance) {
  const page = (request: FastifyRequest, reply: FastifyReply, status: number, extras: Record<string, unknown> = {}) =>
    reply.page('pages/account-password.eta', { title: request.t('account.title'), problems: {}, notice: null, passwordMin: PASSWORD_MIN, ...extras }, status);

  app.get('/account/password', { config: { access: access.signedIn } }, async (request, reply) => {
    const done = (request.query as Record<string, unknown>).n;
    const count = typeof done === 'string' && /^\d{1,6}$/.test(done) ? Number(done) : null;
    return page(request, reply, 200, count === null ? {} : { notice: { tone: 'success', text: request.t('account.done', { count }) } });
  });

  app.post('/account/password', { config: { access: access.signedIn, rateLimit: { max: 10, timeWindow: '1 minute' } } }, async (request, reply) => {
    const actor = requireActor(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const ended = await changeOwnPassword(
        app.db,
        actor.id,
        { current: bodyText(body, 'current') ?? '', password: bodyText(body, 'password') ?? '', confirmation: bodyText(body, 'confirmation') ?? '' },
        request.session!.tokenHash,
        app.engine.now(),
      );
      request.log.info({ user: actor.login, ip: request.ip, endedSessions: ended }, 'password changed by its owner');
      return reply.redirect(`/account/password?n=${ended}`, 303);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      if (error.problems.some((p) => p.field === 'current')) request.log.warn({ user: actor.login, ip: request.ip }, 'wrong current password');
      const problems: Record<string, string> = {};
      for (const problem of error.problems) {
        const key = `admin.problem.${problem.code}`;
        const text = request.t(key, { min: PASSWORD_MIN, max: PASSWORD_MAX });
        problems[problem.field] ??= text === key ? request.t('admin.problem.invalid') : text;
      }
      return page(request, reply, 422, { problems, notice: { tone: 'error', text: request.t('admin.errors', { count: error.problems.length }) } });
    }
  });
}
