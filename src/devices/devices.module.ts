import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { RecoveryModule } from '../recovery/recovery.module.js';
import { ClientRateLimiter } from './client-rate-limiter.js';
import { DeviceBatches } from './device-batches.js';
import { ImportController } from './import.controller.js';
import { ImportService } from './import.service.js';
import { DeviceSecrets } from './device-secrets.js';
import { DevicesController } from './devices.controller.js';
import { DevicesRepository } from './devices.repository.js';
import { DevicesService } from './devices.service.js';
import { NameKeyBackfill } from './name-key-backfill.js';
import { RegistrationService } from './registration.service.js';
import { VerificationController } from './verification.controller.js';
import { VerificationService } from './verification.service.js';

@Module({
  imports: [AuditModule, RecoveryModule, AuthModule],
  controllers: [ImportController, DevicesController, VerificationController],
  providers: [
    NameKeyBackfill,
    DeviceBatches,
    ImportService,
    DevicesRepository,
    DevicesService,
    RegistrationService,
    VerificationService,
    DeviceSecrets,
    ClientRateLimiter,
  ],
  exports: [DevicesRepository, DeviceSecrets],
})
export class DevicesModule {}
