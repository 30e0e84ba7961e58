import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  activateUser,
  changeUser,
  createUser,
  deactivateUser,
  findUser,
  listUsers,
  resetPassword,
  revokeUserSessions,
  type UserRow,
} from '../../accounts/user-admin.ts';
import { PASSWORD_MAX, PASSWORD_MIN } from '../../accounts/password-policy.ts';
import type { FieldProblem } from '../../domain/application.ts';
import { roles, type Actor, type Role } from '../../domain/roles.ts';
import { NotAllowedError, ValidationError } from '../../engine/errors.ts';
import type { Translate } from '../../i18n/index.ts';
import { listMunicipalities } from '../../read/applications.ts';
import { listProgrammes } from '../../workflows/programme/reads.ts';
import { formatDateTime, zoneLabel } from '../../domain/time.ts';
import { access, eventTable, routeTable } from '../authorization.ts';
import { bodyText } from '../forms.ts';
import { requireActor } from '../plugins/auth.ts';
import type { Notice } from '../page-kit.ts';
import { idParam } from './params.ts';


const adminOnly = { config: { access: access.admin } };

/** The outcomes a redirect may announce on the user's page: `?done=<key>&n=<count>`. */
const doneMessages = new Set(['created', 'saved', 'password', 'revoked', 'deactivated', 'activated']);

function problemTexts(t: Translate, problems: FieldProblem[]): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const problem of problems) {
    const key = `admin.problem.${problem.code}`;
    const text = t(key, { min: PASSWORD_MIN, max: PASSWORD_MAX });
    texts[problem.field] ??= text === key ? t('admin.problem.invalid') : text;
  }
  return texts;
}

function municipalityOf(body: Record<string, unknown>): number | null {
  const text = bodyText(body, 'municipalityId') ?? '';
  return /^\d{1,9}$/.test(text) ? Number(text) : null;
}

function roleOf(value: unknown): Role | undefined {
  return typeof value === 'string' && (roles as readonly string[]).includes(value) ? (value as Role) : undefined;
}

/**
 * User administration (issue 6), for admins: the list, a new user, and each user's page with
 * the forms that change the role and municipality, set a password, end sessions, deactivate.
 * Every form works without JavaScript; passwords are never shown back or logged.
 */
