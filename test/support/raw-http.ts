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

export interface RawResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

/**
 * The HTTP/1.1 responses in what a server wrote: usually one, two when it read bytes after a body
 * as another request. An answer cut short (the wait ended mid-write) is an error.
 */
export function rawResponses(text: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = Buffer.from(text, 'utf8');
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`an incomplete response head: ${rest.toString('utf8').slice(0, 200)}`);
    const [statusLine, ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? NaN);
    if (Number.isNaN(status)) throw new Error(`not an HTTP/1.1 status line: ${statusLine}`);
    const headers = new Headers();
    for (const line of lines) headers.append(line.slice(0, line.indexOf(':')).trim(), line.slice(line.indexOf(':') + 1).trim());
    rest = rest.subarray(end + 4);
    let body: Buffer;
    if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') {
      const chunks: Buffer[] = [];
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        const size = Number.parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
        if (lineEnd < 0 || Number.isNaN(size)) throw new Error('an incomplete chunked body');
        chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
        rest = rest.subarray(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
      body = Buffer.concat(chunks);
    } else {
      const length = Number(headers.get('content-length') ?? 0);
      if (rest.length < length) throw new Error(`a body cut short: ${rest.length} of ${length} bytes`);
      body = rest.subarray(0, length);
      rest = rest.subarray(length);
    }
    responses.push({ status, headers, body });
  }
  return responses;
}
