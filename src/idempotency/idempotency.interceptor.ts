import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import { DomainError } from '../common/domain-error.js';
import { isUserId } from '../common/validation.js';
import { ReplayedResponse } from '../common/replayed-response.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { CounterStore } from '../counters/counter.store.js';
import { SecretBox } from '../totp/secret-box.js';
import { readIdempotencyKey, requestFingerprint } from './idempotency-key.js';
import { IdempotencyStore } from './idempotency.store.js';

/** A first request's answer is kept this long (the draft's suggestion: 24 h)… */
const KEEP_MS = 24 * 3600 * 1000;
/** …but one that carries a secret (Cache-Control: no-store: a new device's, recovery codes) only this long. */
const KEEP_SECRET_MS = 10 * 60 * 1000;
/** The headers of an answer that belong to it (not to the connection or this request). */
const REPLAYED_HEADERS = ['content-type', 'cache-control', 'pragma', 'location'];

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when this request runs under an Idempotency-Key: its answer is kept (see keepIdempotentAnswers). */
    idempotency?: { clientId: string; key: string; run: string; userId: string | undefined };
  }
}

/**
 * Idempotency-Key on every POST under /v1 (after authentication, so keys are per client): a new
 * key runs the request; the same key and request again get the first answer
 * (Idempotent-Replayed: true); the same key with another request is 422; while the first runs, 409.
 * A client starts at most IDEMPOTENCY_KEYS_PER_CLIENT_PER_HOUR new keys (kept answers live in the
 * shared Redis: one client must not fill it for the others).
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly fingerprintKey: Buffer;
  /** Longer than a request can run: every dependency call has its deadline, and a request makes a few. */
  private readonly runningMs: number;

  constructor(
    private readonly store: IdempotencyStore,
    private readonly counters: CounterStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    box: SecretBox,
  ) {
    const derived = box.derive('idempotency-fingerprint');
    this.fingerprintKey = derived.keys.get(derived.currentKeyId) ?? Buffer.alloc(32);
    this.runningMs = Math.max(60_000, 20 * config.dependencyTimeoutMs);
  }

  /** A new key counts towards the client's hourly quota; beyond it, the key is let go and the request refused. */
  private async withinQuota(clientId: string, key: string, run: string): Promise<void> {
    const slot = await this.counters.reserve(`idempotency-keys:${clientId}`, this.config.limits.idempotencyKeysPerClientPerHour, 3600_000);
    if (slot.granted) return;
    await this.store.abandon(clientId, key, run);
    throw new DomainError('RATE_LIMITED', 'Too many new Idempotency-Keys for this client this hour', { retryAfterSeconds: slot.resetInMs / 1000 });
  }

  /** Synchronous for requests without a key (nearly all of them): no promise on the hot path. */
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (request.method !== 'POST' || request.client === undefined || !request.url.startsWith('/v1/')) return next.handle();
    const key = readIdempotencyKey(request.headers['idempotency-key']);
    if (key === undefined) return next.handle();
    return this.run(request, request.client.clientId, key, next);
  }

  private async run(request: FastifyRequest, clientId: string, key: string, next: CallHandler): Promise<Observable<unknown>> {
    const fingerprint = requestFingerprint(this.fingerprintKey, request.method, request.url, request.body);
    // On a user's path (/v1/users/{userId}/…): erasing the user forgets the key and its answer.
    const { userId } = (request.params ?? {}) as { userId?: unknown };
    const owner = typeof userId === 'string' && isUserId(userId) ? userId : undefined;
    const outcome = await this.store.begin(clientId, key, fingerprint, this.runningMs, owner);
    if (outcome.status === 'STARTED') await this.withinQuota(clientId, key, outcome.run);
    switch (outcome.status) {
      case 'REUSED':
        throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for another request (method, path or body)');
      case 'IN_PROGRESS':
        throw new DomainError('IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is still being processed; retry in a moment', {
          retryAfterSeconds: 1,
        });
      case 'DONE':
        throw new ReplayedResponse(outcome.response);
      case 'STARTED':
        request.idempotency = { clientId, key, run: outcome.run, userId: owner };
        return next.handle();
    }
  }
}

/** Answers not worth keeping: "not now" (5xx, Retry-After), or a request that did not parse (it costs nothing to refuse again). */
function notKept(reply: FastifyReply, body: unknown): boolean {
  if (reply.statusCode >= 500 || reply.hasHeader('retry-after') || typeof body !== 'string') return true;
  return reply.statusCode === 400 && /"code":"(VALIDATION_FAILED|INVALID_REQUEST)"/.test(body);
}

/**
 * Keeps the answer of a request that ran under an Idempotency-Key, as it goes out, success or error
 * alike (see notKept). If it cannot be kept (Redis away), or the run lost its key (it ran past its
 * lease), that is logged; the key frees itself and a retry runs again.
 */
export function keepIdempotentAnswers(fastify: FastifyInstance, store: IdempotencyStore, logger: Logger): void {
  fastify.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const run = request.idempotency;
    if (run === undefined) return payload;
    request.idempotency = undefined;
    const body = payload === undefined || payload === null ? '' : payload;
    try {
      if (notKept(reply, body)) {
        await store.abandon(run.clientId, run.key, run.run);
      } else {
        const headers: Record<string, string> = {};
        for (const name of REPLAYED_HEADERS) if (reply.hasHeader(name)) headers[name] = String(reply.getHeader(name));
        const keepMs = headers['cache-control'] === 'no-store' ? KEEP_SECRET_MS : KEEP_MS;
        const response = { status: reply.statusCode, headers, body: body as string };
        const kept = await store.complete(run.clientId, run.key, run.run, response, keepMs, run.userId);
        if (!kept) logger.warn({ reqId: request.id }, 'an idempotent request outran its key: its answer is not kept');
      }
    } catch (error) {
      logger.warn({ err: error, reqId: request.id }, 'could not keep the answer of an idempotent request');
    }
    return payload;
  });
}
