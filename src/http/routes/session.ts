import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticate } from '../../accounts/users.ts';
import { revokeSession, SESSION_ABSOLUTE_MS, signIn, signOut } from '../../accounts/sessions.ts';
import { isLang } from '../../i18n/index.ts';
import { ValidationError } from '../../engine/errors.ts';
import { SESSION_COOKIE } from '../plugins/auth.ts';
import { LANG_COOKIE } from '../plugins/i18n.ts';
import { zodProblems } from '../../domain/problems.ts';
import { access } from '../authorization.ts';
import { bodyErrors, errors, json, noContent, sessionResponse } from '../api-schemas.ts';
import { userProfile } from '../../workflows/notifications/inbox.ts';

/** What signing in takes, from the login form and from `POST /api/session` alike. */
export const credentialsSchema = z.object({
  login: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(200),
});

/** Only a path on this site may be the way back after login: never another origin. */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[\w\-./?=&%]*$/.test(value) && value.length < 500 ? value : '/';
}

/** Failed logins per login and address: each failure doubles the wait before the next answer. */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; last: number }>();
  delayMs(key: string, now = Date.now()): number {
    const entry = this.failures.get(key);
    if (!entry || now - entry.last > 15 * 60_000) return 0;
    return Math.min(100 * 2 ** entry.count, 5_000);
  }
  fail(key: string, now = Date.now()) {
    const entry = this.failures.get(key);
    this.failures.set(key, { count: (entry && now - entry.last < 15 * 60_000 ? entry.count : 0) + 1, last: now });
    if (this.failures.size > 10_000) this.failures.clear();
  }
  succeed(key: string) {
    this.failures.delete(key);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function sessionRoutes(app: FastifyInstance) {
  const throttle = new LoginThrottle();
  const loginLimit = { config: { access: access.public, rateLimit: { max: 20, timeWindow: '1 minute' } } };
  const open = { config: { access: access.public } };
  const signedIn = { config: { access: access.signedIn } };

  async function checkCredentials(request: FastifyRequest, body: unknown) {
    const parsed = credentialsSchema.safeParse(body);
    if (!parsed.success) throw new ValidationError('login and password are required', zodProblems(parsed.error));
    const key = `${parsed.data.login.toLowerCase()}|${request.ip}`;
    const delay = throttle.delayMs(key);
    if (delay > 0) await sleep(delay);
    const now = app.engine.now().getTime();
    // Checked before, answered after the password is: a locked login costs the same time and gets the same answer.
    const locked = app.signInLockout.isLocked(parsed.data.login, now);
    const actor = await authenticate(app.db, parsed.data.login, parsed.data.password);
    if (locked) {
      request.log.warn({ login: parsed.data.login, ip: request.ip, locked: true }, 'sign-in refused: the login is locked after repeated failures');
      return undefined;
    }
    if (!actor) {
      throttle.fail(key);
      const outcome = app.signInLockout.fail(parsed.data.login, request.ip, now);
      request.log.warn({ login: parsed.data.login, ip: request.ip }, 'failed login');
      if (outcome === 'locked-now') {
        const lock = app.signInLockout.locked(now).find((entry) => entry.login === parsed.data.login.trim().toLowerCase());
        request.log.warn(
          { login: parsed.data.login, ip: request.ip, failures: lock?.failures, addresses: lock?.addresses, until: lock ? new Date(lock.until).toISOString() : undefined },
          'login locked: too many failed sign-ins',
        );
      }
      return undefined;
    }
    throttle.succeed(key);
    app.signInLockout.succeed(parsed.data.login);
    return actor;
  }

  app.get('/login', open, async (request, reply) => {
    const next = safeNext((request.query as Record<string, unknown>).next);
    return reply.page('pages/login.eta', { title: request.t('login.title'), next, error: null, login: '' });
  });

  app.post('/login', loginLimit, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const next = safeNext(body.next);
    let actor;
    try {
      actor = await checkCredentials(request, body);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
    }
    if (!actor) {
      const login = typeof body.login === 'string' ? body.login.slice(0, 64) : '';
      return reply.page('pages/login.eta', { title: request.t('login.title'), next, error: request.t('login.failed'), login }, 401);
    }
    if (request.session) revokeSession(app.db, request.session.tokenHash, app.engine.now());
    // A new session id at every login: a planted cookie never becomes a signed-in session.
    const { token } = signIn(app.db, actor, 'cookie', app.engine.now(), request.ip);
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      secure: app.secureCookies || request.protocol === 'https',
      maxAge: SESSION_ABSOLUTE_MS / 1000,
    });
    request.log.info({ user: actor.login, ip: request.ip }, 'login');
    return reply.redirect(next === '/' ? '/' : next, 303);
  });

  // Signed in only: an expired session goes to the login page instead of failing its CSRF check.
  app.post('/logout', signedIn, async (request, reply) => {
    if (request.session) signOut(app.db, request.session, app.engine.now(), request.ip);
    request.log.info({ user: request.actor?.login, ip: request.ip }, 'logout');
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: app.secureCookies || request.protocol === 'https' });
    return reply.redirect('/login', 303);
  });

  app.get('/lang/:lang', open, async (request, reply) => {
    const { lang } = request.params as { lang: string };
    const back = safeNext((request.query as Record<string, unknown>).back);
    if (isLang(lang)) reply.setCookie(LANG_COOKIE, lang, { path: '/', sameSite: 'lax', httpOnly: true, maxAge: 365 * 24 * 3600 });
    return reply.redirect(back, 303);
  });

  const api = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['session'];

  api.post(
    '/api/session',
    {
      ...loginLimit,
      schema: {
        tags,
        summary: 'Sign in: a bearer token (valid for 24 hours) and who it belongs to',
        description: 'Twenty tries a minute per address; each failure for the same login and address doubles the wait before the next answer, and repeated failures lock the login for a while.',
        body: credentialsSchema,
        response: { 200: json('signed in', sessionResponse), ...errors([401, 'wrong login or password (or the login is locked for now)'], ...bodyErrors) },
      },
    },
    async (request, reply) => {
      const actor = await checkCredentials(request, request.body);
      if (!actor) return reply.code(401).send({ error: 'unauthorized', message: 'wrong login or password' });
      const { token, expiresAt } = signIn(app.db, actor, 'bearer', app.engine.now(), request.ip);
      // The user's e-mail address (issue 12) travels with the user, never inside an event's actor.
      return { token, expiresAt, user: { ...actor, email: userProfile(app.db, actor.id).email } };
    },
  );

  api.delete(
    '/api/session',
    { ...signedIn, schema: { tags, summary: 'Sign out: the token is revoked', response: { 204: noContent, ...errors(401) } } },
    async (request, reply) => {
      if (!request.session) return reply.code(401).send({ error: 'unauthorized', message: 'authentication required' });
      signOut(app.db, request.session, app.engine.now(), request.ip);
      return reply.code(204).send();
    },
  );
}
