import { trace } from '@opentelemetry/api';

/**
 * Tracing on: the request's server span (started by the HTTP instrumentation, which cannot know the
 * route) gets the route template as http.route and as its name, "POST /v1/users/:userId/devices",
 * as OpenTelemetry's HTTP conventions ask. With tracing off there is no span and nothing happens.
 */
export function nameServerSpan(method: string, route: string | undefined): void {
  if (route === undefined) return;
  const span = trace.getActiveSpan();
  if (span === undefined) return;
  span.setAttribute('http.route', route);
  span.updateName(`${method} ${route}`);
}
