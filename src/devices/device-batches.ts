import { Injectable } from '@nestjs/common';
import type { Batcher } from '../common/batcher.js';
import { BatchedStatements } from '../database/batched-statements.js';
import { Database } from '../database/database.js';
import { SqlParams } from '../database/sql-params.js';
import { type Device, DEVICE_COLUMNS, type DeviceRow } from './device.js';
import { activationStatement } from './statements/activation.sql.js';
import { admissionStatement } from './statements/admission.sql.js';
import { attemptStatement } from './statements/attempt.sql.js';

export interface DeviceRef {
  clientId: string;
  userId: string;
  id: string;
}

/** One code's attempt on one device; `step` is the time step the code matched, or null. */
export interface AttemptInput extends DeviceRef {
  step: number | null;
  now: Date;
  /** The current time step, the device's window and drift bound (API.md §12: the window follows the drift). */
  nowStep: number;
  window: number;
  maxDrift: number;
  /** A resynchronisation: the step came from two consecutive codes; it re-centres the drift wherever it is. */
  resync: boolean;
  threshold: number;
  lockSeconds: number;
  requestId: string;
}

/**
 * LOCKED: refused unseen (the device was locked); LOCKED_NOW: this failure locked it; REJECTED: a
 * wrong code or a replay (`replay`). `lockedUntil` is set for LOCKED and LOCKED_NOW only.
 */
export type AttemptOutcome = 'ACCEPTED' | 'REJECTED' | 'LOCKED_NOW' | 'LOCKED' | 'NOT_FOUND';
export interface AttemptResult {
  outcome: AttemptOutcome;
  lockedUntil: Date | null;
  replay: boolean;
}

export interface AdmissionInput extends DeviceRef {
  deviceName: string;
  maxActive: number;
  expiresAt: Date;
  requestId: string;
  at: Date;
}
export type AdmissionOutcome = 'OK' | 'NAME_TAKEN' | 'LIMIT_REACHED';

export interface ActivationInput {
  device: Device;
  maxPerUser: number;
  requestId: string;
}

/**
 * The hot statements of the devices table, batched (database/batched-statements.ts): requests that
 * arrive while earlier statements run share the next one, so under load one round trip and one
 * commit serve many. Each statement takes one array per column (its text does not depend on the
 * batch size, so it stays prepared) and returns one outcome per input. Inputs keyed by device or
 * by user never meet in one statement or in two running at once.
 */
@Injectable()
export class DeviceBatches {
  readonly reads: Batcher<DeviceRef, DeviceRow | undefined>;
  readonly attempts: Batcher<AttemptInput, AttemptResult>;
  readonly admissions: Batcher<AdmissionInput, AdmissionOutcome>;
  readonly activations: Batcher<ActivationInput, 'OK' | 'LIMIT_REACHED'>;

  constructor(
    private readonly db: Database,
    batches: BatchedStatements,
  ) {
    // The four statements share the hot connection budget evenly.
    const sharedBy = 4;
    this.reads = batches.create('device_read', (inputs) => this.read(inputs), { sharedBy });
    this.attempts = batches.create('device_attempt', (inputs) => this.attempt(inputs), { key: (i) => i.id, sharedBy });
    this.admissions = batches.create('registration_admission', (inputs) => this.admit(inputs), { sharedBy });
    // A user's counter row may appear once per statement (ON CONFLICT cannot update a row twice).
    this.activations = batches.create('device_activation', (inputs) => this.activate(inputs), {
      key: (i) => `${i.device.clientId}:${i.device.userId}`,
      sharedBy,
    });
  }

  private async read(inputs: DeviceRef[]): Promise<Array<DeviceRow | undefined>> {
    const p = new SqlParams();
    const rows = await this.db.query<DeviceRow>(
      `SELECT ${DEVICE_COLUMNS.replace(/(^|, )(\w)/g, '$1d.$2')} FROM devices d
         JOIN unnest(${p.add(ids(inputs), 'uuid[]')}, ${p.add(
           inputs.map((i) => i.clientId),
           'uuid[]',
         )}, ${p.add(
           inputs.map((i) => i.userId),
           'text[]',
         )}) AS i(id, client_id, user_id)
           ON d.id = i.id AND d.client_id = i.client_id AND d.user_id = i.user_id`,
      p.values,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return inputs.map((i) => byId.get(i.id));
  }

  private async attempt(inputs: AttemptInput[]): Promise<AttemptResult[]> {
    const { text, values } = attemptStatement(inputs);
    const rows = await this.db.query<{ id: string; outcome: Exclude<AttemptOutcome, 'NOT_FOUND'>; locked_until: Date | null; replay: boolean }>(
      text,
      values,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return inputs.map((i): AttemptResult => {
      const row = byId.get(i.id);
      return row === undefined
        ? { outcome: 'NOT_FOUND', lockedUntil: null, replay: false }
        : { outcome: row.outcome, lockedUntil: row.locked_until, replay: row.replay };
    });
  }

  private async admit(inputs: AdmissionInput[]): Promise<AdmissionOutcome[]> {
    const { text, values } = admissionStatement(inputs);
    return (await this.db.query<{ outcome: AdmissionOutcome }>(text, values)).map((r) => r.outcome);
  }

  private async activate(inputs: ActivationInput[]): Promise<Array<'OK' | 'LIMIT_REACHED'>> {
    const { text, values } = activationStatement(inputs);
    const inserted = new Set((await this.db.query<{ id: string }>(text, values)).map((r) => r.id));
    return inputs.map((i) => (inserted.has(i.device.id) ? 'OK' : 'LIMIT_REACHED'));
  }
}

const ids = (inputs: DeviceRef[]) => inputs.map((i) => i.id);
