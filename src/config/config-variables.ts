/** Every variable the service reads, with its default and meaning (README and .env.example follow it). */
export const CONFIG_VARIABLES: ReadonlyArray<{ name: string; default: string; description: string }> = [
  { name: 'NODE_ENV', default: 'development', description: 'development | production | test. production refuses the embedded mode.' },
  { name: 'HOST', default: '0.0.0.0', description: 'Interface to listen on.' },
  { name: 'PORT', default: '3000', description: 'HTTP port.' },
  {
    name: 'PUBLIC_URL',
    default: 'http://localhost:$PORT',
    description: 'External base URL; the token issuer (iss) and metadata URLs. Same on every replica.',
  },
  {
    name: 'DATABASE_URL',
    default: '(embedded)',
    description: 'postgres://user:pass@host:5432/db. Set with REDIS_URL, or leave both unset for the embedded mode.',
  },
  {
    name: 'DATABASE_READ_URL',
    default: '(none)',
    description:
      'Optional read replica for lists, single-device reads and events; verification, activation, lockouts and keys always use DATABASE_URL.',
  },
  {
    name: 'MIGRATION_DATABASE_URL',
    default: '(DATABASE_URL)',
    description: 'Direct connection (not through a transaction pooler) for migrations at start-up and npm run migration:run.',
  },
  {
    name: 'DATABASE_PREPARED_STATEMENTS',
    default: 'true',
    description: 'Named prepared statements; false for poolers without prepared-statement support (PgBouncer before 1.21 in transaction mode).',
  },
  {
    name: 'REDIS_URL',
    default: '(embedded)',
    description:
      'Standalone mode: redis://[user:password@]host:6379 (rediss:// for TLS). Set with DATABASE_URL, or leave both unset for the embedded mode.',
  },
  {
    name: 'REDIS_MODE',
    default: 'standalone',
    description: 'standalone (REDIS_URL) | cluster (REDIS_CLUSTER_NODES) | sentinel (REDIS_SENTINELS, REDIS_SENTINEL_NAME).',
  },
  {
    name: 'REDIS_CLUSTER_NODES',
    default: '(none)',
    description: "Cluster mode: some of the cluster's nodes, host:port,host:port (the rest is discovered).",
  },
  { name: 'REDIS_SENTINELS', default: '(none)', description: 'Sentinel mode: the sentinels, host:port,host:port.' },
  { name: 'REDIS_SENTINEL_NAME', default: '(none)', description: 'Sentinel mode: the name of the monitored master.' },
  { name: 'REDIS_USERNAME', default: '(none)', description: 'ACL user for the Redis nodes (standalone: or in REDIS_URL).' },
  { name: 'REDIS_PASSWORD', default: '(none)', description: 'Password for the Redis nodes (standalone: or in REDIS_URL).' },
  { name: 'REDIS_SENTINEL_PASSWORD', default: '(none)', description: 'Sentinel mode: password of the sentinels themselves, when they have one.' },
  {
    name: 'REDIS_TLS',
    default: 'false',
    description: 'TLS to the Redis nodes (and sentinels) in cluster and sentinel mode; standalone uses a rediss:// URL.',
  },
  {
    name: 'REDIS_TLS_CA_FILE',
    default: '(system CAs)',
    description: 'PEM file of the CA that signed the Redis certificates (standalone: with a rediss:// URL).',
  },
  {
    name: 'REDIS_KEY_PREFIX',
    default: 'totp:',
    description: 'Prefix of every Redis key this service writes; no { or } (the client id in braces is the cluster hash tag).',
  },
  { name: 'DATA_DIR', default: '.data', description: 'Embedded mode only: where the embedded Postgres keeps its data.' },
  { name: 'DB_POOL_SIZE', default: '10', description: 'Postgres connections per replica.' },
  { name: 'DEPENDENCY_TIMEOUT_MS', default: '1000', description: 'Time after which a Postgres or Redis call counts as an outage (503).' },
  {
    name: 'ENCRYPTION_KEY',
    default: '(required outside embedded mode)',
    description:
      'AES-256 key(s) for secrets at rest: base64 of 32 bytes, or a comma-separated list "id:base64,..." whose first entry encrypts and all decrypt (rotation).',
  },
  { name: 'TOKEN_AUDIENCE', default: 'totp-device-api', description: 'aud claim of access tokens.' },
  { name: 'ACCESS_TOKEN_TTL_SECONDS', default: '3600', description: 'Lifetime of access tokens (60-86400).' },
  { name: 'PENDING_REGISTRATION_TTL_SECONDS', default: '600', description: 'Lifetime of a pending registration (1-86400).' },
  {
    name: 'LOGIN_REQUEST_TTL_SECONDS',
    default: '120',
    description: 'Login by QR code: how long a login request waits for the phone (10-900); its outcome stays readable 60 s longer.',
  },
  { name: 'TOTP_ISSUER', default: 'TOTP Service', description: 'Issuer shown in authenticator apps.' },
  { name: 'TOTP_ALGORITHM', default: 'SHA1', description: 'SHA1 | SHA256 | SHA512 for new devices.' },
  { name: 'TOTP_DIGITS', default: '6', description: '6 | 8 for new devices.' },
  { name: 'TOTP_PERIOD', default: '30', description: 'Time step in seconds for new devices (15-120).' },
  { name: 'TOTP_WINDOW', default: '1', description: 'Accepted drift in time steps either side (0-3).' },
  { name: 'MAX_PENDING_PER_USER', default: '5', description: 'Pending registrations per user.' },
  { name: 'MAX_ACTIVE_PER_USER', default: '10', description: 'Active devices per user.' },
  { name: 'MAX_PENDING_PER_CLIENT', default: '10000', description: 'Pending registrations per API client.' },
  { name: 'ACTIVATION_MAX_ATTEMPTS', default: '5', description: 'Wrong OTPs before a pending registration is destroyed.' },
  { name: 'LOCKOUT_THRESHOLD', default: '10', description: 'Consecutive verification failures that lock a device.' },
  { name: 'LOCKOUT_SECONDS', default: '900', description: 'How long a locked device stays locked.' },
  {
    name: 'CLIENT_AUTH_MAX_FAILURES',
    default: '10',
    description:
      'Wrong client secrets (per client id and address) answered 401 per window; further wrong ones get 429 (a right secret always passes).',
  },
  { name: 'CLIENT_AUTH_BLOCK_SECONDS', default: '900', description: 'Window of that count and length of the block.' },
  {
    name: 'RATE_LIMIT_PER_CLIENT_PER_SECOND',
    default: '100',
    description: 'Create and activate requests per API client per second; 0 turns it off.',
  },
  {
    name: 'IDEMPOTENCY_KEYS_PER_CLIENT_PER_HOUR',
    default: '10000',
    description: 'New Idempotency-Keys an API client may start per hour (kept answers live in Redis up to 24 h); beyond it, 429.',
  },
  { name: 'LOG_LEVEL', default: 'info', description: 'fatal | error | warn | info | debug | trace | silent.' },
  {
    name: 'LOG_FORMAT',
    default: 'auto',
    description: 'json | pretty | auto. auto: readable one-line logs when stdout is a terminal and NODE_ENV is not production, JSON otherwise.',
  },
  {
    name: 'METRICS_PORT',
    default: '9464',
    description: 'Port of GET /metrics (Prometheus text format), on HOST and apart from the API port; 0 turns metrics off.',
  },
  {
    name: 'OTEL_TRACES_EXPORTER',
    default: '(none: tracing off)',
    description:
      'otlp | console | none. Tracing is on when this names an exporter or OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set; the other standard OTEL_* variables apply (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_PROTOCOL, _HEADERS, OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED).',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    default: '(none)',
    description: 'OTLP collector base URL, e.g. http://otel-collector:4318 (http/protobuf; /v1/traces is appended).',
  },
  {
    name: 'SHUTDOWN_DRAIN_SECONDS',
    default: '0',
    description: 'On SIGTERM, seconds of answering readiness 503 (while serving) before closing; 5-10 behind a load balancer.',
  },
  {
    name: 'TRUST_PROXY',
    default: 'false',
    description:
      'Proxies whose X-Forwarded-For is believed: false; a hop count (1 = one load balancer; true means 1); or their addresses/CIDRs, comma-separated (loopback, linklocal, uniquelocal allowed). The client address is the right-most one not trusted.',
  },
  {
    name: 'REQUEST_TIMEOUT_MS',
    default: '10000',
    description: 'Longest time to receive a whole request, headers and body (1000-120000); slower ones get 408 and are disconnected.',
  },
  {
    name: 'KEEP_ALIVE_TIMEOUT_MS',
    default: '72000',
    description:
      "Idle keep-alive connections are closed after this (1000-600000); keep it longer than the load balancer's idle timeout (60 s on AWS ALB and nginx), or the balancer may reuse a connection just closed (502).",
  },
  { name: 'MAX_CONNECTIONS', default: '4096', description: 'Open HTTP connections per replica (16-1000000); further ones are refused.' },
  { name: 'DEMO_CLIENT_ID', default: '(generated)', description: 'Embedded mode: fixed id (UUID) of the demo client.' },
  { name: 'DEMO_CLIENT_SECRET', default: '(generated)', description: 'Embedded mode: fixed secret of the demo client (at least 32 characters).' },
];
