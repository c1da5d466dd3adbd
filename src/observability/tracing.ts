import { register } from 'node:module';

export interface Tracing {
  /** Flushes the spans still buffered and stops the SDK (at shutdown, after the application closed). */
  shutdown(): Promise<void>;
}

/**
 * Tracing is on only when the standard variables ask for an exporter: OTEL_TRACES_EXPORTER naming
 * one (otlp, console, …), or an OTLP endpoint given; OTEL_SDK_DISABLED=true wins over both.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporters !== undefined && exporters !== '') return exporters !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Starts the OpenTelemetry Node SDK with HTTP, pg and redis instrumentation, when requested. It
 * must run before the modules it instruments are loaded (main.ts starts it, then imports the
 * service): the loader hook lets it patch pg, node-redis and http as they are imported from ES
 * modules. Propagation is W3C trace context (an incoming traceparent continues its trace; pg and
 * redis calls become child spans of the request). Everything else comes from the standard OTEL_*
 * variables (exporter, endpoint, headers, sampler, service name). Metrics and logs stay with
 * Prometheus and pino: the SDK's own metric and log exporters are off unless asked for.
 */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  if (!tracingRequested(env)) return undefined;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  env.OTEL_SERVICE_NAME ??= 'totp-device-registration';
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  const [{ NodeSDK }, { HttpInstrumentation }, { PgInstrumentation }, { RedisInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-redis'),
  ]);
  const sdk = new NodeSDK({
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are not traced: they would outnumber real requests.
        ignoreIncomingRequestHook: (request) => /^\/(health\/|metrics)/.test(request.url ?? ''),
        // The service makes no outgoing HTTP calls worth a span of their own (the exporter's are not traced).
        ignoreOutgoingRequestHook: () => true,
      }),
      // Statement text is kept (parameters never are: they may hold secrets); no span without a parent request.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new RedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
