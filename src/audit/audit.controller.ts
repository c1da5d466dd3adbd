import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiScope } from '../auth/api-scope.decorator.js';
import { ApiErrors } from '../common/api-docs.js';
import { type Caller, CurrentCaller } from '../common/caller.js';
import { PageQueryDto } from '../common/pagination.js';
import { UserIdPipe } from '../common/validation.js';
import { AuditEventsPageDto } from './audit.dto.js';
import { AuditService } from './audit.service.js';

@ApiTags('Audit')
@Controller('v1/users/:userId/events')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiScope('devices:read')
  @ApiParam({ name: 'userId', example: 'ada' })
  @ApiOperation({
    summary: "The user's security events, newest first (paginated)",
    description:
      'Registration created/activated/failed/exhausted/expired/deleted, device renamed/deleted, OTP verified/failed, replay refused, device locked. Never a secret or OTP.',
  })
  @ApiOkResponse({ type: AuditEventsPageDto })
  @ApiErrors('VALIDATION_FAILED')
  list(@CurrentCaller() caller: Caller, @Param('userId', UserIdPipe) userId: string, @Query() page: PageQueryDto): Promise<AuditEventsPageDto> {
    return this.audit.list(caller, userId, page);
  }
}
