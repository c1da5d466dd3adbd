import { AssertionError } from 'node:assert';
import { type Document, OpenApiCheck } from './openapi-check.js';
import { type RawExchange, rawHttp, rawResponses } from './raw-http.js';

/** Left out of the document on purpose: Swagger UI and the document itself, the embedded mode's demo pages. */
const NOT_IN_THE_DOCUMENT = /^\/(docs|demo)(\/|-json|$|\?)/;

/**
 * Every answer a test gets from one running service, checked against the OpenAPI document that
 * service serves (/docs-json; see OpenApiCheck). A mismatch fails the request that got it, and is
 * also kept in `problems`: one that a test swallows on purpose (`.catch(() => undefined)`, a
 * background token refresh) still fails the test file when it ends (assertNoProblems).
 */
export class ResponseCheck {
  readonly problems: string[] = [];
  private checker: Promise<OpenApiCheck> | undefined;

  constructor(readonly baseUrl: string) {}

  /** Fetches the document now (before a test stops the service, say). */
  async load(): Promise<void> {
    await this.document();
  }

  /** fetch(baseUrl + path), its answer checked. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(`${this.baseUrl}${path}`, init);
    await this.response(init.method ?? 'GET', response);
    return response;
  }

  /** A fetch for a client (TotpClient's `fetch` option) that checks every answer. */
  readonly checkedFetch = async (request: Request): Promise<Response> => {
    const response = await fetch(request);
    await this.response(request.method, response);
    return response;
  };

  /** Checks an answer got elsewhere (the body is read from a clone: the caller can still read it). */
  async response(method: string, response: Response): Promise<void> {
    await this.conforms(method, response.url, response.status, response.headers, Buffer.from(await response.clone().arrayBuffer()));
  }

  /** Checks what rawHttp got back for `request` (raw bytes: its request line names the route, dot segments kept). */
  async raw(request: string, written: string): Promise<void> {
    const [method, path] = request.split(' ', 2);
    let responses;
    try {
      responses = rawResponses(written);
    } catch (error) {
      return this.fail([`${method} ${path}: ${(error as Error).message}`]);
    }
    for (const r of responses) await this.conforms(method, path, r.status, r.headers, r.body);
  }

  /** rawHttp to this service, with what comes back checked. */
  async rawHttp(chunks: string[], waitMs: number, keepOpen = false): Promise<RawExchange> {
    const exchange = await rawHttp(Number(new URL(this.baseUrl).port), chunks, waitMs, keepOpen);
    await this.raw(chunks[0], exchange.response);
    return exchange;
  }

  /** For an after() hook: fails when any answer did not conform, even one whose error a test swallowed. */
  assertNoProblems(): void {
    if (this.problems.length > 0)
      throw new AssertionError({ message: `Responses did not match the OpenAPI document:\n  ${this.problems.join('\n  ')}` });
  }

  private async conforms(method: string, target: string, status: number, headers: Headers, bytes: Buffer): Promise<void> {
    const path = target.startsWith('/') ? target : new URL(target).pathname;
    if (NOT_IN_THE_DOCUMENT.test(path)) return;
    const check = await this.document();
    const isJson = (headers.get('content-type') ?? '').includes('json');
    let json: unknown;
    try {
      json = isJson && bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : undefined;
    } catch {
      return this.fail([`${method} ${path} ${status}: the body is not JSON although its type says so`]);
    }
    const problems = check.check(method, target, status, headers, { json, bytes: bytes.length });
    if (problems.length > 0) this.fail(problems);
  }

  private fail(problems: string[]): never {
    this.problems.push(...problems);
    throw new AssertionError({ message: `The response does not match the OpenAPI document:\n  ${problems.join('\n  ')}` });
  }

  private document(): Promise<OpenApiCheck> {
    this.checker ??= fetch(`${this.baseUrl}/docs-json`).then(async (r) => {
      if (r.status !== 200) throw new Error(`GET /docs-json answered ${r.status}`);
      return new OpenApiCheck((await r.json()) as Document);
    });
    return this.checker;
  }
}
