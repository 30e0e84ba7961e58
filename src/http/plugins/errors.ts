import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { zodProblems } from '../../domain/problems.ts';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  NotAllowedError,
  NotFoundError,
  UnauthorizedError,
  ValidationError,
} from '../../engine/errors.ts';
import { refusalText } from '../refusals.ts';

/** The HTTP status of each kind of refusal (DESIGN §6): the engine's errors know no HTTP. */
export function statusOf(error: DomainError): number {
  if (error instanceof ConflictError) return 409;
  if (error instanceof ValidationError || error instanceof NotAllowedError) return 422;
  if (error instanceof ForbiddenError) return 403;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof UnauthorizedError) return 401;
  return 400;
}
import { storageFaultOf, storageFaultRetryAfterSeconds } from '../../db/storage-faults.ts';
import { translator } from '../../i18n/index.ts';

export function wantsJson(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/') || request.url === '/healthz' || request.url === '/readyz';
}

/** The body of every error answer: `{error, message}` plus what a client needs to act. */
export function errorBody(error: DomainError): Record<string, unknown> {
  const body: Record<string, unknown> = { error: error.code, message: error.message };
  if ('problems' in error) body.problems = error.problems;
  if ('current' in error) body.current = error.current;
  if ('reason' in error && error.reason) body.reason = error.reason;
  // Every blocking problem, for a client to name them all (each short source with both figures): the refusal as a whole is `general`.
  if (error instanceof NotAllowedError && error.blockers.length > 0) body.problems = error.blockers.map((problem) => ({ field: 'general', code: problem.code, ...(problem.params ? { params: problem.params } : {}) }));
  return body;
}

/** The statuses whose page has its own explanation in the catalogues; any other says what a 400 says. */
const explainedStatuses = new Set([400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503]);

/**
 * An error page in the person's words (issue 16): what happened and what to do, from the
 * catalogues — `reason`, in words already, where the rules or the fault named one — never the
 * developer's `message`, which stays in the log and the JSON.
 */
async function renderError(request: FastifyRequest, reply: FastifyReply, status: number, message: string, options: { reason?: string | undefined; error?: string } = {}) {
  if (wantsJson(request) || typeof reply.page !== 'function') return reply.code(status).send({ error: options.error ?? `http-${status}`, message: options.reason ?? message });
  const explained = explainedStatuses.has(status) ? status : 400;
  const text = options.reason ?? request.t(`error.${explained}.text`);
  try {
    return await reply.page('pages/error.eta', { title: request.t(`error.${explained}`), status, message: text }, status);
  } catch (failure) {
    // The page itself could not be made (its layout reads the database that just failed): the words alone.
    request.log.error(failure);
    return reply.code(status).type('text/plain; charset=utf-8').send(text);
  }
}

/**
 * One error handler: our error classes map to their statuses, fastify's own client errors keep
 * theirs, and anything else is a 500 whose details stay in the log.
 */
export const errorsPlugin = fp(async (app) => {
  app.setErrorHandler(async (error: FastifyError | Error, request, reply) => {
    let domain: DomainError | undefined;
    if (error instanceof DomainError) domain = error;
    else if (error instanceof ZodError) domain = new ValidationError('invalid input', zodProblems(error));
    if (domain) {
      // A signed-in user's 404 may be another municipality's application: an access refusal worth its log line.
      const status = statusOf(domain);
      if (status !== 404 || request.actor) request.log.info({ user: request.actor?.login, ip: request.ip, code: domain.code, url: request.url }, domain.message);
      if (wantsJson(request)) return reply.code(status).send(errorBody(domain));
      const reason = domain instanceof NotAllowedError && domain.reason ? request.t('app.refused', { message: refusalText(request.t, request.lang, domain) }) : undefined;
      return renderError(request, reply, status, domain.message, { reason });
    }
    const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      request.log.info({ user: request.actor?.login, ip: request.ip, code: (error as FastifyError).code }, error.message);
      const message = status === 403 ? 'the form has expired or was not sent from this site; reload the page and try again' : error.message;
      if (wantsJson(request)) return reply.code(status).send({ error: (error as FastifyError).code ?? `http-${status}`, message });
      return renderError(request, reply, status, message, { reason: status === 403 ? request.t('error.csrf') : undefined });
    }
    // A fault of the disk or the database file, not a bug: a 503 that says what happened (nothing was saved).
    const fault = storageFaultOf(error);
    if (fault) {
      request.log.error({ err: error, code: (error as { code?: string }).code, fault, user: request.actor?.login, url: request.url }, `storage fault: ${fault}`);
      const t = typeof request.t === 'function' ? request.t : translator('ru');
      const retryAfter = storageFaultRetryAfterSeconds[fault];
      if (retryAfter !== null) void reply.header('Retry-After', String(retryAfter));
      return renderError(request, reply, 503, t(`storage.${fault}`), { reason: t(`storage.${fault}`), error: `storage-${fault}` });
    }
    request.log.error(error);
    if (wantsJson(request)) return reply.code(500).send({ error: 'internal', message: 'internal error' });
    return renderError(request, reply, 500, 'internal error');
  });
  app.setNotFoundHandler(async (request, reply) => renderError(request, reply, 404, 'not found'));
});
