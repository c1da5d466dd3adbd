import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { randomBytes } from 'node:crypto';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config/config.js';

// No Docker engine runs here: these checks keep the deployment files consistent with the config schema.
const root = join(import.meta.dirname, '..', '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const readdirOrRead = (path: string) => (statSync(join(root, path)).isDirectory() ? readdirSync(join(root, path)) : read(path));
const names = CONFIG_VARIABLES.map((v) => v.name);

interface Service {
  image?: string;
  build?: string;
  profiles?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
}

describe('deployment files', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
  const byDefault = Object.entries(compose.services).filter(([, s]) => s.profiles === undefined);
  /** The environment compose gives a service, with ${…} interpolated as a shell would. */
  const interpolated = (env: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(env).map(([k, v]) => [
        k,
        v.startsWith('${ENCRYPTION_KEY') ? randomBytes(32).toString('base64') : v.replace(/\$\{\w+:-([^}]*)\}/, '$1'),
      ]),
    );

  it('docker-compose runs Postgres, Redis and the service, each with a health check', () => {
    assert.deepEqual(byDefault.map(([name]) => name).sort(), ['app', 'postgres', 'redis']);
    for (const [name, service] of Object.entries(compose.services)) {
      if (name !== 'redis-cluster-init') assert.ok(service.healthcheck !== undefined, `${name} has a health check`);
    }
    assert.deepEqual(compose.services.app.depends_on, { postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    assert.match(JSON.stringify(compose.services.app.healthcheck), /\/health\/ready/);
  });

  it('gives the service only variables the config schema knows, on the port it listens on', () => {
    const env = compose.services.app.environment!;
    for (const key of Object.keys(env)) assert.ok(names.includes(key), `${key} is in the config schema`);
    for (const required of ['DATABASE_URL', 'REDIS_URL', 'ENCRYPTION_KEY']) assert.ok(required in env);
    assert.equal(env.NODE_ENV, 'production');
    assert.match(env.DATABASE_URL, /@postgres:5432\//);
    assert.match(env.REDIS_URL, /\/\/redis:6379/);
    assert.deepEqual(compose.services.app.ports, [`${env.PORT}:${env.PORT}`]);
    const pg = compose.services.postgres.environment!;
    assert.equal(env.DATABASE_URL, `postgres://${pg.POSTGRES_USER}:${pg.POSTGRES_PASSWORD}@postgres:5432/${pg.POSTGRES_DB}`);
  });

  it('has a profile for each topology of "Running at scale", whose service configuration loads in that mode', () => {
    const variants = {
      'app-cluster': ['cluster', 'cluster'],
      'app-sentinel': ['sentinel', 'sentinel'],
      'app-pgbouncer': ['pgbouncer', 'standalone'],
    } as const;
    for (const [name, [profile, mode]] of Object.entries(variants)) {
      const service = compose.services[name];
      assert.deepEqual(service.profiles, [profile], name);
      for (const key of Object.keys(service.environment!)) assert.ok(names.includes(key), `${name}: ${key} is in the config schema`);
      const config = loadConfig(interpolated(service.environment!));
      assert.equal(config.redis?.mode, mode, name);
      const needed = Object.keys(service.depends_on ?? {});
      for (const dependency of needed) assert.ok(compose.services[dependency].profiles?.includes(profile) ?? true, `${name} needs ${dependency}`);
    }
    const pooled = loadConfig(interpolated(compose.services['app-pgbouncer'].environment!));
    assert.equal(pooled.databasePreparedStatements, false);
    assert.match(pooled.databaseUrl!, /@pgbouncer:/);
    assert.match(pooled.migrationDatabaseUrl!, /@postgres:/);
  });

  it('builds a multi-stage, non-root image that starts the compiled service', () => {
    const dockerfile = read('Dockerfile');
    assert.equal((dockerfile.match(/^FROM /gm) ?? []).length, 2);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^CMD \[.*"dist\/src\/main\.js"\]$/m);
    assert.match(dockerfile, /^HEALTHCHECK /m);
    assert.match(dockerfile, /npm ci/);
    // Node 24 LTS, inside what package.json's engines promise.
    assert.deepEqual(dockerfile.match(/^FROM node:(\d+)-/gm), ['FROM node:24-', 'FROM node:24-']);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    assert.match(engines, /\^24\./);
    assert.match(engines, /\^22\./);
  });

  it('has an observability profile: Prometheus scraping the metrics port with the alert rules, Grafana with the dashboard', () => {
    const { prometheus, grafana, app } = compose.services as Record<string, Service & { volumes?: string[]; expose?: string[] }>;
    assert.deepEqual(prometheus.profiles, ['observability']);
    assert.deepEqual(grafana.profiles, ['observability']);
    const port = app.environment!.METRICS_PORT;
    assert.equal(loadConfig(interpolated(app.environment!)).metricsPort, Number(port));
    assert.deepEqual((app as { expose?: string[] }).expose, [port]);
    for (const volume of [...(prometheus as { volumes: string[] }).volumes, ...(grafana as { volumes: string[] }).volumes]) {
      const file = volume.split(':')[0].replace(/^\.\//, '');
      assert.doesNotThrow(() => readdirOrRead(file), `${file} exists`);
    }
    const scrape = parse(read('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    assert.deepEqual(scrape.scrape_configs[0].static_configs[0].targets, [`app:${port}`]);
    assert.deepEqual(scrape.rule_files, ['/etc/prometheus/alerts.yml']);
    assert.ok(
      read('deploy/prometheus/alerts.yml').includes(`job="${scrape.scrape_configs[0].job_name}"`),
      'the replica-down alert names the scrape job',
    );
  });

  it('.env.example and the README configuration table list exactly the variables of the schema', () => {
    const example = [...read('.env.example').matchAll(/^#([A-Z_]+)=/gm)].map((m) => m[1]);
    assert.deepEqual(example, names);
    const readme = read('README.md');
    const table = [...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(table, names);
  });
});
