import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/scopes.js';
import { ApiErrors } from '../common/openapi/error-docs.js';
import { NO_STORE } from '../common/openapi/headers.js';
import { LivenessDto, ReadinessDto } from './health.dto.js';
import { HealthService } from './health.service.js';

@ApiTags('Operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ operationId: 'getLiveness', summary: 'Liveness: the process is up' })
  @ApiOkResponse({ type: LivenessDto, description: 'Up', headers: NO_STORE })
  @ApiErrors()
  live(): LivenessDto {
    return { status: 'UP' };
  }

  @Get('ready')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Readiness: Postgres answers a query and Redis takes a write',
    description: '503 SERVICE_UNAVAILABLE (with `postgres` and `redis` UP or DOWN) while either is not, or while the service is shutting down.',
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready', headers: NO_STORE })
  @ApiErrors({ code: 'SERVICE_UNAVAILABLE', extra: { message: 'A dependency is unavailable', postgres: 'UP', redis: 'DOWN' } })
  ready(): Promise<ReadinessDto> {
    return this.health.readiness();
  }
}
