import { Inject, Injectable } from '@nestjs/common';
import { Metrics } from '../observability/metrics.js';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import type { Caller } from '../common/caller.js';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/logger.js';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, type PageQueryDto } from '../common/pagination.js';
import { type PendingRegistration, PendingStore } from '../pending/pending.store.js';
import type { Device } from './device.js';
import { activationInProgress, deviceNameTaken, deviceNotFound } from './device.errors.js';
import { DevicesRepository } from './devices.repository.js';
import type { DeviceDto, DeviceEnvelopeDto, DeviceListDto } from './dto/device-responses.dto.js';

/** API.md §5: list, get, rename and delete devices and pending registrations. */
@Injectable()
export class DevicesService {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly store: PendingStore,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  async list(caller: Caller, userId: string, page: PageQueryDto): Promise<DeviceListDto> {
    const [active, pending] = await Promise.all([
      this.devices.listForUser(caller.clientId, userId, 'replica'),
      this.store.listForUser(caller.clientId, userId),
    ]);
    const now = this.clock.now();
    const activeIds = new Set(active.map((d) => d.id));
    // A registration whose device is already active (its removal from the store failed) is hidden.
    const live = pending.filter((p) => !activeIds.has(p.authId) && p.expiresAt > now.getTime());
    const all = [...active.map((d) => fromDevice(d, now)), ...live.map(fromRegistration)].sort(newestFirst);
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(page.cursor, (v) => /^\d{4}-\d\d-\d\dT[\d:.]+Z\|[0-9a-f-]{36}$/.test(v));
    const start = after === undefined ? 0 : all.findIndex((d) => newestFirst(d, cursorItem(after)) > 0);
    const items = start < 0 ? [] : all.slice(start, start + limit);
    const last = items.at(-1);
    const more = start >= 0 && start + limit < all.length;
    return {
      status: 'SUCCESS',
      message: `${items.length} device(s)`,
      devices: items,
      nextCursor: more && last !== undefined ? encodeCursor(`${last.createdAt}|${last.deviceId}`) : null,
    };
  }

  async get(caller: Caller, userId: string, deviceId: string): Promise<DeviceEnvelopeDto> {
    const device = await this.devices.getForClient(caller.clientId, userId, deviceId);
    if (device !== null) return envelope('Device found', fromDevice(device, this.clock.now()));
    const pending = await this.store.get(caller.clientId, deviceId);
    if (pending === undefined || pending.userId !== userId || pending.expiresAt <= this.clock.nowMs()) throw deviceNotFound();
    return envelope('Pending registration found', fromRegistration(pending));
  }

  async rename(caller: Caller, userId: string, deviceId: string, deviceName: string): Promise<DeviceEnvelopeDto> {
    const outcome = await this.devices.rename(caller.clientId, userId, deviceId, deviceName);
    if (outcome === 'NAME_TAKEN') throw deviceNameTaken();
    if (outcome === 'NOT_FOUND') {
      const pending = await this.store.get(caller.clientId, deviceId);
      if (pending === undefined || pending.userId !== userId) throw deviceNotFound();
      if (await this.devices.nameTaken(caller.clientId, userId, deviceName)) throw deviceNameTaken();
      if (!(await this.store.rename(caller.clientId, deviceId, deviceName))) throw deviceNotFound();
    }
    await this.audit.record({ type: 'DEVICE_RENAMED', caller, userId, deviceId, detail: { deviceName } });
    return { ...(await this.get(caller, userId, deviceId)), message: 'Device renamed' };
  }

  /**
   * Deletes an active device, or else a pending registration. An activation running at the same
   * time either holds the registration (409, retry) or has already written the device, which the
   * second look at the devices table then deletes: the delete never answers 404 while the device
   * it was asked to delete ends up active.
   */
  async delete(caller: Caller, userId: string, deviceId: string): Promise<void> {
    if (await this.deleteActive(caller, userId, deviceId)) return;
    const outcome = await this.store.remove(caller.clientId, userId, deviceId);
    if (outcome === 'BUSY') throw activationInProgress();
    if (outcome === 'REMOVED') {
      this.metrics.registration('deleted');
      await this.audit.record({ type: 'REGISTRATION_DELETED', caller, userId, deviceId });
      return;
    }
    if (!(await this.deleteActive(caller, userId, deviceId))) throw deviceNotFound();
  }

  private async deleteActive(caller: Caller, userId: string, deviceId: string): Promise<boolean> {
    if (!(await this.devices.delete(caller.clientId, userId, deviceId))) return false;
    await this.audit.record({ type: 'DEVICE_DELETED', caller, userId, deviceId });
    // A registration left behind by the activation must not bring the device back.
    await this.store
      .remove(caller.clientId, userId, deviceId, { evenIfClaimed: true })
      .catch((error: unknown) =>
        this.logger.warn({ err: error, deviceId }, 'deleted a device, but could not remove a registration its activation left behind'),
      );
    return true;
  }
}

const envelope = (message: string, device: DeviceDto): DeviceEnvelopeDto => ({ status: 'SUCCESS', message, device });

/** The explicit map from a stored device to what callers see: never a secret. */
function fromDevice(d: Device, now: Date): DeviceDto {
  return {
    deviceId: d.id,
    deviceType: d.deviceType,
    deviceName: d.deviceName,
    status: d.lockedUntil !== null && d.lockedUntil > now ? 'LOCKED' : 'ACTIVE',
    createdAt: d.createdAt.toISOString(),
    activatedAt: d.activatedAt.toISOString(),
    lastUsedAt: d.lastUsedAt?.toISOString() ?? null,
    expiresAt: null,
  };
}

function fromRegistration(r: PendingRegistration): DeviceDto {
  return {
    deviceId: r.authId,
    deviceType: r.deviceType,
    deviceName: r.deviceName,
    status: 'PENDING_ACTIVATION',
    createdAt: new Date(r.createdAt).toISOString(),
    activatedAt: null,
    lastUsedAt: null,
    expiresAt: new Date(r.expiresAt).toISOString(),
  };
}

const cursorItem = (value: string) => {
  const [createdAt = '', deviceId = ''] = value.split('|');
  return { createdAt, deviceId };
};

/** Newest first; ties by id, so the order (and the cursor) is stable. */
function newestFirst(a: { createdAt: string; deviceId: string }, b: { createdAt: string; deviceId: string }): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0;
}
