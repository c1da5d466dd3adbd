import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { LoginDecisionsService } from './login-decisions.service.js';
import { LoginProof } from './login-proof.js';
import { LoginRequestsController } from './login-requests.controller.js';
import { LoginRequestsService } from './login-requests.service.js';

@Module({
  imports: [AuditModule, DevicesModule],
  controllers: [LoginRequestsController],
  providers: [LoginRequestsService, LoginDecisionsService, LoginProof],
  exports: [LoginRequestsService, LoginDecisionsService],
})
export class LoginModule {}
