import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { LoginModule } from '../login/login.module.js';
import { RecoveryModule } from '../recovery/recovery.module.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({ imports: [AuditModule, DevicesModule, LoginModule, RecoveryModule], controllers: [UsersController], providers: [UsersService] })
export class UsersModule {}
