import { randomUUID } from 'node:crypto';
import { type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyHttpOptions, FastifyRequest, RawServerBase, RouteGenericInterface } from 'fastify';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config.js';
import { DomainError, validationError } from './domain-error.js';
import { sendHttpError } from './http-error.filter.js';

const BODY_LIMIT_BYTES = 16 * 1024;
/** Deeper bodies are refused before parsing: class-transformer recurses per level (a stack overflow at ~1,400). */
const MAX_JSON_DEPTH = 32;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const CONNECTIONS_CHECK_MS = 1000;
const FORM = 'application/x-www-form-urlencoded';
// Fatal: invalid UTF-8 is refused, not silently replaced by U+FFFD.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const JSON_TYPE = 'application/json';

/**
 * The HTTP server's own limits (issue 10 §5): a whole request must arrive within
 * REQUEST_TIMEOUT_MS (slow-body connections are cut, checked every second), idle keep-alive
 * connections close after KEEP_ALIVE_TIMEOUT_MS, and errors Node answers itself (408, 431, a
 * malformed request) carry the error envelope.
 */
export function serverOptions(config: AppConfig): FastifyHttpOptions<Server> & { return503OnClosing: boolean } {
  const { requestTimeoutMs, keepAliveTimeoutMs } = config.http;
  return {
    bodyLimit: BODY_LIMIT_BYTES,
    // userId may be 128 characters (API.md §2); Fastify's default cap on a path parameter is 100.
    routerOptions: { maxParamLength: 256 },
    trustProxy: trustFunction(config.trustProxy),
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    http: { requestTimeout: requestTimeoutMs, headersTimeout: requestTimeoutMs, connectionsCheckingInterval: CONNECTIONS_CHECK_MS },
    // A caller's X-Request-Id is kept when it is well-formed, so logs correlate across services.
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const header = req.headers['x-request-id'];
      return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    clientErrorHandler,
  };
}

/**
 * Fastify (this version) trusts no hop for a bare hop count (it cannot check the peer), so a hop
 * count becomes proxy-addr's trust function: the socket peer and the next n-1 forwarded addresses
 * are proxies; the client is the next one to the left (the right-most untrusted address).
 */
function trustFunction(trust: AppConfig['trustProxy']): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust !== 'number') return trust;
  return (_address, hop) => hop < trust;
}

/** Errors Node's HTTP parser raises before any request exists: answered in the envelope, then the socket closes. */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'REQUEST_TIMEOUT', 'The request did not arrive in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'HEADERS_TOO_LARGE', 'The request headers are too large']
        : [400, 'INVALID_REQUEST', 'The request is malformed'];
  const requestId = randomUUID();
  const body = JSON.stringify({ status: 'FAILED', code, message, requestId });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * Before any parsing: JSON only (form or JSON on the token endpoint), UTF-8 only, bounded nesting;
 * and the cap on open connections.
 */
export function hardenHttp(app: NestFastifyApplication, config: AppConfig, logger: Logger): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.server.maxConnections = config.http.maxConnections;
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser<Server>(JSON_TYPE, { bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) => {
    if (body.length === 0) {
      done(new DomainError('INVALID_REQUEST', 'The JSON body is empty'), undefined);
      return;
    }
    if (nestingExceeds(body, MAX_JSON_DEPTH)) {
      done(validationError([{ field: 'body', message: `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels` }]), undefined);
      return;
    }
    let text: string;
    try {
      text = UTF8.decode(body);
    } catch {
      done(validationError([{ field: 'body', message: 'The body is not valid UTF-8' }]), undefined);
      return;
    }
    void parseJson(request, text, done);
  });
  // A body without a Content-Type (chunked): only an empty one is taken (the hook below has already
  // refused every type other than JSON, and form on the token endpoint).
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
    if ((body as Buffer).length === 0) done(null, undefined);
    else done(new DomainError('UNSUPPORTED_MEDIA_TYPE', `Send the body as ${JSON_TYPE} in UTF-8`), undefined);
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    const refusal = mediaTypeRefusal(request);
    if (refusal === undefined) {
      done();
      return;
    }
    void sendHttpError(refusal, request, reply, logger);
  });
}

function mediaTypeRefusal(request: FastifyRequest<RouteGenericInterface, RawServerBase>): DomainError | undefined {
  const { headers } = request;
  const length = headers['content-length'];
  // A chunked request without a type may well be empty (some clients send DELETE so); Fastify
  // refuses it (415) if it is not.
  const hasBody = (length !== undefined && length !== '0') || (headers['transfer-encoding'] !== undefined && headers['content-type'] !== undefined);
  const route = request.routeOptions.url;
  if (!hasBody || route === undefined) return undefined;
  const [type = '', ...params] = (headers['content-type'] ?? '').split(';').map((p) => p.trim().toLowerCase());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '');
  const allowed = route === '/oauth/token' ? [FORM, JSON_TYPE] : [JSON_TYPE];
  if (allowed.includes(type) && (charset === undefined || charset === 'utf-8' || charset === 'utf8')) return undefined;
  return new DomainError('UNSUPPORTED_MEDIA_TYPE', `Send the body as ${allowed.join(' or ')} in UTF-8`);
}

/** True when brackets nest deeper than `max` outside strings: a linear scan, no parsing. */
export function nestingExceeds(body: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) return true;
    } else if (byte === 0x5d || byte === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** While draining, a request that has taken this long to arrive is stalled. */
const DRAIN_REQUEST_TIMEOUT_MS = 1000;

/**
 * At shutdown, when draining starts: requests that have taken DRAIN_REQUEST_TIMEOUT_MS to arrive
 * (a stalled body or header) are cut at Node's next connection check (once a second), within the
 * drain period, instead of holding the close for REQUEST_TIMEOUT_MS; requests arriving whole in
 * that time, as the load balancer's still do, are served. Requests being handled finish; idle
 * keep-alive connections are closed by Fastify's close. Returns what to await after the drain,
 * before closing: the check stops when the server closes, so one more check runs first, with no
 * grace, for requests that stalled during the drain's last second.
 */
export function cutStalledRequests(server: Server): () => Promise<void> {
  server.requestTimeout = Math.min(server.requestTimeout, DRAIN_REQUEST_TIMEOUT_MS);
  server.headersTimeout = Math.min(server.headersTimeout, DRAIN_REQUEST_TIMEOUT_MS);
  return async () => {
    server.requestTimeout = 1;
    server.headersTimeout = 1;
    await new Promise((resolve) => setTimeout(resolve, CONNECTIONS_CHECK_MS + 100));
  };
}
