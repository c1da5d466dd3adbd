import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ClientsRepository } from '../auth/clients.repository.js';
import { ClientsService } from '../auth/clients.service.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { dataSourceOptions } from '../config/data-source.js';
import { resolveDatabaseForCli } from '../runtime.js';

/** The operator CLI runs against the same database the service uses (configuration or embedded). */
export async function withClientsService<T>(action: (clients: ClientsService) => Promise<T>): Promise<T> {
  const config = loadConfigOrExit();
  const database = await resolveDatabaseForCli(config);
  @Module({ imports: [TypeOrmModule.forRoot({ ...dataSourceOptions(config, database.url), retryAttempts: 0 })], providers: [ClientsRepository, ClientsService] })
  class CliModule {}
  const context = await NestFactory.createApplicationContext(CliModule, { logger: false });
  try {
    return await action(context.get(ClientsService));
  } finally {
    await context.close();
    await database.release();
  }
}

export function loadConfigOrExit() {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

export type { DataSource };
