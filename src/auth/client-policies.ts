import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ClientDirectory } from './client-directory.js';
import { type ClientPolicy, effectivePolicy } from './client-policy.js';

/** The effective policy of a client (its overrides over the service's configuration), from the client cache. */
@Injectable()
export class ClientPolicies {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly directory: ClientDirectory,
  ) {}

  async forClient(clientId: string): Promise<ClientPolicy> {
    const client = await this.directory.find(clientId);
    return effectivePolicy(this.config, client?.policy ?? {});
  }
}
