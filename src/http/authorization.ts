import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { roles, type Role } from '../domain/roles.ts';
import { ForbiddenError, UnauthorizedError } from '../engine/errors.ts';
import { applicationCreateRoles, applicationEventRoles } from '../../machines/application.ts';
import { stageCreateRoles, stageEventRoles } from '../../machines/stage.ts';
import { reviewerEventRoles, reviewerOverseerRoles } from '../../machines/reviewer.ts';
import { journalCreateRoles, journalEventRoles } from '../../machines/journal.ts';
import type { MachineRegistry } from '../../machines/registry.ts';
import { conversationEventRoles } from '../../machines/conversation.ts';
import { decisionRoles } from '../workflows/commission/rules.ts';
import { pageActor } from './plugins/auth.ts';

/**
 * The authorisation table, in one module (issue 6): who may use each route, and who may send
 * each event. Every route declares `config: { access }`; one hook below enforces it before the
 * body is even parsed, and a route that declares nothing refuses everyone (fail closed). Events
 * keep their roles beside their machines (`applicationEventRoles`, `stageEventRoles`), and the
 * engine's one write path enforces those; `eventTable` reads them from the registry.
 *
 * What the table cannot say alone — an applicant sees only its own municipality — is enforced
 * where the application is loaded (`findApplication`, the list queries), answering 404.
 */

/** Who may use a route: anyone, anyone signed in, or the roles listed. */
export type Access = 'public' | 'authenticated' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyInstance {
    /** Every route registered after the authorisation plugin, with its declared access. */
    routeRules: RouteRule[];
  }
}

export interface RouteRule {
  method: string;
  url: string;
  access: Access | undefined;
}

const union = (table: Record<string, readonly Role[]>): readonly Role[] => roles.filter((role) => Object.values(table).some((list) => list.includes(role)));

/** The named rules routes refer to; each one derived from the machines where the machines decide. */
export const access = {
  public: 'public',
  signedIn: 'authenticated',
  admin: ['admin'],
  /** Everyone but applicants: the queue and the other staff pages. */
  staff: roles.filter((role) => role !== 'applicant'),
  auditors: ['auditor', 'admin'],
  createApplication: applicationCreateRoles,
  /** The edit page sends `update` and, with intent=submit, `submit`. */
  editApplication: roles.filter((role) => applicationEventRoles.update.includes(role) || applicationEventRoles.submit.includes(role)),
  /** Whoever may send at least one application event; the engine checks the event itself. */
  applicationEvents: union(applicationEventRoles),
  /** Uploads and the reviewer's checklist (issue 7): the senders of `attach-document` and `review-document`. */
  attachDocument: applicationEventRoles['attach-document'],
  /** The implementation's evidence (issue 11): the senders of `attach-evidence`. */
  attachEvidence: applicationEventRoles['attach-evidence'],
  /** The payment form of the stage 8 list (issue 11): the senders of `record-contribution`. */
  recordContribution: applicationEventRoles['record-contribution'],
  reviewDocument: applicationEventRoles['review-document'],
  createProgramme: stageCreateRoles,
  stageEvents: union(stageEventRoles),
  /** Members score, the commission records the decision. */
  score: applicationEventRoles.score,
  decide: decisionRoles,
  /** Before the decision the live ranking is the commission's working paper: staff only. */
  liveRanking: roles.filter((role) => role !== 'applicant'),
  /** The programme journal (issue 14): who records entries, and who sends their events (documents, links). */
  recordJournal: journalCreateRoles,
  journalEvents: union(journalEventRoles),
  /** Who sees every municipality's applications (applicants see their own only). */
  allMunicipalities: roles.filter((role) => role !== 'applicant'),
  /** The review queue's assignment (issue 16): who assigns (in bulk too), who takes, who declares conflicts of interest. */
  assign: applicationEventRoles.assign,
  take: applicationEventRoles.take,
  declareConflicts: reviewerEventRoles['declare-conflict'],
  overseeConflicts: reviewerOverseerRoles,
  /** Who writes in an application's conversation (issue 12); the machine decides the rest. */
  postMessage: conversationEventRoles['post-message'],
  /** The coordinator's dashboard (issue 13): who runs the programme, and the auditor, who reads every figure it is made of. */
  dashboard: ['coordinator', 'admin', 'auditor'],
  /** Who sends the participants their results (stage 7): whoever ticks the stage's tasks. */
  inform: stageEventRoles['complete-task'],
  /** Who writes the analytical report's recommendations (stage 12, issue 13). */
  recordRecommendations: stageEventRoles['record-recommendations'],
} as const satisfies Record<string, Access>;

/** The page each role lands on after signing in. */
export const landingPage: Record<Role, string> = {
  applicant: '/applications',
  reviewer: '/queue',
  coordinator: '/dashboard',
  commission: '/applications',
  auditor: '/applications',
  admin: '/applications',
};

