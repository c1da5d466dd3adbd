import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrometheusMetrics } from '../../src/observability/prometheus-metrics.js';
import { Scrape } from '../support/prometheus.js';

describe('PrometheusMetrics', () => {
  it('still answers a scrape when Postgres and Redis are down: the dependencies read 0, the backlog has no value', async () => {
    const metrics = new PrometheusMetrics();
    metrics.observe({
      pool: () => ({ max: 10, total: 0, idle: 0, waiting: 3 }),
      dependencies: () => Promise.resolve({ postgresql: false, redis: false }),
      pendingRegistrations: () => Promise.reject(new Error('redis is down')),
    });
    const scrape = new Scrape((await metrics.scrape()).body);
    assert.equal(scrape.value('totp_dependency_up', { dependency: 'redis' }), 0);
    assert.equal(scrape.value('totp_dependency_up', { dependency: 'postgresql' }), 0);
    assert.ok(Number.isNaN(scrape.value('totp_pending_registrations')), 'no backlog figure while Redis is down');
    assert.equal(scrape.value('db_client_connection_pending_requests'), 3);
  });

  it('labels unknown HTTP methods _OTHER and keeps one series per route template', async () => {
    const metrics = new PrometheusMetrics();
    metrics.httpRequest('BREW', '/v1/users/:userId/devices', 405, 0.001);
    metrics.httpRequest('GET', '/v1/users/:userId/devices', 200, 0.002);
    metrics.httpRequest('GET', '/v1/users/:userId/devices', 200, 0.003);
    const scrape = new Scrape((await metrics.scrape()).body);
    assert.equal(scrape.value('http_server_request_duration_seconds_count', { http_request_method: '_OTHER' }), 1);
    assert.equal(scrape.value('http_server_request_duration_seconds_count', { http_request_method: 'GET', http_response_status_code: '200' }), 2);
  });
});
