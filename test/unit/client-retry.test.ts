import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryAfterSeconds } from '../../clients/typescript/src/errors.js';
import { retryableApiAnswer, retryDelayMs, sleep } from '../../clients/typescript/src/retry.js';

const answer = (status: number, headers: Record<string, string>, body?: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('typed client: retry rules', () => {
  it('reads Retry-After as delta-seconds and as an HTTP date, and ignores garbage', () => {
    const now = Date.parse('2026-11-28T12:00:00Z');
    assert.equal(retryAfterSeconds(new Headers({ 'retry-after': '7' }), now), 7);
    assert.equal(retryAfterSeconds(new Headers({ 'retry-after': 'Sat, 28 Nov 2026 12:00:42 GMT' }), now), 42);
    assert.equal(retryAfterSeconds(new Headers({ 'retry-after': 'Sat, 28 Nov 2026 11:00:00 GMT' }), now), 0);
    assert.equal(retryAfterSeconds(new Headers({ 'retry-after': 'soon' }), now), undefined);
    assert.equal(retryAfterSeconds(new Headers(), now), undefined);
  });

  it('waits at least Retry-After and at most 10 % more; backs off exponentially without it', () => {
    assert.equal(
      retryDelayMs(answer(503, { 'retry-after': '2' }), 0, () => 0),
      2000,
    );
    assert.equal(
      retryDelayMs(answer(503, { 'retry-after': '2' }), 0, () => 0.999),
      2200,
    );
    assert.deepEqual(
      [0, 1, 2].map((attempt) => retryDelayMs(answer(503, {}), attempt, () => 0)),
      [200, 400, 800],
    );
  });

  it('retries 503 and 429 RATE_LIMITED with Retry-After only', async () => {
    assert.equal(await retryableApiAnswer(answer(503, { 'retry-after': '1' }, { code: 'SERVICE_UNAVAILABLE' })), true);
    assert.equal(await retryableApiAnswer(answer(429, { 'retry-after': '1' }, { code: 'RATE_LIMITED' })), true);
    assert.equal(await retryableApiAnswer(answer(429, {}, { code: 'RATE_LIMITED' })), false);
    assert.equal(await retryableApiAnswer(answer(429, {}, { code: 'TOO_MANY_ATTEMPTS' })), false);
    assert.equal(await retryableApiAnswer(answer(429, { 'retry-after': '900' }, { code: 'DEVICE_LOCKED' })), false);
    assert.equal(await retryableApiAnswer(answer(400, {}, { code: 'INVALID_OTP' })), false);
  });

  it('stops waiting when the request is aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = sleep(10_000, controller.signal);
    controller.abort(new Error('gave up'));
    await assert.rejects(waiting, /gave up/);
    assert.ok(Date.now() - started < 1000);
  });
});
