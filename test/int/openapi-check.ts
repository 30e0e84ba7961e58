import type { FastifyInstance } from 'fastify';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * Checks an answer of the app against its own OpenAPI document (issue 10): the route's operation,
 * the status among its documented responses, and the body against the response's JSON schema
 * (draft 2020-12, with ajv). The `api()` helper runs every answer through it, so each journey test
 * that calls a documented route checks that route's answers too.
 */

type Schema = Record<string, unknown>;
interface Response {
  content?: Record<string, { schema?: Schema }>;
}
interface Operation {
  method: string;
  path: string;
  pattern: RegExp;
  params: number;
  responses: Record<string, Response>;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const componentBase = 'https://isu-ib.invalid/components/';

/** The document's own references, made absolute so that each component is a schema of its own. */
function absoluteRefs<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', `"${componentBase}`)) as T;
}

export class ResponseChecker {
  private readonly ajv: Ajv2020;
  private readonly operations: Operation[] = [];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(document: { paths: Record<string, Record<string, { responses: Record<string, Response> }>>; components?: { schemas?: Record<string, Schema> } }) {
    this.ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
    // The document says `format: binary` of the files it sends; nothing in a JSON body is binary.
    this.ajv.addFormat('binary', true);
    for (const [name, schema] of Object.entries(absoluteRefs(document.components?.schemas ?? {}))) this.ajv.addSchema(schema, `${componentBase}${name}`);
    for (const [path, methods] of Object.entries(document.paths)) {
      const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+');
      for (const [method, operation] of Object.entries(methods)) {
        this.operations.push({ method: method.toUpperCase(), path, pattern: new RegExp(`^${source}$`), params: (path.match(/\{/g) ?? []).length, responses: absoluteRefs(operation.responses) });
      }
    }
    // A path with fewer parameters names its route more precisely.
    this.operations.sort((a, b) => a.params - b.params);
  }

  /** The document's operation for a request, or undefined when the URL is none of the documented routes. */
  operationFor(method: string, url: string): Operation | undefined {
    const path = url.split('?')[0]!;
    return this.operations.find((operation) => operation.method === method && operation.pattern.test(path));
  }

  /** What is wrong with an answer, by the document; empty when it is as documented or not a documented route. */
  problems(method: string, url: string, status: number, contentType: string | undefined, body: unknown): string[] {
    const operation = this.operationFor(method, url);
    if (!operation) return [];
    const where = `${method} ${operation.path} → ${status}`;
    const response = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`] ?? operation.responses.default;
    if (!response) return [`${where}: the status is not documented (documented: ${Object.keys(operation.responses).join(', ')})`];
    const mediaType = (contentType ?? '').split(';')[0]!.trim();
    if (!response.content) return body === '' || body === undefined ? [] : [`${where}: documented without a body, but one came (${mediaType})`];
    const content = response.content[mediaType];
    if (!content) return [`${where}: the content type ${mediaType || '(none)'} is not documented (documented: ${Object.keys(response.content).join(', ')})`];
    if (mediaType !== 'application/json' || !content.schema) return [];
    const key = `${operation.method} ${operation.path} ${status}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(content.schema);
      this.validators.set(key, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).slice(0, 10).map((error) => `${where}: ${error.instancePath || '(body)'} ${error.message ?? ''} ${JSON.stringify(error.params)}`);
  }
}

const checkers = new WeakMap<FastifyInstance, ResponseChecker>();

/** The checker for an app, made once from the document it serves. */
export function responseChecker(app: FastifyInstance): ResponseChecker {
  let checker = checkers.get(app);
  if (!checker) {
    checker = new ResponseChecker(app.swagger() as unknown as ConstructorParameters<typeof ResponseChecker>[0]);
    checkers.set(app, checker);
  }
  return checker;
}
