import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/scopes.js';
import { HealthService, type ReadinessReport } from './health.service.js';

@ApiTags('Operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Liveness: the process is up' })
  @ApiOkResponse({ schema: { example: { status: 'UP' } } })
  live(): { status: 'UP' } {
    return { status: 'UP' };
  }

  @Get('ready')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Readiness: Postgres and Redis answer (503 while either is down or during shutdown)' })
  @ApiOkResponse({ schema: { example: { status: 'UP', checks: { postgres: 'UP', redis: 'UP' } } } })
  @ApiResponse({
    status: 503,
    description: 'SERVICE_UNAVAILABLE',
    schema: {
      example: {
        status: 'FAILED',
        code: 'SERVICE_UNAVAILABLE',
        message: 'A dependency is unavailable',
        requestId: '…',
        postgres: 'UP',
        redis: 'DOWN',
      },
    },
  })
  ready(): Promise<ReadinessReport> {
    return this.health.readiness();
  }
}
