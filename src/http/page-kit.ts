import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Remark } from '../domain/application.ts';
import type { Actor } from '../domain/roles.ts';
import { DomainError, NotFoundError, UnauthorizedError } from '../engine/errors.ts';
import type { Engine } from '../engine/engine.ts';
import { bodyText } from './forms.ts';
import { statusOf } from './plugins/errors.ts';

/**
 * What every page route repeats, once: the notice a page shows after an action, the hidden
 * expected version of its forms, the signed-in actor, and "try the command, and if it is
 * refused, show the page again with why".
 */

export interface Notice {
  tone: 'info' | 'success' | 'warning' | 'error';
  text: string;
  items?: string[];
}

/** The signed-in user: the access hook (src/http/authorization.ts) lets no one else reach a non-public route. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new UnauthorizedError();
  return request.actor;
}

/** A form post as an object of fields. */
export function formBody(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** The hidden `expectedVersion` of a page's form; a missing or malformed one is 0, which no stream has, so a conflict. */
export function formVersion(body: Record<string, unknown>): number {
  const text = bodyText(body, 'expectedVersion') ?? '';
  return /^\d{1,9}$/.test(text) ? Number(text) : 0;
}

/** The remarks of a return for revision by the field they are about. */
export function remarksByField(remarks: readonly Remark[]): Record<string, string[]> {
  const byField: Record<string, string[]> = {};
  for (const remark of remarks) (byField[remark.field] ??= []).push(remark.text);
  return byField;
}

/** A refused command: the error and the status its page answers with. */
export interface Refused {
  error: DomainError;
  status: number;
}

/**
 * Runs a page's command. A refusal a person can act on (a conflict, a rule, bad input, a role) is
 * returned for the page to show; "not found" and anything unexpected go on to the error handler.
 */
export async function attempt<T>(command: () => T | Promise<T>): Promise<{ ok: true; value: T } | ({ ok: false } & Refused)> {
  try {
    return { ok: true, value: await command() };
  } catch (error) {
    if (!(error instanceof DomainError) || error instanceof NotFoundError || error instanceof UnauthorizedError) throw error;
    return { ok: false, error, status: statusOf(error) };
  }
}

/**
 * Runs a page's write — a synchronous command of `create`/`apply` calls — in the engine's next
 * group commit (`engine.write`), with the refusals `attempt` returns.
 */
export function attemptWrite<T>(engine: Engine, command: () => T): Promise<{ ok: true; value: T } | ({ ok: false } & Refused)> {
  return attempt(() => engine.write(command));
}

/** The application page with a notice, answering a page action (the application's and the documents' routes). */
export type ShowApplication = (request: FastifyRequest, reply: FastifyReply, id: number, status?: number, extras?: Record<string, unknown>) => Promise<FastifyReply>;
