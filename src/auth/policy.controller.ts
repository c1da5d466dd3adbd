import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { type Caller, CurrentCaller } from '../common/caller.js';
import { ApiErrors } from '../common/openapi/error-docs.js';
import { ApiAnyScope } from './api-scope.decorator.js';
import { ClientPolicies } from './client-policies.js';
import type { ClientPolicy } from './client-policy.js';

class PolicyDto {
  @ApiProperty({ enum: ['SHA1', 'SHA256', 'SHA512'], example: 'SHA1' })
  algorithm: ClientPolicy['algorithm'];

  @ApiProperty({ type: 'integer', enum: [6, 8], example: 6 })
  digits: 6 | 8;

  @ApiProperty({ type: 'integer', example: 30, description: 'Seconds per time step (30 or 60 when the client sets it)' })
  period: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 3, example: 1, description: 'Accepted drift in time steps either side' })
  window: number;

  @ApiProperty({ example: 'TOTP Service', description: 'Shown in authenticator apps' })
  issuer: string;

  @ApiProperty({ type: 'integer', example: 5 })
  maxPendingPerUser: number;

  @ApiProperty({ type: 'integer', example: 10 })
  maxActivePerUser: number;
}

class PolicyEnvelopeDto {
  @ApiProperty({ enum: ['SUCCESS'], example: 'SUCCESS' })
  status: 'SUCCESS';

  @ApiProperty({ example: 'The policy for new devices of this client' })
  message: string;

  @ApiProperty({ type: PolicyDto })
  policy: PolicyDto;
}

@ApiTags('Policy')
@Controller('v1/policy')
export class PolicyController {
  constructor(private readonly policies: ClientPolicies) {}

  @Get()
  @ApiAnyScope()
  @ApiOperation({
    operationId: 'getPolicy',
    summary: "The caller's effective policy for new devices",
    description: 'Set by operators with npm run client:policy; devices already created keep the policy they were created with.',
  })
  @ApiOkResponse({ type: PolicyEnvelopeDto, description: 'The effective policy' })
  @ApiErrors()
  async get(@CurrentCaller() caller: Caller): Promise<PolicyEnvelopeDto> {
    return { status: 'SUCCESS', message: 'The policy for new devices of this client', policy: await this.policies.forClient(caller.clientId) };
  }
}
