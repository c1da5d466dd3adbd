import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsRepository } from '../auth/clients.repository.js';
import { ClientsService } from '../auth/clients.service.js';
import { Clock, SystemClock } from '../common/clock.js';
import { createLogger } from '../common/logger.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { Database } from '../database/database.js';
import { resolveDatabaseForCli } from '../runtime.js';

/** The operator CLI runs against the same database the service uses (configuration or embedded). */
export async function withClientsService<T>(action: (clients: ClientsService) => Promise<T>): Promise<T> {
  const config = loadConfigOrExit();
  const database = await resolveDatabaseForCli(config);
  const db = new Database({
    url: database.url,
    poolSize: 2,
    timeoutMs: 10_000,
    preparedStatements: config.databasePreparedStatements,
    logger: createLogger('warn'),
  });
  @Module({ providers: [ClientsRepository, ClientsService, { provide: Database, useValue: db }, { provide: Clock, useValue: new SystemClock() }] })
  class CliModule {}
  const context = await NestFactory.createApplicationContext(CliModule, { logger: false });
  try {
    return await action(context.get(ClientsService));
  } finally {
    await context.close();
    await db.close();
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
