import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { RETRY_AFTER } from '../../src/common/openapi/document.js';
import type { ErrorCode } from '../../src/common/error-codes.js';

// ajv-formats is CommonJS; its default export is the plugin function.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

interface Schema {
  $ref?: string;
  [key: string]: unknown;
}
interface Response {
  headers?: Record<string, { required?: boolean }>;
  content?: Record<string, { schema?: Schema }>;
}
interface Operation {
  responses: Record<string, Response>;
}
export interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/**
 * Checks a response against the OpenAPI document the service serves: its status is declared for the
 * operation, its body matches the declared schema for its content type, the headers the document
 * says every such response carries are there, and Retry-After is there whenever the body's code is
 * one that carries it (the document marks Retry-After optional where a status groups codes with and
 * without it). Returns the problems (none: it conforms).
 */
export class OpenApiCheck {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
  private readonly routes: Array<{ method: string; pattern: RegExp; operation: Operation }> = [];
  private readonly validators = new Map<Schema, ValidateFunction>();

  constructor(document: Document) {
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'openapi', components: document.components }, 'openapi');
    for (const [path, item] of Object.entries(document.paths)) {
      const pattern = new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`);
      for (const [method, operation] of Object.entries(item)) this.routes.push({ method: method.toUpperCase(), pattern, operation });
    }
  }

  /** `target`: the URL fetched, or the path as written on a raw request line (dot segments kept). */
  check(method: string, target: string, status: number, headers: Headers, body: { json?: unknown; bytes: number }): string[] {
    // As sent: a parameter's %-escapes stay inside its segment.
    const path = target.startsWith('/') ? target.split('?')[0] : new URL(target).pathname;
    const route = this.routes.find((r) => r.method === method.toUpperCase() && r.pattern.test(path));
    // A route the document does not have: only the error envelope of a 404 or 405 is right (or of
    // what a request gets before routing: 400, 408, 413, 415, 431).
    if (route === undefined) {
      if (![400, 404, 405, 408, 413, 415, 431].includes(status)) return [`${method} ${path}: undocumented route answered ${status}`];
      const expected = { 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED' }[status as 404 | 405];
      const code = (body.json as { code?: unknown } | undefined)?.code;
      const problems = this.validate({ $ref: '#/components/schemas/ErrorEnvelope' }, body.json, `${method} ${path} ${status}`);
      if (expected !== undefined && code !== expected) problems.push(`${method} ${path} ${status}: code ${String(code)}, expected ${expected}`);
      return problems;
    }
    const response = route.operation.responses[String(status)];
    if (response === undefined)
      return [`${method} ${path}: status ${status} is not declared (declared: ${Object.keys(route.operation.responses).join(', ')})`];
    const problems: string[] = [];
    const code = (body.json as { code?: unknown } | undefined)?.code;
    if (RETRY_AFTER.has(code as ErrorCode) && !headers.has('retry-after'))
      problems.push(`${method} ${path} ${status}: ${String(code)} without Retry-After`);
    for (const [name, declared] of Object.entries(response.headers ?? {})) {
      const value = headers.get(name);
      if (value === null) {
        if (declared.required === true) problems.push(`${method} ${path} ${status}: header ${name} missing`);
        continue;
      }
      const schema = (declared as { schema?: { type?: string } }).schema;
      if (schema !== undefined) {
        const typed = schema.type === 'integer' || schema.type === 'number' ? (/^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value) : value;
        problems.push(...this.validate(schema, typed, `${method} ${path} ${status}: header ${name}`));
      }
    }
    const contentType = (headers.get('content-type') ?? '').split(';')[0].trim();
    if (response.content === undefined) {
      if (body.bytes > 0) problems.push(`${method} ${path} ${status}: a body (${contentType}) where none is declared`);
      return problems;
    }
    const media = response.content[contentType];
    if (media === undefined)
      return [...problems, `${method} ${path} ${status}: content type ${contentType} not declared (${Object.keys(response.content).join(', ')})`];
    if (contentType === 'application/json' && media.schema !== undefined)
      problems.push(...this.validate(media.schema, body.json, `${method} ${path} ${status}`));
    return problems;
  }

  private validate(schema: Schema, value: unknown, where: string): string[] {
    let validator = this.validators.get(schema);
    if (validator === undefined) {
      validator = this.ajv.compile(rebase(schema));
      this.validators.set(schema, validator);
    }
    if (validator(value)) return [];
    return (validator.errors ?? []).map((e) => `${where}: body${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }
}

/** Points the document's local references (#/components/…) at the schema registered as "openapi". */
function rebase(schema: Schema): Schema {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"openapi#/components/')) as Schema;
}
