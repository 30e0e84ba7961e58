import { VerifyJobs } from '../audit/verify-jobs.ts';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import view from '@fastify/view';
import { Eta } from 'eta';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseQuery } from 'node:querystring';
import type { Db } from '../db/client.ts';
import type { Engine } from '../engine/engine.ts';
import type { GroupCommitOptions } from '../engine/group-commit.ts';
import { workflowEngine } from '../workflows/index.ts';
import { authPlugin, csrfTokenOf, csrfUserInfo } from './plugins/auth.ts';
import { pagePlugin } from './plugins/page.ts';
import { securityHeaders } from './plugins/security-headers.ts';
import { errorsPlugin } from './plugins/errors.ts';
import { i18nPlugin } from './plugins/i18n.ts';
import { sessionRoutes } from './routes/session.ts';
import { applicationPages } from './routes/application-pages.ts';
import { applicationApi } from './routes/application-api.ts';
import { programmeApi } from './routes/programme-api.ts';
import { programmePages } from './routes/programme-pages.ts';
import { programmeCreatePages } from './routes/programme-create-pages.ts';
import { commissionPages } from './routes/commission-pages.ts';
import { commissionApi } from './routes/commission-api.ts';
import { auditApi } from './routes/audit-api.ts';
import { auditPages } from './routes/audit-pages.ts';
import { adminUserRoutes } from './routes/admin-users.ts';
import { adminMunicipalityRoutes } from './routes/admin-municipalities.ts';
import { accountPasswordRoutes } from './routes/account-password.ts';
import { access, authorizationPlugin } from './authorization.ts';
import { DOCS_PREFIX, openapiPlugin } from './openapi.ts';
import { documentApi } from './routes/document-api.ts';
import { implementationApi } from './routes/implementation-api.ts';
import { documentRequirementsPages } from './routes/document-requirements-pages.ts';
import { queuePages } from './routes/queue-pages.ts';
import { reviewerApi } from './routes/reviewer-api.ts';
import { journalPages } from './routes/journal-pages.ts';
import { journalApi } from './routes/journal-api.ts';
import { DocumentStore, documentsDirFor } from '../workflows/documents/store.ts';
import { MAX_DOCUMENT_BYTES } from '../domain/documents.ts';
import { DEFAULT_RATE_LIMIT_PER_MINUTE } from '../config.ts';
import { checkWritable } from '../db/readiness.ts';
import { SignInLockout } from '../accounts/sign-in-lockout.ts';
import { communicationSettings, communicationsPlugin, type CommunicationsOptions } from './plugins/communications.ts';
import { conversationApi } from './routes/conversation-api.ts';
import { registerRoutes } from './routes/register-routes.ts';
import { reportRoutes } from './routes/report-routes.ts';
import { dashboardRoutes } from './routes/dashboard-routes.ts';
import { notificationRoutes } from './routes/notification-routes.ts';
import { communicationsAdminRoutes } from './routes/communications-admin.ts';
import { publicRoutes } from './routes/public-routes.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

export interface AppOptions {
  db: Db;
  /** The engine's clock; tests move it. */
  now?: () => Date;
  logger?: boolean;
  /** Secure cookies: on behind TLS. */
  secureCookies?: boolean;
  /** Requests a minute per address, or per user for a bearer token (RATE_LIMIT_PER_MINUTE), 600 by default; 0 turns it off (the login limit stays). */
  rateLimitMax?: number;
  /** Where the log goes instead of stdout (tests read it); implies logging. */
  logStream?: NodeJS.WritableStream;
  /**
   * Behind reverse proxies: how many hops, or which proxy addresses and ranges, may say who the
   * client is in X-Forwarded-For (for the rate limits, the log and https). Never "every entry".
   */
  trustProxy?: number | string[] | false;
  /** Where uploaded documents are stored; by default `documents/` beside the database file. */
  documentsDir?: string;
  /** Notifications, e-mail and reminders (issue 12): SMTP, the public URL, whether the workers run. */
  communications?: CommunicationsOptions;
  /** The group commit of the routes' writes (issue 18): its batch bound, and where a test makes a commit fail. */
  groupCommit?: GroupCommitOptions;
}

