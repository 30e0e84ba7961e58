import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { findSession, type Session } from '../../accounts/sessions.ts';
import type { Actor } from '../../domain/roles.ts';
import { UnauthorizedError } from '../../engine/errors.ts';

export const SESSION_COOKIE = 'sid';

declare module 'fastify' {
  interface FastifyInstance {
    /** Cookies are marked Secure: the app is served over TLS (directly or behind a proxy). */
    secureCookies: boolean;
  }
  interface FastifyRequest {
    actor: Actor | null;
    session: Session | null;
    /** A multipart form's `_csrf` field, which only the route reads (before the file): see `verifyMultipartCsrf`. */
    multipartCsrf: string | null;
    /** The CSRF check of this multipart form waits for the route to read its `_csrf` field. */
    csrfDeferred: boolean;
  }
  interface FastifyContextConfig {
    /** The route takes multipart forms and checks their `_csrf` field itself (issue 7). */
    csrf?: 'multipart-field';
  }
}

const unsafe = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isHtmx(request: FastifyRequest): boolean {
  return request.headers['hx-request'] === 'true';
}

/** What a CSRF token is bound to: the session it was issued in, or a visitor's lack of one. */
export function csrfUserInfo(request: FastifyRequest): string {
  return request.session?.tokenHash ?? 'visitor';
}

const csrfHeaders = ['csrf-token', 'xsrf-token', 'x-csrf-token', 'x-xsrf-token'] as const;

/**
 * The CSRF token a request carries: the parsed form's `_csrf`, a header (htmx sends
 * `X-CSRF-Token`), or the `_csrf` field of a multipart form, read by its route.
 */
export function csrfTokenOf(request: FastifyRequest): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object' && typeof body._csrf === 'string' && body._csrf) return body._csrf;
  for (const name of csrfHeaders) {
    const value = request.headers[name];
    if (typeof value === 'string' && value) return value;
  }
  return request.multipartCsrf ?? undefined;
}

function isMultipart(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith('multipart/form-data');
}

/**
 * Checks the `_csrf` field of a multipart form whose check the preHandler left to the route: the
 * field comes before the file in the form, so the route has it before it reads a byte of the file.
 * On failure the 403 is already being sent; the route only returns the reply.
 */
export function verifyMultipartCsrf(request: FastifyRequest, reply: FastifyReply, token: string | undefined): boolean {
  if (!request.csrfDeferred) return true;
  request.multipartCsrf = token ?? null;
  let passed = false;
  request.server.csrfProtection(request, reply, () => {
    passed = true;
  });
  if (passed) request.csrfDeferred = false;
  return passed;
}

/** The signed-in user or a 401. */
export function requireActor(request: FastifyRequest): Actor {
  if (!request.actor) throw new UnauthorizedError();
  return request.actor;
}

/** Pages send an unauthenticated visitor to the login page, with the way back. */
export function pageActor(request: FastifyRequest, reply: FastifyReply): Actor | undefined {
  if (request.actor) return request.actor;
  const next = encodeURIComponent(request.url);
  if (isHtmx(request)) {
    void reply.header('HX-Redirect', `/login?next=${next}`).code(401).send();
  } else {
    void reply.redirect(`/login?next=${next}`, 303);
  }
  return undefined;
}

/**
 * Who is asking: pages authenticate by the session cookie, the API by a bearer token only, so
 * that no API call rides on a browser's ambient cookie. Every state-changing page request must
 * carry the CSRF token.
 */
export const authPlugin = fp<{ secureCookies: boolean }>(async (app, options) => {
  app.decorate('secureCookies', options.secureCookies);
  app.decorateRequest('actor', null);
  app.decorateRequest('session', null);
  app.decorateRequest('multipartCsrf', null);
  app.decorateRequest('csrfDeferred', false);

  app.addHook('onRequest', async (request) => {
    const now = app.engine.now();
    if (request.url.startsWith('/api/')) {
      const header = request.headers.authorization;
      const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9_-]+)$/.exec(header) : null;
      if (match) request.session = findSession(app.db, match[1]!, 'bearer', now) ?? null;
    } else {
      const token = request.cookies[SESSION_COOKIE];
      if (token) request.session = findSession(app.db, token, 'cookie', now) ?? null;
    }
    request.actor = request.session?.actor ?? null;
  });

  app.addHook('preHandler', (request, reply, done) => {
    if (!unsafe.has(request.method) || request.url.startsWith('/api/')) return done();
    // A multipart body is a stream only its route reads: without the header (htmx sends it), the
    // route checks the form's `_csrf` field itself before it reads the file (verifyMultipartCsrf).
    if (request.routeOptions.config.csrf === 'multipart-field' && isMultipart(request) && !csrfHeaders.some((name) => request.headers[name])) {
      request.csrfDeferred = true;
      return done();
    }
    app.csrfProtection(request, reply, done);
  });
});
