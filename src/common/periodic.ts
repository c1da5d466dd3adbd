import type { Logger } from 'pino';

/**
 * A background task run now and then every `intervalMs` (never twice at once), for the lifetime of
 * the application: start it in onApplicationBootstrap, stop it in onApplicationShutdown. A failure
 * is logged and the task runs again at the next interval.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(options: { now?: boolean } = {}): void {
    if (options.now === true) void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.task();
    } catch (error) {
      this.logger.warn({ err: error, task: this.name }, 'background task failed; it runs again later');
    } finally {
      this.running = false;
    }
  }
}
