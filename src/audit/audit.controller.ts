import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiScope, ApiUserId } from '../auth/api-scope.decorator.js';
import { type Caller, CurrentCaller } from '../common/caller.js';
import { ApiErrors } from '../common/openapi/error-docs.js';
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
  @ApiUserId()
  @ApiOperation({
    operationId: 'listUserEvents',
    summary: "The user's security events, newest first (paginated)",
    description: 'Registrations, devices, verifications, lockouts. Never a secret or an OTP; `detail` is typed per event type.',
  })
  @ApiOkResponse({ type: AuditEventsPageDto, description: 'A page of events' })
  @ApiErrors()
  list(@CurrentCaller() caller: Caller, @Param('userId', UserIdPipe) userId: string, @Query() page: PageQueryDto): Promise<AuditEventsPageDto> {
    return this.audit.list(caller, userId, page);
  }
}
