import { Controller, Delete, HttpCode, Param } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiScope, ApiUserId } from '../auth/api-scope.decorator.js';
import { type Caller, CurrentCaller } from '../common/caller.js';
import { ApiErrors } from '../common/openapi/error-docs.js';
import { UserIdPipe } from '../common/validation.js';
import { UsersService } from './users.service.js';

@ApiTags('Users')
@ApiUserId()
@Controller('v1/users/:userId')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Delete()
  @HttpCode(204)
  @ApiScope('devices:write')
  @ApiOperation({
    operationId: 'eraseUser',
    summary: 'Erase everything of a user for this client',
    description:
      'Devices, pending registrations, login requests, ' +
      "the kept answers of Idempotency-Keys used on the user's paths, recovery codes and locks. " +
      'Audit events stay, without device names, and a USER_ERASED event is added. ' +
      'Answers 204 also when nothing was left.',
  })
  @ApiNoContentResponse({ description: 'Erased' })
  @ApiErrors()
  erase(@CurrentCaller() caller: Caller, @Param('userId', UserIdPipe) userId: string): Promise<void> {
    return this.users.erase(caller, userId);
  }
}
