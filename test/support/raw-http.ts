import net from 'node:net';

export interface RawExchange {
  /** Everything the server wrote before closing (or until the wait ended). */
  response: string;
  /** Milliseconds from connecting until the server closed the connection; undefined if still open. */
  closedAfterMs: number | undefined;
  socket: net.Socket;
}

/**
 * Writes raw bytes to the server and collects what comes back: for requests a well-behaved HTTP
 * client cannot send (slow bodies, wrong Content-Length, oversized headers).
 */
export function rawHttp(port: number, chunks: string[], waitMs: number, keepOpen = false): Promise<RawExchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    let closedAfterMs: number | undefined;
    socket.on('data', (data: Buffer) => (response += data.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closedAfterMs = Date.now() - started;
      finish();
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
    let done = false;
    const timer = setTimeout(finish, waitMs);
    function finish() {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!keepOpen) socket.destroy();
      resolve({ response, closedAfterMs, socket });
    }
  });
}

/** The JSON body of a raw HTTP response. */
export function rawBody(response: string): Record<string, unknown> {
  const body = response.slice(response.indexOf('\r\n\r\n') + 4);
  return JSON.parse(body) as Record<string, unknown>;
}

export const rawStatus = (response: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
