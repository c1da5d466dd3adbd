import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const base = { DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://h:6379', ENCRYPTION_KEY: randomBytes(32).toString('base64') };

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig(base);
    assert.equal(c.port, 3000);
    assert.equal(c.pendingRegistrationTtlSeconds, 600);
    assert.equal(c.accessTokenTtlSeconds, 3600);
    assert.equal(c.limits.rateLimitPerClientPerSecond, 100);
    assert.deepEqual(c.totp, { issuer: 'TOTP Service', algorithm: 'SHA1', digits: 6, period: 30, window: 1 });
    assert.equal(c.embedded, false);
  });

  it('names every bad variable in one error', () => {
    try {
      loadConfig({ ...base, PORT: 'eighty', ENCRYPTION_KEY: 'short', TOTP_ALGORITHM: 'MD5', RATE_LIMIT_PER_CLIENT_PER_SECOND: '-1' });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      const text = error.message;
      for (const name of ['PORT', 'ENCRYPTION_KEY', 'TOTP_ALGORITHM', 'RATE_LIMIT_PER_CLIENT_PER_SECOND']) assert.match(text, new RegExp(name));
      assert.equal(error.problems.length, 4);
    }
  });

  it('requires DATABASE_URL and REDIS_URL together, and an ENCRYPTION_KEY with them', () => {
    assert.throws(() => loadConfig({ DATABASE_URL: base.DATABASE_URL, ENCRYPTION_KEY: base.ENCRYPTION_KEY }), /set together/);
    assert.throws(() => loadConfig({ DATABASE_URL: base.DATABASE_URL, REDIS_URL: base.REDIS_URL }), /ENCRYPTION_KEY is required/);
  });

  it('refuses the embedded mode in production', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /not for production/);
    assert.equal(loadConfig({}).embedded, true);
  });

  it('parses several encryption keys for rotation, the first one sealing', () => {
    const a = randomBytes(32).toString('base64');
    const b = randomBytes(32).toString('base64');
    const c = loadConfig({ ...base, ENCRYPTION_KEY: `new:${a}, old:${b}` });
    assert.deepEqual(
      c.encryptionKeys.map((k) => k.id),
      ['new', 'old'],
    );
    assert.throws(() => loadConfig({ ...base, ENCRYPTION_KEY: `x:${a},x:${b}` }), /twice/);
  });

  it('refuses TLS settings with a redis:// URL in standalone mode, naming rediss://', () => {
    const ca = join(mkdtempSync(join(tmpdir(), 'config-test-')), 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    for (const tls of [{ REDIS_TLS: 'true' }, { REDIS_TLS_CA_FILE: ca }]) {
      assert.throws(
        () => loadConfig({ ...base, ...tls }),
        (error) => error instanceof ConfigError && error.problems.length === 1 && /REDIS_TLS.*rediss:\/\//.test(error.message),
      );
      assert.equal(loadConfig({ ...base, ...tls, REDIS_URL: 'rediss://h:6380' }).redis?.mode, 'standalone');
    }
    assert.equal(loadConfig({ ...base, REDIS_MODE: 'cluster', REDIS_URL: '', REDIS_CLUSTER_NODES: 'h:7000', REDIS_TLS: 'true' }).redis?.tls, true);
  });

  it('refuses a REDIS_KEY_PREFIX with a brace (it would move the cluster hash tag)', () => {
    for (const prefix of ['app{', 'app{1}:', 'x}'])
      assert.throws(() => loadConfig({ ...base, REDIS_KEY_PREFIX: prefix }), /REDIS_KEY_PREFIX must not contain/);
    assert.equal(loadConfig({ ...base, REDIS_KEY_PREFIX: 'app:' }).redisKeyPrefix, 'app:');
  });
});
