import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

/**
 * GET /metrics on its own port (METRICS_PORT), apart from the API: the public port never exposes
 * it, and a network policy can open it to Prometheus alone. It keeps answering while the API
 * drains at shutdown, and closes last.
 */
export class MetricsServer {
  private server: Server | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  async listen(port: number, host: string): Promise<void> {
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
        response
          .writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain' })
          .end(path === '/metrics' ? 'GET only\n' : 'Not found: GET /metrics\n');
        return;
      }
      this.metrics.scrape().then(
        ({ contentType, body }) =>
          response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : body),
        (error: unknown) => {
          this.logger.warn({ err: error }, 'metrics scrape failed');
          response.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
        },
      );
    });
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `METRICS_PORT ${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use (set another, or 0 to turn metrics off)' : error.message}`,
          ),
        ),
      );
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.logger.info({ url: `http://${host.includes(':') ? `[${host}]` : host}:${this.port}/metrics` }, 'metrics listening');
  }

  /** The port listened on (the configured one, or the one the system chose). */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
