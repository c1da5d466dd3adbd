import type { HeaderObject, OpenAPIObject, OperationObject, ReferenceObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { type ErrorCode, statusOf } from '../error-codes.js';
import { codeOf, type DocumentedError, ERROR_CODES_EXTENSION, errorExample } from './error-docs.js';
import { ERROR_SCHEMAS, header, OAUTH_ERRORS_EXTENSION, oauthErrorResponses } from './schemas.js';

/** Codes that come with Retry-After (the filter sets it from the error's retryAfterSeconds). */
export const RETRY_AFTER: ReadonlySet<ErrorCode> = new Set([
  'SERVICE_UNAVAILABLE',
  'RATE_LIMITED',
  'DEVICE_LOCKED',
  'USER_LOCKED',
  'ACTIVATION_IN_PROGRESS',
  'LOGIN_REQUEST_BUSY',
  'IDEMPOTENCY_KEY_IN_USE',
]);
// Answered by Node's HTTP server before any route runs, in the envelope (http-server.ts
// clientErrorHandler): a request it cannot parse, one that did not arrive in time, oversized headers.
// The token endpoint too, whose other errors are RFC 6749 bodies.
const BEFORE_ROUTING: ErrorCode[] = ['INVALID_REQUEST', 'REQUEST_TIMEOUT', 'HEADERS_TOO_LARGE'];
// Any route can answer these, and an outage or shutdown.
const EVERY_ROUTE: ErrorCode[] = [...BEFORE_ROUTING, 'SERVICE_UNAVAILABLE'];
// Methods whose body is read (a GET's is ignored): too large or of another type, also where none is expected.
const READS_BODY: ErrorCode[] = ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];
// Bad percent-encoding in a path parameter, malformed JSON.
const WITH_INPUT: ErrorCode[] = ['INVALID_REQUEST', 'VALIDATION_FAILED'];
const PROTECTED: ErrorCode[] = ['UNAUTHORIZED', 'INVALID_TOKEN', 'INSUFFICIENT_SCOPE'];
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
// Every POST under /v1 takes an Idempotency-Key (idempotency/idempotency.interceptor.ts); a new
// key beyond the client's hourly quota is 429 RATE_LIMITED.
const IDEMPOTENT: ErrorCode[] = ['IDEMPOTENCY_KEY_IN_USE', 'IDEMPOTENCY_KEY_REUSED', 'RATE_LIMITED'];
const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header' as const,
  required: false,
  description:
    'IETF httpapi Idempotency-Key: the same key and request again within 24 h get the first answer (Idempotent-Replayed: true); ' +
    'another request with the key is 422, one while the first runs 409. Keys are per client; ' +
    '1-255 printable ASCII characters, a UUID is a good choice. ' +
    'A client starts at most IDEMPOTENCY_KEYS_PER_CLIENT_PER_HOUR new keys an hour; ' +
    'beyond that a keyed request is 429 RATE_LIMITED with Retry-After, ' +
    'so send a key where a retry must not run twice, not on every request. ' +
    'Answers with a secret (Cache-Control: no-store) are kept 10 minutes; ' +
    'answers that say "retry later" (5xx, or with Retry-After) and 400 VALIDATION_FAILED/INVALID_REQUEST are not kept. ' +
    'A replay checks nothing again: a key names one operation.',
  // No example: Swagger UI would fill it in, and every call made there would share one key.
  schema: { type: 'string', minLength: 1, maxLength: 257 },
};

export interface DocumentOptions {
  publicUrl: string;
  tags: Array<{ name: string; description: string }>;
}

/**
 * Completes the document Nest builds from the decorators with everything systematic, so it is true
 * for every route alike: the error responses each route can give (its own codes plus those of every
 * route, every route with a body or parameters, every protected route), each with the ErrorEnvelope
 * schema narrowed to those codes, examples and headers; X-Request-Id on every response; `security:
 * []` on public routes; unknown fields refused in request bodies; servers and tags.
 */
export function completeDocument(document: OpenAPIObject, options: DocumentOptions): OpenAPIObject {
  document.servers = [{ url: options.publicUrl, description: 'This deployment (PUBLIC_URL)' }];
  document.tags = options.tags;
  const components = (document.components ??= {});
  components.schemas = { ...components.schemas, ...ERROR_SCHEMAS };
  for (const [url, path] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = path[method];
      if (operation !== undefined) completeOperation(operation, method, components.schemas, method === 'post' && url.startsWith('/v1/'));
    }
  }
  return document;
}

