import { CreateClients1763900000000 } from './1763900000000-create-clients.js';
import { CreateDevices1763900100000 } from './1763900100000-create-devices.js';
import { UserDeviceCounts1763900200000 } from './1763900200000-user-device-counts.js';
import { DeviceNameKeys1764300000000 } from './1764300000000-device-name-keys.js';
import { ClientTokenGeneration1764300100000 } from './1764300100000-client-token-generation.js';
import { RecoveryCodes1764400000000 } from './1764400000000-recovery-codes.js';
import { LoginRequestEvents1764500000000 } from './1764500000000-login-request-events.js';
import { ClientPolicy1764600000000 } from './1764600000000-client-policy.js';
import { DeviceImport1764700000000 } from './1764700000000-device-import.js';
import { DeviceDrift1764800000000 } from './1764800000000-device-drift.js';

/** Every migration, in order: the only source of the schema. */
export const MIGRATIONS = [
  CreateClients1763900000000,
  CreateDevices1763900100000,
  UserDeviceCounts1763900200000,
  DeviceNameKeys1764300000000,
  ClientTokenGeneration1764300100000,
  RecoveryCodes1764400000000,
  LoginRequestEvents1764500000000,
  ClientPolicy1764600000000,
  DeviceImport1764700000000,
  DeviceDrift1764800000000,
];
