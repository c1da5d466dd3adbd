import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { BearerGuard } from './bearer.guard.js';
import { ClientDirectory } from './client-directory.js';
import { ClientPolicies } from './client-policies.js';
import { PolicyController } from './policy.controller.js';
import { ClientsRepository } from './clients.repository.js';
import { ClientsService } from './clients.service.js';
import { SigningKeysRepository } from './signing-keys.repository.js';
import { TokenSigner } from './token-signer.js';
import { TokenController } from './token.controller.js';
import { TokenService } from './token.service.js';

@Module({
  controllers: [TokenController, PolicyController],
  providers: [
    ClientDirectory,
    ClientPolicies,
    ClientsRepository,
    ClientsService,
    SigningKeysRepository,
    TokenSigner,
    TokenService,
    { provide: APP_GUARD, useClass: BearerGuard },
  ],
  exports: [ClientsService, TokenSigner, ClientPolicies],
})
export class AuthModule {}
