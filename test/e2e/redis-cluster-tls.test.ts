import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pendingKeys } from '../../src/pending/pending-keys.js';
import { keySlot } from '../support/cluster-slot.js';
import { createEnvironment, destroyEnvironment, startApp, type TestApp, type TestEnvironment } from '../support/harness.js';
import { createTestCertificates } from '../support/tls-files.js';
import { ensureTopologyPackages, ManagedRedisCluster } from '../support/topologies.js';

describe('the service on a Redis Cluster with a password and TLS only (no plaintext port)', () => {
  let env: TestEnvironment;
  let secured: ManagedRedisCluster;
  let app: TestApp;
  const certificateDir = mkdtempSync(join(tmpdir(), 'redis-tls-test-'));
  before(async () => {
    ensureTopologyPackages();
    const certificates = createTestCertificates(certificateDir);
    secured = new ManagedRedisCluster({ masters: 3, auth: { password: 'cluster-secret', tls: certificates } });
    await secured.start();
    env = await createEnvironment();
    app = await startApp(env, {
      REDIS_MODE: 'cluster',
      REDIS_CLUSTER_NODES: secured.nodes.map((n) => `${n.host}:${n.port}`).join(','),
      REDIS_URL: '',
      REDIS_PASSWORD: 'cluster-secret',
      REDIS_TLS: 'true',
      REDIS_TLS_CA_FILE: certificates.ca,
      RATE_LIMIT_PER_CLIENT_PER_SECOND: '0',
    });
  });
  after(async () => {
    await app.close();
    await secured.destroy();
    await destroyEnvironment(env);
    rmSync(certificateDir, { recursive: true, force: true });
  });

  it('registers, activates and verifies for clients on every master; readiness UP', async () => {
    const masters = new Set<number>();
    for (let i = 0; masters.size < 3; i++) {
      assert.ok(i < 40, 'clients reach every master');
      const { token, clientId } = await app.clientWithToken();
      const master = await secured.masterOf(keySlot(pendingKeys(env.redisKeyPrefix, clientId, 'any').registration));
      if (masters.has(master)) continue;
      masters.add(master);
      const created = await app.call('POST', '/v1/users/tls-user/devices', token, { deviceType: 'TOTP', deviceName: 'Phone' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const { authId, secret } = created.body as { authId: string; secret: string };
      assert.equal((await app.call('POST', `/v1/users/tls-user/devices/${authId}/activate`, token, { otp: app.code(secret, -30) })).status, 200);
      assert.equal((await app.call('POST', `/v1/users/tls-user/devices/${authId}/verify`, token, { otp: app.code(secret) })).status, 200);
    }
    assert.equal((await app.fetch('/health/ready')).status, 200);
  });
});