function completeOperation(
  operation: OperationObject,
  method: (typeof METHODS)[number],
  schemas: Record<string, SchemaObject | ReferenceObject>,
  idempotent: boolean,
): void {
  if (idempotent) operation.parameters = [...(operation.parameters ?? []), IDEMPOTENCY_KEY];
  const extensions = operation as OperationObject & Record<string, unknown>;
  const own = (extensions[ERROR_CODES_EXTENSION] as DocumentedError[] | undefined) ?? [];
  const oauth = extensions[OAUTH_ERRORS_EXTENSION] === true;
  delete extensions[ERROR_CODES_EXTENSION];
  delete extensions[OAUTH_ERRORS_EXTENSION];
  const isProtected = (operation.security ?? []).length > 0;
  if (!isProtected) operation.security = [];
  const derived: ErrorCode[] = [
    ...EVERY_ROUTE,
    ...(method === 'get' ? [] : READS_BODY),
    ...(operation.requestBody !== undefined || (operation.parameters ?? []).length > 0 ? WITH_INPUT : []),
    ...(isProtected ? PROTECTED : []),
    ...(idempotent ? IDEMPOTENT : []),
  ];
  const errors = dedupe([...own, ...derived]);
  for (const [status, group] of groupByStatus(oauth ? errors.filter((e) => BEFORE_ROUTING.includes(codeOf(e))) : errors)) {
    operation.responses[String(status)] = errorResponse(group);
  }
  if (oauth) {
    const unparsable = operation.responses['400'] as ResponseObject;
    Object.assign(operation.responses, oauthErrorResponses());
    operation.responses['400'] = eitherResponse(operation.responses['400'] as ResponseObject, unparsable);
  }
  for (const [status, response] of Object.entries(operation.responses)) {
    const r = response as ResponseObject;
    if (status.startsWith('2')) r.headers = { 'X-Request-Id': header('XRequestId'), ...r.headers };
    // A kept answer can come again: a success, or an error of the route's own (not one answered
    // before the request runs, nor a "retry later").
    const replayable = status.startsWith('2') || own.some((e) => String(statusOf(codeOf(e))) === status && !RETRY_AFTER.has(codeOf(e)));
    if (idempotent && replayable) r.headers = { ...r.headers, 'Idempotent-Replayed': header('IdempotentReplayed', false) };
  }
  // The token endpoint ignores parameters it does not know (RFC 6749 §3.2).
  if (!oauth) refuseUnknownFields(operation, schemas);
}

function dedupe(errors: DocumentedError[]): DocumentedError[] {
  const seen = new Map<ErrorCode, DocumentedError>();
  for (const e of errors) if (!seen.has(codeOf(e)) || typeof e !== 'string') seen.set(codeOf(e), e);
  return [...seen.values()];
}

function groupByStatus(errors: DocumentedError[]): Map<number, DocumentedError[]> {
  const groups = new Map<number, DocumentedError[]>();
  for (const e of errors) groups.set(statusOf(codeOf(e)), [...(groups.get(statusOf(codeOf(e))) ?? []), e]);
  return new Map([...groups.entries()].sort(([a], [b]) => a - b));
}

function errorResponse(group: DocumentedError[]): ResponseObject {
  const codes = group.map(codeOf);
  const headers: Record<string, HeaderObject> = { 'X-Request-Id': header('XRequestId') };
  if (codes.some((c) => RETRY_AFTER.has(c)))
    headers['Retry-After'] = header(
      'RetryAfter',
      codes.every((c) => RETRY_AFTER.has(c)),
    );
  if (codes.some((c) => PROTECTED.includes(c)))
    headers['WWW-Authenticate'] = header(
      'WWWAuthenticateBearer',
      codes.every((c) => PROTECTED.includes(c)),
    );
  return {
    description: codes.join(' | '),
    headers,
    content: {
      'application/json': {
        schema: {
          allOf: [
            { $ref: '#/components/schemas/ErrorEnvelope' },
            { type: 'object', required: ['code'], properties: { code: { type: 'string', enum: codes } } },
          ],
        },
        examples: Object.fromEntries(group.map((e) => [codeOf(e), { summary: codeOf(e), value: errorExample(e) }])),
      },
    },
  };
}

/** One status, two bodies (the token endpoint's 400: RFC 6749, or the envelope of a request Node could not parse). */
function eitherResponse(a: ResponseObject, b: ResponseObject): ResponseObject {
  const [ja, jb] = [a.content?.['application/json'], b.content?.['application/json']];
  const headers: Record<string, HeaderObject> = {};
  for (const [name, h] of Object.entries({ ...b.headers, ...a.headers }) as Array<[string, HeaderObject]>) {
    const both =
      (a.headers?.[name] as HeaderObject | undefined)?.required === true && (b.headers?.[name] as HeaderObject | undefined)?.required === true;
    headers[name] = { ...h, required: both };
  }
  return {
    description: `${a.description}; or ${b.description} in the ErrorEnvelope (a request the HTTP server cannot parse)`,
    headers,
    content: {
      'application/json': { schema: { oneOf: [ja?.schema ?? {}, jb?.schema ?? {}] }, examples: { ...ja?.examples, ...jb?.examples } },
    },
  };
}

/** API.md: unknown JSON fields are refused (400), so request body schemas say so. */
function refuseUnknownFields(operation: OperationObject, schemas: Record<string, SchemaObject | ReferenceObject>): void {
  const body = operation.requestBody as { content?: Record<string, { schema?: SchemaObject | ReferenceObject }> } | undefined;
  const schema = body?.content?.['application/json']?.schema;
  if (schema === undefined || !('$ref' in schema)) return;
  const target = schemas[schema.$ref.replace('#/components/schemas/', '')];
  if (target !== undefined && !('$ref' in target)) target.additionalProperties = false;
}
