import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { RecoveryCodesController } from './recovery-codes.controller.js';
import { RecoveryCodesRepository } from './recovery-codes.repository.js';
import { RecoveryCodesService } from './recovery-codes.service.js';

@Module({
  imports: [AuditModule],
  controllers: [RecoveryCodesController],
  providers: [RecoveryCodesRepository, RecoveryCodesService],
  exports: [RecoveryCodesService, RecoveryCodesRepository],
})
export class RecoveryModule {}
