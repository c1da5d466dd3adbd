import { type Env, EnvReader } from './env-reader.js';
import { type RedisConfig, readRedisConfig, readRedisKeyPrefix } from './redis-config.js';

export { CONFIG_VARIABLES } from './config-variables.js';
export type { RedisConfig } from './redis-config.js';

/**
 * The one place that reads process.env. Every variable is parsed and validated once at boot;
 * a bad value stops the service with a message that names each offending variable.
 */
export type HashAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  publicUrl: string;
  /** True when neither DATABASE_URL nor REDIS_URL is set: embedded Postgres and in-process store. */
  embedded: boolean;
  databaseUrl: string | undefined;
  databaseReadUrl: string | undefined;
  migrationDatabaseUrl: string | undefined;
  databasePreparedStatements: boolean;
  /** Undefined in the embedded mode (in-process stores). */
  redis: RedisConfig | undefined;
  redisKeyPrefix: string;
  dataDir: string;
  dbPoolSize: number;
  /** Upper bound for a single call to Postgres or Redis before it counts as an outage. */
  dependencyTimeoutMs: number;
  tokenAudience: string;
  accessTokenTtlSeconds: number;
  /** Parsed ENCRYPTION_KEY; empty only in embedded mode, where one is generated and kept with the data. */
  encryptionKeys: EncryptionKey[];
  pendingRegistrationTtlSeconds: number;
  /** How long a login request (login by QR code) waits for the phone. */
  loginRequestTtlSeconds: number;
  totp: { issuer: string; algorithm: HashAlgorithm; digits: 6 | 8; period: number; window: number };
  limits: {
    maxPendingPerUser: number;
    maxActivePerUser: number;
    maxPendingPerClient: number;
    activationMaxAttempts: number;
    lockoutThreshold: number;
    lockoutSeconds: number;
    clientAuthMaxFailures: number;
    clientAuthBlockSeconds: number;
    rateLimitPerClientPerSecond: number;
    idempotencyKeysPerClientPerHour: number;
  };
  logLevel: LogLevel;
  /** Log lines as JSON, or readable one-liners; auto: readable on a terminal outside production. */
  logFormat: 'auto' | 'json' | 'pretty';
  /** Port of GET /metrics (Prometheus); 0: no metrics at all. */
  metricsPort: number;
  /** false, a hop count, or proxy addresses/CIDRs (see TRUST_PROXY). */
  trustProxy: false | number | string[];
  http: { requestTimeoutMs: number; keepAliveTimeoutMs: number; maxConnections: number };
  shutdownDrainSeconds: number;
  demoClient: { id: string | undefined; secret: string | undefined };
}

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Env = process.env): AppConfig {
  const r = new EnvReader(env);
  const nodeEnv = r.oneOf('NODE_ENV', 'development', ['development', 'production', 'test'] as const);
  const port = r.int('PORT', 3000, 0, 65535);
  const databaseUrl = r.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const redis = readRedisConfig(r);
  const embedded = databaseUrl === undefined && redis === undefined;
  if ((databaseUrl === undefined) !== (redis === undefined)) {
    r.problems.push('DATABASE_URL and REDIS_URL must be set together (or both left unset for the embedded mode)');
  }
  if (embedded && nodeEnv === 'production') {
    r.problems.push(
      'DATABASE_URL and REDIS_URL are required when NODE_ENV=production: the embedded mode is for trying the service out, not for production',
    );
  }
  const encryptionKeys = parseEncryptionKeys(r.raw('ENCRYPTION_KEY'), r.problems);
  if (!embedded && encryptionKeys.length === 0 && r.raw('ENCRYPTION_KEY') === undefined) {
    r.problems.push('ENCRYPTION_KEY is required with DATABASE_URL/REDIS_URL (base64 of 32 random bytes: `openssl rand -base64 32`)');
  }
  const publicUrl = (r.url('PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const demoId = r.raw('DEMO_CLIENT_ID');
  if (demoId !== undefined && !UUID_V4.test(demoId)) r.problems.push('DEMO_CLIENT_ID must be a UUIDv4');
  const demoSecret = r.raw('DEMO_CLIENT_SECRET');
  if (demoSecret !== undefined && demoSecret.length < 32) r.problems.push('DEMO_CLIENT_SECRET must be at least 32 characters');

  const config: AppConfig = {
    nodeEnv,
    host: r.string('HOST', '0.0.0.0'),
    port,
    publicUrl,
    embedded,
    databaseUrl,
    databaseReadUrl: r.url('DATABASE_READ_URL', ['postgres:', 'postgresql:']),
    migrationDatabaseUrl: r.url('MIGRATION_DATABASE_URL', ['postgres:', 'postgresql:']),
    databasePreparedStatements: r.bool('DATABASE_PREPARED_STATEMENTS', true),
    redis,
    redisKeyPrefix: readRedisKeyPrefix(r),
    dataDir: r.string('DATA_DIR', '.data'),
    dbPoolSize: r.int('DB_POOL_SIZE', 10, 1, 200),
    dependencyTimeoutMs: r.int('DEPENDENCY_TIMEOUT_MS', 1000, 100, 30000),
    tokenAudience: r.string('TOKEN_AUDIENCE', 'totp-device-api'),
    accessTokenTtlSeconds: r.int('ACCESS_TOKEN_TTL_SECONDS', 3600, 60, 86400),
    encryptionKeys,
    pendingRegistrationTtlSeconds: r.int('PENDING_REGISTRATION_TTL_SECONDS', 600, 1, 86400),
    loginRequestTtlSeconds: r.int('LOGIN_REQUEST_TTL_SECONDS', 120, 10, 900),
    totp: {
      issuer: r.string('TOTP_ISSUER', 'TOTP Service'),
      algorithm: r.oneOf('TOTP_ALGORITHM', 'SHA1', ['SHA1', 'SHA256', 'SHA512'] as const),
      digits: r.oneOf('TOTP_DIGITS', '6', ['6', '8'] as const) === '8' ? 8 : 6,
      period: r.int('TOTP_PERIOD', 30, 15, 120),
      window: r.int('TOTP_WINDOW', 1, 0, 3),
    },
    limits: {
      maxPendingPerUser: r.int('MAX_PENDING_PER_USER', 5, 1, 100),
      maxActivePerUser: r.int('MAX_ACTIVE_PER_USER', 10, 1, 100),
      maxPendingPerClient: r.int('MAX_PENDING_PER_CLIENT', 10000, 1, 10_000_000),
      activationMaxAttempts: r.int('ACTIVATION_MAX_ATTEMPTS', 5, 1, 20),
      lockoutThreshold: r.int('LOCKOUT_THRESHOLD', 10, 1, 100),
      lockoutSeconds: r.int('LOCKOUT_SECONDS', 900, 1, 86400),
      clientAuthMaxFailures: r.int('CLIENT_AUTH_MAX_FAILURES', 10, 1, 1000),
      clientAuthBlockSeconds: r.int('CLIENT_AUTH_BLOCK_SECONDS', 900, 1, 86400),
      rateLimitPerClientPerSecond: r.int('RATE_LIMIT_PER_CLIENT_PER_SECOND', 100, 0, 1_000_000),
      idempotencyKeysPerClientPerHour: r.int('IDEMPOTENCY_KEYS_PER_CLIENT_PER_HOUR', 10_000, 1, 10_000_000),
    },
    logLevel: r.oneOf('LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    logFormat: r.oneOf('LOG_FORMAT', 'auto', ['auto', 'json', 'pretty'] as const),
    metricsPort: r.int('METRICS_PORT', 9464, 0, 65535),
    trustProxy: r.trustProxy('TRUST_PROXY'),
    http: {
      requestTimeoutMs: r.int('REQUEST_TIMEOUT_MS', 10_000, 1000, 120_000),
      keepAliveTimeoutMs: r.int('KEEP_ALIVE_TIMEOUT_MS', 72_000, 1000, 600_000),
      maxConnections: r.int('MAX_CONNECTIONS', 4096, 16, 1_000_000),
    },
    shutdownDrainSeconds: r.int('SHUTDOWN_DRAIN_SECONDS', 0, 0, 120),
    demoClient: { id: demoId, secret: demoSecret },
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

/**
 * "base64" or "id:base64,id:base64,…": the first key encrypts, every key decrypts, so a new key
 * can be put first while records written under older keys stay readable.
 */
export function parseEncryptionKeys(value: string | undefined, problems: string[]): EncryptionKey[] {
  if (value === undefined) return [];
  const keys: EncryptionKey[] = [];
  for (const [index, entry] of value
    .split(',')
    .map((e) => e.trim())
    .entries()) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : `k${index + 1}`;
    const material = colon > 0 ? entry.slice(colon + 1) : entry;
    const key = Buffer.from(material, 'base64');
    if (!/^[A-Za-z0-9_-]{1,16}$/.test(id)) {
      problems.push(`ENCRYPTION_KEY entry ${index + 1}: the key id must be 1-16 characters of A-Z a-z 0-9 _ -`);
    } else if (key.length !== 32 || !/^[A-Za-z0-9+/]+={0,2}$/.test(material)) {
      problems.push(`ENCRYPTION_KEY entry ${index + 1} (${id}) must be base64 of exactly 32 bytes`);
    } else if (keys.some((k) => k.id === id)) {
      problems.push(`ENCRYPTION_KEY has the key id "${id}" twice`);
    } else {
      keys.push({ id, key });
    }
  }
  return keys;
}

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Injection token for the typed configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/** The configuration, or the process ends with its problems on stderr (exit code 1). */
export function loadConfigOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
