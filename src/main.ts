// The service's entry point. Tracing, when the OTEL_* variables ask for it, starts before anything
// it instruments is loaded; then the service itself is imported and run (server.ts).
import { startTracing } from './observability/tracing.js';

try {
  const tracing = await startTracing();
  const { serve, failedToStart } = await import('./server.js');
  await serve(tracing).catch(failedToStart);
} catch (error) {
  process.stderr.write(`Failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
