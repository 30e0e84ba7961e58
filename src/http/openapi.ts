import fp from 'fastify-plugin';
import swagger, { type SwaggerTransform, type SwaggerTransformObject } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifySchema, FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { createRequire } from 'node:module';
import { z, type ZodType } from 'zod';
import { zodProblems } from '../domain/problems.ts';
import { NotFoundError, ValidationError } from '../engine/errors.ts';
import { access, type Access } from './authorization.ts';
import { errors, json } from './api-schemas.ts';

/**
 * The API described by its schemas (issue 10): every `/api/` route declares zod schemas for its
 * params, query and body, checked here at the edge, and for its answers; @fastify/swagger turns
 * them into the OpenAPI 3.1 document at `GET /api/openapi.json`, browsable at `GET /api/docs`.
 */

declare module 'fastify' {
  interface FastifySchema {
    /**
     * The body as the document shows it, where the edge checks less than that (an event's envelope:
     * the engine checks its payload) or does not parse it at all (an upload streams its file).
     */
    documentedBody?: ZodType;
  }
}

export const DOCS_PREFIX = '/api/docs';

/**
 * Checks one part of the request against its zod schema. Instead of the type provider's own
 * compiler, whose refusals are fastify's 400s, a refusal is one of our errors, so that the error
 * plugin answers it as it answers the engine's: a path that names nothing is not found (404, as
 * `idParam` says), a bad body or query is a 422 with its problems field by field.
 */
export const edgeValidator: FastifySchemaCompiler<ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    const parsed = schema.safeParse(data);
    if (parsed.success) return { value: parsed.data };
    if (httpPart === 'params') return { error: new NotFoundError() };
    return { error: new ValidationError(`the ${httpPart === 'querystring' ? 'query string' : (httpPart ?? 'request')} is invalid`, zodProblems(parsed.error)) };
  };

/**
 * Answers go out as JSON, unchecked, as they did before the schemas: a field a schema forgot must
 * never turn an answer into a 500. The tests check every answer against the document instead.
 */
const plainJson: FastifySerializerCompiler<unknown> = () => (data) => JSON.stringify(data);

function whoMay(rule: Access | undefined): string {
  if (rule === 'public') return 'Anyone, without signing in.';
  if (rule === 'authenticated') return 'Anyone signed in.';
  return rule ? `Roles: ${rule.join(', ')}.` : 'Nobody: the route declares no access rule.';
}

/** One route into the document: `/api/` routes only, the body as documented, who may call it from the access table. */
const documentRoute: SwaggerTransform = (input) => {
  const { schema, url, route } = input;
  if (!url.startsWith('/api/') || !schema || schema.hide) return { schema: { hide: true }, url };
  const { documentedBody, ...rest } = schema;
  const transformed = jsonSchemaTransform({ ...input, schema: documentedBody ? { ...rest, body: documentedBody } : rest });
  const rule = route.config?.access;
  const described: FastifySchema & Record<string, unknown> = {
    ...transformed.schema,
    description: [rest.description, whoMay(rule)].filter(Boolean).join('\n\n'),
    security: rule === 'public' ? [] : [{ bearer: [] }],
    'x-access': rule ?? null,
  };
  return { schema: described, url: transformed.url };
};

/** The named schemas that some operation uses: the type provider emits every registered one, for input and output both. */
function usedComponents(document: ReturnType<SwaggerTransformObject>): ReturnType<SwaggerTransformObject> {
  const { paths, components } = document as { paths?: unknown; components?: { schemas?: Record<string, unknown> } };
  const all = components?.schemas ?? {};
  const used = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && child.startsWith('#/components/schemas/')) {
        const name = child.slice('#/components/schemas/'.length);
        if (!used.has(name)) {
          used.add(name);
          visit(all[name]);
        }
      } else visit(child);
    }
  };
  visit(paths);
  return { ...document, components: { ...components, schemas: Object.fromEntries(Object.entries(all).filter(([name]) => used.has(name))) } } as ReturnType<SwaggerTransformObject>;
}

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const description = `The JSON API of ISU-IB, the management information system for initiative budgeting programmes.

Sign in with \`POST /api/session\` and send \`Authorization: Bearer <token>\` with every other call. Money is integer kopecks; times are UTC ISO 8601.
Every change of state is an event: send \`{type, expectedVersion, …payload}\` and keep the \`version\` the answer gives. A stale version is refused with 409
and the fresh state; a refusal changes nothing. Errors are \`{error, message}\`, with \`problems[]\` field by field on a 422.`;

/** Registered before the routes, so that it sees them all. */
export const openapiPlugin = fp(async (app) => {
  app.setValidatorCompiler(edgeValidator);
  app.setSerializerCompiler(plainJson);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'ISU-IB API', version, description },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the token `POST /api/session` gives' } } },
      tags: [
        { name: 'session', description: 'signing in and out' },
        { name: 'applications', description: 'competition applications and their events' },
        { name: 'documents', description: 'the documents of an application and what a programme requires' },
        { name: 'programmes', description: 'programmes and their twelve stages' },
        { name: 'commission', description: 'criteria, ranking and the commission’s decision' },
        { name: 'audit', description: 'history, replay and verification of the ledger' },
        { name: 'reviewers', description: 'a reviewer’s declarations of conflicts of interest' },
        { name: 'public', description: 'the public portal’s open data, without signing in (cacheable, ETag from the ledger position)' },
        { name: 'documentation', description: 'this document' },
      ],
    },
    transform: documentRoute,
    transformObject: (document) => usedComponents(jsonSchemaTransformObject(document)),
  });

  // Served from our origin under the app's own Content-Security-Policy, unchanged: the page loads
  // only its own scripts and styles, so no `staticCSP` is needed. The base layout leaves out the
  // standalone top bar, whose logo is an SVG with an inline <style> the policy rightly blocks; the
  // validator badge (an image from another origin) stays off.
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    theme: { title: 'ISU-IB API' },
    uiConfig: { layout: 'BaseLayout', deepLinking: true, defaultModelsExpandDepth: 0 },
  });

  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/openapi.json',
    {
      config: { access: access.public },
      schema: { tags: ['documentation'], summary: 'This document (OpenAPI 3.1)', response: { 200: json('the document', z.record(z.string(), z.unknown())), ...errors() } },
    },
    async () => app.swagger() as Record<string, unknown>,
  );
});
