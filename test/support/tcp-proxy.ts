import net from 'node:net';

/**
 * A loopback TCP proxy in front of a real server, so a test can take the dependency away
 * (connections cut, new ones refused) and give it back, without touching the shared server.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  async start(port = this.port): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Cuts every connection and refuses new ones (the port is closed). */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
    this.server = undefined;
  }

  /**
   * New connections go to `port`; open ones stay where they are, as when a managed service moves
   * its address to a new primary (DNS or a virtual IP) and the old one becomes a replica.
   */
  redirect(port: number): void {
    this.targetPort = port;
  }

  /** Reopens on the same port. */
  restart(): Promise<void> {
    return this.start(this.port);
  }
}