/**
 * fastify takes a list of proxies as it is (proxy-addr), but a hop count it trusts not at all (it
 * cannot tell a proxy from a client that talks to the server directly). A count here means the
 * operator says every request comes through that many proxies: the last `hops` addresses in
 * X-Forwarded-For are theirs, and the one before them is the client.
 */
function trustFunction(trust: AppOptions['trustProxy']): false | string[] | ((address: string, hop: number) => boolean) {
  if (trust === undefined || trust === false || trust === 0) return false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return trust;
}

/** Never in the log: credentials, session and CSRF secrets, passwords wherever they are nested. */
export const logRedactions = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'password',
  '*.password',
  'body.password',
  'token',
  '*.token',
];

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
    engine: Engine;
    /** The uploaded documents, content-addressed (issue 7). */
    documentStore: DocumentStore;
    /** Failed sign-ins per account, across addresses (issue 17). */
    signInLockout: SignInLockout;
    /** Whole-ledger verifications, run off the request thread on a file database (issue 17). */
    verifyJobs: VerifyJobs;
  }
}

/**
 * The app factory: external plugins (security headers, cookies, CSRF, forms, views, static) →
 * application decorators (db, engine, auth, i18n, errors) → routes. Tests call it with `inject`.
 */
/**
 * Whom a request's limit counts against: an API client with a valid bearer token by its user, so
 * that one user's tokens share one limit from any address and users behind one address do not
 * share theirs (DESIGN §6 extensions); everyone else by address.
 */
