import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Caller } from '../common/caller.js';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/logger.js';
import { PeriodicTask } from '../common/periodic.js';
import { Metrics } from '../observability/metrics.js';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, type PageQueryDto } from '../common/pagination.js';
import type { AuditEvent, AuditEventType } from './audit-event.js';
import type { AuditEventDto, AuditEventsPageDto } from './audit.dto.js';
import { AuditRepository } from './audit.repository.js';

export interface AuditInput {
  type: AuditEventType;
  caller: Caller;
  userId: string;
  deviceId?: string;
  /** Non-secret facts only (names, counts, times). */
  detail?: Record<string, string | number>;
}

const EXPIRY_SWEEP_MS = 30_000;

/** The security audit trail: recording, listing, and the sweep that records expired registrations. */
@Injectable()
export class AuditService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly sweeper: PeriodicTask;

  constructor(
    private readonly events: AuditRepository,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.sweeper = new PeriodicTask('expiry sweep', EXPIRY_SWEEP_MS, () => this.sweepExpiries(), logger);
  }

  /** Erasing a user: their events lose the device names. */
  forgetDeviceNames(clientId: string, userId: string): Promise<void> {
    return this.events.forgetDeviceNames(clientId, userId);
  }

  /** Records an event (group-committed with others arriving at the same time). */
  async record(input: AuditInput): Promise<void> {
    await this.events.insert({
      eventId: randomUUID(),
      clientId: input.caller.clientId,
      userId: input.userId,
      deviceId: input.deviceId ?? null,
      type: input.type,
      requestId: input.caller.requestId,
      detail: input.detail ?? null,
      createdAt: this.clock.now(),
    });
  }

  /**
   * For an event about a change that has already happened (and cannot be undone for want of its
   * event): a failure to record it is logged, not thrown, so the caller's answer stands.
   */
  async recordOrLog(input: AuditInput): Promise<void> {
    await this.record(input).catch((error: unknown) =>
      this.logger.warn({ err: error, reqId: input.caller.requestId, type: input.type }, 'could not record an audit event'),
    );
  }

  async list(caller: Caller, userId: string, page: PageQueryDto): Promise<AuditEventsPageDto> {
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const before = decodeCursor(page.cursor, (v) => /^\d{1,19}$/.test(v) && BigInt(v) <= 9_223_372_036_854_775_807n);
    const rows = await this.events.listForUser(caller.clientId, userId, limit + 1, before);
    const pageRows = rows.slice(0, limit);
    const last = pageRows.at(-1);
    return {
      status: 'SUCCESS',
      message: `${pageRows.length} event(s)`,
      events: pageRows.map(toDto),
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.seq) : null,
    };
  }

  /** Sweeps expired registrations into the trail; one replica at a time does it. */
  onApplicationBootstrap(): void {
    this.sweeper.start();
  }

  onApplicationShutdown(): void {
    this.sweeper.stop();
  }

  async sweepExpiries(): Promise<void> {
    const count = await this.events.recordExpiries(this.clock.now(), 48);
    if (count === undefined) return;
    this.metrics.registration('expired', count.registrations);
    if (count.registrations + count.logins > 0) this.logger.info(count, 'expired registrations and login requests recorded');
  }
}

const toDto = (e: AuditEvent): AuditEventDto => ({
  eventId: e.eventId,
  type: e.type,
  userId: e.userId,
  deviceId: e.deviceId,
  requestId: e.requestId,
  detail: e.detail ?? {},
  createdAt: e.createdAt.toISOString(),
});