/** The main navigation: every link whose route the role may use, in order, the current one marked. */
const isDashboard = (url: string) => url.startsWith('/dashboard') || /^\/programmes\/\d+\/dashboard/.test(url);
const navigationLinks: { href: string; label: string; access: Access; current: (url: string) => boolean }[] = [
  { href: '/dashboard', label: 'nav.dashboard', access: access.dashboard, current: isDashboard },
  { href: '/applications', label: 'nav.applications', access: access.signedIn, current: (url) => url.startsWith('/applications') && !url.startsWith('/applications/new') },
  { href: '/programmes', label: 'nav.programmes', access: access.signedIn, current: (url) => url.startsWith('/programmes') && !isDashboard(url) },
  { href: '/queue', label: 'nav.queue', access: access.staff, current: (url) => url.startsWith('/queue') },
  { href: '/audit', label: 'nav.audit', access: access.staff, current: (url) => url.startsWith('/audit') },
  { href: '/admin/users', label: 'admin.nav.users', access: access.admin, current: (url) => url.startsWith('/admin/users') },
  { href: '/admin/municipalities', label: 'admin.nav.municipalities', access: access.admin, current: (url) => url.startsWith('/admin/municipalities') },
  { href: '/applications/new', label: 'nav.new', access: access.createApplication, current: (url) => url.startsWith('/applications/new') },
];

export function navigation(role: Role, url: string): { href: string; label: string; current: boolean }[] {
  return navigationLinks.filter((link) => allows(link.access, role)).map((link) => ({ href: link.href, label: link.label, current: link.current(url) }));
}

/** What the signed-in role may use, by the names of the rules above: what pages ask to show a link or a column. */
export function permissionsOf(role: Role | null): Record<keyof typeof access, boolean> {
  return Object.fromEntries(Object.entries(access).map(([name, rule]) => [name, allows(rule, role)])) as Record<keyof typeof access, boolean>;
}

/** Whether the access rule lets this role (null: nobody signed in) use the route. */
export function allows(rule: Access | undefined, role: Role | null): boolean {
  if (rule === undefined) return false;
  if (rule === 'public') return true;
  if (role === null) return false;
  return rule === 'authenticated' || rule.includes(role);
}

/** Role × event for every machine the engine knows: machine id → event type → roles. */
export function eventTable(registry: MachineRegistry): Record<string, Record<string, readonly Role[]>> {
  return Object.fromEntries(registry.machines().map((entry) => [entry.id, entry.eventRoles]));
}

/** Role × route as a matrix: for each route, which roles (and visitors) it lets in. */
export function routeTable(app: FastifyInstance): { method: string; url: string; access: Access | undefined; allowed: Record<Role | 'visitor', boolean> }[] {
  return app.routeRules.map((rule) => ({
    ...rule,
    allowed: Object.fromEntries([...roles, 'visitor' as const].map((role) => [role, allows(rule.access, role === 'visitor' ? null : role)])) as Record<Role | 'visitor', boolean>,
  }));
}

export { applicationEventRoles, applicationCreateRoles, stageEventRoles, stageCreateRoles };

function describe(rule: Access): string {
  return typeof rule === 'string' ? rule : rule.join(', ');
}

export interface AuthorizationOptions {
  /** Prefixes of the static files (styles, scripts, icons): public, and registered by plugins that cannot declare it. */
  assetPrefixes: readonly string[];
}

/**
 * Registered before any route so that it sees them all. Authentication (the auth plugin's
 * onRequest) has run by the time `preParsing` comes, and nothing has read the body yet.
 */
export const authorizationPlugin = fp<AuthorizationOptions>(async (app, options) => {
  const rules: RouteRule[] = [];
  app.decorate('routeRules', rules);

  app.addHook('onRoute', (route) => {
    const url = route.url ?? route.path ?? '';
    let rule = route.config?.access;
    if (rule === undefined && options.assetPrefixes.some((prefix) => url.startsWith(prefix))) {
      rule = 'public';
      route.config = { ...route.config, access: rule };
    }
    if (rule === undefined) app.log.error({ url }, 'this route declares no config.access: it refuses everyone until it does');
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      // fastify adds a HEAD beside each GET with the same options: one row is enough.
      if (method === 'HEAD' && rules.some((r) => r.method === 'GET' && r.url === url)) continue;
      rules.push({ method, url, access: rule });
    }
  });

  app.addHook('preParsing', async (request, reply) => {
    if (request.is404) return;
    const rule = request.routeOptions.config.access;
    if (rule === undefined) throw refuse(request, 'this route declares no access rule');
    if (rule === 'public') return;
    if (!request.actor) {
      if (request.url.startsWith('/api/')) throw new UnauthorizedError();
      // A page sends the visitor to the login page; nothing after this hook runs (handlers may rely on request.actor).
      pageActor(request, reply);
      return reply;
    }
    if (!allows(rule, request.actor.role)) throw refuse(request, `the role ${request.actor.role} may not use this page (allowed: ${describe(rule)})`);
  });
});

/** A refusal, logged with who and from where (never with the request's secrets). */
function refuse(request: FastifyRequest, message: string): ForbiddenError {
  request.log.warn({ user: request.actor?.login ?? null, role: request.actor?.role ?? null, ip: request.ip, method: request.method, route: request.routeOptions.url }, `refused: ${message}`);
  return new ForbiddenError(message);
}