export function rateLimitKey(request: FastifyRequest): string {
  return request.session?.kind === 'bearer' ? `user:${request.session.actor.id}` : `address:${request.ip}`;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      options.logger || options.logStream
        ? { level: 'info', redact: { paths: logRedactions, censor: '[redacted]' }, ...(options.logStream ? { stream: options.logStream } : {}) }
        : false,
    bodyLimit: 256 * 1024,
    trustProxy: trustFunction(options.trustProxy),
    routerOptions: { maxParamLength: 200 },
  });

  const headers = securityHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        upgradeInsecureRequests: options.secureCookies ? [] : null,
      },
    },
    hsts: options.secureCookies ? undefined : false,
  });
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  // Off globally at 0; the routes with a limit of their own (the login) keep it.
  const perMinute = options.rateLimitMax ?? DEFAULT_RATE_LIMIT_PER_MINUTE;
  await app.register(rateLimit, {
    global: perMinute > 0,
    max: perMinute > 0 ? perMinute : DEFAULT_RATE_LIMIT_PER_MINUTE,
    timeWindow: '1 minute',
    // Counted after the session is known (the auth hook runs on onRequest) and before a body is read.
    hook: 'preParsing',
    keyGenerator: rateLimitKey,
  });
  await app.register(cookie, { secret: randomBytes(32).toString('hex') });
  await app.register(formbody, {
    bodyLimit: 256 * 1024,
    // Repeated keys stay arrays; nothing else is coerced.
    parser: (body: string) => parseQuery(body),
  });
  // Uploads stream: nothing is parsed into memory; each upload route reads its one file (issue 7).
  await app.register(multipart, { throwFileSizeLimit: false, limits: { fileSize: MAX_DOCUMENT_BYTES + 1, files: 1, fields: 8, fieldSize: 4096, parts: 10 } });
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    // Each token is bound to the session it was issued in: a planted CSRF cookie forges nothing.
    csrfOpts: { hmacKey: randomBytes(32), userInfo: true },
    getUserInfo: (request) => csrfUserInfo(request),
    getToken: (request) => csrfTokenOf(request),
    cookieOpts: { httpOnly: true, sameSite: 'lax', path: '/', secure: options.secureCookies ?? false, signed: true },
  });
  await app.register(view, {
    engine: { eta: new Eta({ autoEscape: true, autoTrim: false }) },
    templates: join(root, 'views'),
    production: process.env.NODE_ENV !== 'development',
  });
  // Before any route, so that every route's access rule is recorded and enforced (src/http/authorization.ts).
  await app.register(authorizationPlugin, { assetPrefixes: ['/static/', '/vendor/htmx/', DOCS_PREFIX] });
  // Before the routes: the edge validation of the API's schemas, and the document made from them.
  await app.register(openapiPlugin);
  await app.register(fastifyStatic, { root: join(root, 'views', 'public'), prefix: '/static/', decorateReply: false, maxAge: '1h' });
  await app.register(fastifyStatic, {
    root: dirname(require.resolve('htmx.org/dist/htmx.min.js')),
    prefix: '/vendor/htmx/',
    decorateReply: false,
    allowedPath: (path) => path === '/htmx.min.js',
    maxAge: '1d',
  });

  const communications = communicationSettings(options.communications);
  const engine = workflowEngine(options.db, { ...(options.now ? { now: options.now } : {}), ...(options.groupCommit ? { groupCommit: options.groupCommit } : {}), outbox: communications.outbox });
  app.decorate('db', options.db);
  app.decorate('engine', engine);
  app.decorate('documentStore', new DocumentStore(options.documentsDir ?? documentsDirFor(options.db)));
  app.decorate('signInLockout', new SignInLockout());
  app.decorate('verifyJobs', new VerifyJobs(options.db, engine.registry, app.documentStore));
  app.addHook('onClose', async () => app.verifyJobs.close());
  // Personal data and tokens: no API answer is kept by a browser or a proxy cache.
  app.addHook('onSend', async (request, reply, payload) => {
    // The open data of the portal (issue 15) is public and cacheable; its routes say so themselves.
    const cacheControl = String(reply.getHeader('cache-control') ?? '');
    const openData = request.url.startsWith('/api/public/') && /^public\b/.test(cacheControl) && (reply.statusCode === 200 || reply.statusCode === 304);
    if (request.url.startsWith('/api/') && !openData && !/\bno-store\b/.test(cacheControl)) void reply.header('Cache-Control', 'no-store');
    return payload;
  });

  await app.register(errorsPlugin);
  await app.register(i18nPlugin);
  await app.register(authPlugin, { secureCookies: options.secureCookies ?? false });
  await app.register(pagePlugin);
  await app.register(communicationsPlugin, communications);

  // Liveness: the process answers. Readiness: the database can be written now (what a supervisor watches).
  app.get('/healthz', { config: { access: access.public } }, async () => ({ ok: true }));
  app.get('/readyz', { config: { access: access.public } }, async (request, reply) => {
    const readiness = checkWritable(options.db.$client);
    if (readiness.ok) return { ok: true };
    request.log.warn({ fault: readiness.fault, detail: readiness.detail }, 'not ready: the database cannot be written');
    return reply.code(503).send({ ok: false, error: `storage-${readiness.fault}`, message: request.t(`storage.${readiness.fault}`) });
  });
  await app.register(sessionRoutes);
  await app.register(applicationPages);
  await app.register(applicationApi);
  await app.register(programmeApi);
  await app.register(programmePages);
  await app.register(programmeCreatePages);
  await app.register(commissionPages);
  await app.register(commissionApi);
  await app.register(auditApi);
  await app.register(auditPages);
  await app.register(adminUserRoutes);
  await app.register(adminMunicipalityRoutes);
  await app.register(accountPasswordRoutes);
  await app.register(documentApi);
  await app.register(implementationApi);
  await app.register(documentRequirementsPages);
  await app.register(queuePages);
  await app.register(reviewerApi);
  await app.register(journalPages);
  await app.register(journalApi);
  await app.register(conversationApi);
  await app.register(registerRoutes);
  await app.register(reportRoutes);
  await app.register(dashboardRoutes);
  await app.register(notificationRoutes);
  await app.register(communicationsAdminRoutes);
  await app.register(publicRoutes);
  return app;
}