export async function adminUserRoutes(app: FastifyInstance) {
  const now = () => app.engine.now();

  /** Who did what to whom, for the log: never a password. */
  function audit(request: FastifyRequest, action: string, target: { id: number; login: string }, details: Record<string, unknown> = {}) {
    request.log.info({ admin: request.actor?.login, ip: request.ip, action, target: target.login, targetId: target.id, ...details }, `user administration: ${action}`);
  }

  function userPage(request: FastifyRequest, reply: FastifyReply, user: UserRow, status = 200, extras: Record<string, unknown> = {}) {
    const actor = requireActor(request);
    return reply.page(
      'pages/admin-user.eta',
      {
        title: request.t('admin.user.title', { login: user.login }),
        user,
        isSelf: user.id === actor.id,
        roles,
        municipalities: listMunicipalities(app.db),
        values: { name: user.name, role: user.role, municipalityId: user.municipalityId, email: user.email ?? '' },
        problems: {},
        notice: null,
        ...extras,
      },
      status,
    );
  }

  app.get('/admin/users', adminOnly, async (request, reply) => {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const q = typeof query.q === 'string' ? query.q.trim().slice(0, 100) : '';
    const role = roleOf(query.role);
    const rows = listUsers(app.db, { q: q || undefined, role }, now());
    return reply.page('pages/admin-users.eta', { title: request.t('admin.users.title'), rows, roles, filter: { q, role: role ?? '' }, locks: lockAlerts(request) });
  });

  /** One alert line per existing account whose sign-in is locked now (made-up logins are locked too, but not listed). */
  function lockAlerts(request: FastifyRequest): string[] {
    const at = now();
    const locked = app.signInLockout.locked(at.getTime());
    if (locked.length === 0) return [];
    const known = new Map(listUsers(app.db, {}, at).map((user) => [user.login.toLowerCase(), user]));
    const timeZone = listProgrammes(app.db)[0]?.timeZone ?? 'Europe/Moscow';
    return locked
      .filter((lock) => known.has(lock.login))
      .map((lock) =>
        request.t('admin.users.locked', {
          login: known.get(lock.login)!.login,
          until: `${formatDateTime(new Date(lock.until).toISOString(), timeZone, request.lang)} (${zoneLabel(timeZone, at)})`,
          failures: lock.failures,
          addresses: lock.addresses.length,
        }),
      );
  }

  function newUserPage(request: FastifyRequest, reply: FastifyReply, values: Record<string, unknown>, problems: FieldProblem[], status: number) {
    return reply.page(
      'pages/admin-user-new.eta',
      {
        title: request.t('admin.users.new'),
        roles,
        municipalities: listMunicipalities(app.db),
        values,
        problems: problemTexts(request.t, problems),
        passwordMin: PASSWORD_MIN,
        notice: problems.length > 0 ? ({ tone: 'error', text: request.t('admin.errors', { count: problems.length }) } satisfies Notice) : null,
      },
      status,
    );
  }

  app.get('/admin/users/new', adminOnly, async (request, reply) => newUserPage(request, reply, { role: 'applicant' }, [], 200));

  app.post('/admin/users', adminOnly, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const input = {
      login: bodyText(body, 'login') ?? '',
      name: bodyText(body, 'name') ?? '',
      role: bodyText(body, 'role') ?? '',
      municipalityId: municipalityOf(body),
      email: bodyText(body, 'email') ?? '',
    };
    const password = bodyText(body, 'password') ?? '';
    // The passwords are never shown back: the form asks for them again.
    const refuse = (problems: FieldProblem[]) => newUserPage(request, reply, input, problems, 422);
    try {
      // Every problem in one answer, the mismatch of the two passwords among them (issue 16).
      const user = await createUser(app.db, { ...input, password, confirmation: bodyText(body, 'confirmation') ?? '' }, now(), requireActor(request));
      audit(request, 'create', user, { role: user.role, municipalityId: user.municipalityId });
      return reply.redirect(`/admin/users/${user.id}?done=created`, 303);
    } catch (error) {
      if (error instanceof ValidationError) return refuse(error.problems);
      throw error;
    }
  });

  app.get('/admin/users/:id', adminOnly, async (request, reply) => {
    const user = findUser(app.db, idParam(request.params), now());
    const query = (request.query ?? {}) as Record<string, unknown>;
    const done = typeof query.done === 'string' && doneMessages.has(query.done) ? query.done : null;
    const count = typeof query.n === 'string' && /^\d{1,6}$/.test(query.n) ? Number(query.n) : 0;
    const notice: Notice | null = done ? { tone: 'success', text: request.t(`admin.done.${done}`, { login: user.login, count }) } : null;
    return userPage(request, reply, user, 200, { notice });
  });

  /** Runs one change to a user; refusals show the user's page again with the reason, 422. */
  async function change(request: FastifyRequest, reply: FastifyReply, work: (actor: Actor, user: UserRow) => Promise<string> | string, typed?: Record<string, unknown>) {
    const actor = requireActor(request);
    const user = findUser(app.db, idParam(request.params), now());
    try {
      const location = await work(actor, user);
      return reply.redirect(location, 303);
    } catch (error) {
      if (error instanceof ValidationError) {
        return userPage(request, reply, user, 422, {
          ...(typed ? { values: typed } : {}),
          problems: problemTexts(request.t, error.problems),
          notice: { tone: 'error', text: request.t('admin.errors', { count: error.problems.length }) },
        });
      }
      if (error instanceof NotAllowedError) {
        return userPage(request, reply, user, 422, { notice: { tone: 'error', text: error.reason ? request.t(error.reason) : error.message } });
      }
      throw error;
    }
  }

  app.post('/admin/users/:id', adminOnly, (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const input = { name: bodyText(body, 'name') ?? '', role: bodyText(body, 'role') ?? '', municipalityId: municipalityOf(body), ...(bodyText(body, 'email') === undefined ? {} : { email: bodyText(body, 'email') }) };
    // A refused change shows what was typed beside its problems, not the stored values.
    return change(
      request,
      reply,
      (actor, user) => {
        const changed = changeUser(app.db, user.id, input, now(), actor);
        audit(request, 'change', user, { from: { role: user.role, municipalityId: user.municipalityId }, to: { role: changed.role, municipalityId: changed.municipalityId } });
        return `/admin/users/${user.id}?done=saved`;
      },
      input,
    );
  });

  app.post('/admin/users/:id/password', adminOnly, (request, reply) =>
    change(request, reply, async (actor, user) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const revoked = await resetPassword(app.db, user.id, bodyText(body, 'password') ?? '', bodyText(body, 'confirmation') ?? '', now(), actor);
      // A new password is the way out of a lock: the failures guessed at the old one no longer count.
      app.signInLockout.clear(user.login);
      audit(request, 'reset-password', user, { revokedSessions: revoked });
      return `/admin/users/${user.id}?done=password&n=${revoked}`;
    }),
  );

  app.post('/admin/users/:id/sessions/revoke', adminOnly, (request, reply) =>
    change(request, reply, (actor, user) => {
      const revoked = revokeUserSessions(app.db, user.id, now(), actor);
      audit(request, 'revoke-sessions', user, { revokedSessions: revoked });
      return `/admin/users/${user.id}?done=revoked&n=${revoked}`;
    }),
  );

  app.post('/admin/users/:id/deactivate', adminOnly, (request, reply) =>
    change(request, reply, (actor, user) => {
      const revoked = deactivateUser(app.db, actor, user.id, now());
      audit(request, 'deactivate', user, { revokedSessions: revoked });
      return `/admin/users/${user.id}?done=deactivated&n=${revoked}`;
    }),
  );

  app.post('/admin/users/:id/activate', adminOnly, (request, reply) =>
    change(request, reply, (actor, user) => {
      activateUser(app.db, user.id, now(), actor);
      audit(request, 'activate', user);
      return `/admin/users/${user.id}?done=activated`;
    }),
  );

  /** The authorisation table itself, read from the same rules the hooks and the engine enforce. */
  app.get('/admin/access', { config: { access: access.auditors } }, async (request, reply) => {
    const t = request.t;
    const routes = routeTable(app)
      .filter((row) => row.method !== 'HEAD' && !row.url.startsWith('/static/') && !row.url.startsWith('/vendor/'))
      .sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method));
    const machines = Object.entries(eventTable(app.engine.registry)).map(([machineId, events]) => {
      const key = `admin.machine.${machineId}`;
      const label = t(key);
      return {
        id: machineId,
        label: label === key ? machineId : label,
        events: Object.entries(events).map(([type, allowed]) => ({ type, label: t(`event.${type}`), allowed: Object.fromEntries(roles.map((role) => [role, allowed.includes(role)])) })),
      };
    });
    return reply.page('pages/admin-access.eta', { title: t('admin.access.title'), routes, machines, roles });
  });
}
