import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { BearerGuard } from './bearer.guard.js';
import { ClientDirectory } from './client-directory.js';
import { ClientsRepository } from './clients.repository.js';
import { ClientsService } from './clients.service.js';
import { SigningKeysRepository } from './signing-keys.repository.js';
import { TokenSigner } from './token-signer.js';
import { TokenController } from './token.controller.js';
import { TokenService } from './token.service.js';

@Module({
  controllers: [TokenController],
  providers: [
    ClientDirectory,
    ClientsRepository,
    ClientsService,
    SigningKeysRepository,
    TokenSigner,
    TokenService,
    { provide: APP_GUARD, useClass: BearerGuard },
  ],
  exports: [ClientsService, TokenSigner],
})
export class AuthModule {}
