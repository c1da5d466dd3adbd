import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import { DomainError } from '../common/domain-error.js';
import { ReplayedResponse } from '../common/replayed-response.js';
import { readIdempotencyKey, requestFingerprint } from './idempotency-key.js';
import { IdempotencyStore } from './idempotency.store.js';

/** A first request's answer is kept this long (the draft's suggestion: 24 h). */
const KEEP_MS = 24 * 3600 * 1000;
/** Longer than any request can run (its dependency calls time out well before). */
const RUNNING_MS = 60_000;
/** The headers of an answer that belong to it (not to the connection or this request). */
const REPLAYED_HEADERS = ['content-type', 'cache-control', 'pragma', 'location'];

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when this request runs under an Idempotency-Key: its answer is kept (see keepIdempotentAnswers). */
    idempotency?: { clientId: string; key: string; fingerprint: string };
  }
}

/**
 * Idempotency-Key on every POST under /v1 (after authentication, so keys are per client): a new
 * key runs the request; the same key and request again get the first answer
 * (Idempotent-Replayed: true); the same key with another request is 422; while the first runs, 409.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly store: IdempotencyStore) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (request.method !== 'POST' || !request.url.startsWith('/v1/') || request.client === undefined) return next.handle();
    const key = readIdempotencyKey(request.headers['idempotency-key']);
    if (key === undefined) return next.handle();
    const { clientId } = request.client;
    const fingerprint = requestFingerprint(request.method, request.url, request.body);
    const outcome = await this.store.begin(clientId, key, fingerprint, RUNNING_MS);
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
        request.idempotency = { clientId, key, fingerprint };
        return next.handle();
    }
  }
}

/**
 * Keeps the answer of a request that ran under an Idempotency-Key, as it goes out: success or
 * error alike, except answers that say "not now" (5xx, or a Retry-After): then the key is let go,
 * so the retry runs. If the answer cannot be kept (Redis away), the key frees itself after
 * RUNNING_MS and a retry runs again.
 */
export function keepIdempotentAnswers(fastify: FastifyInstance, store: IdempotencyStore, logger: Logger): void {
  fastify.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const run = request.idempotency;
    if (run === undefined) return payload;
    request.idempotency = undefined;
    const body = payload === undefined || payload === null ? '' : payload;
    try {
      if (reply.statusCode >= 500 || reply.hasHeader('retry-after') || typeof body !== 'string') {
        await store.abandon(run.clientId, run.key, run.fingerprint);
      } else {
        const headers: Record<string, string> = {};
        for (const name of REPLAYED_HEADERS) if (reply.hasHeader(name)) headers[name] = String(reply.getHeader(name));
        await store.complete(run.clientId, run.key, run.fingerprint, { status: reply.statusCode, headers, body }, KEEP_MS);
      }
    } catch (error) {
      logger.warn({ err: error, reqId: request.id }, 'could not keep the answer of an idempotent request');
    }
    return payload;
  });
}
