import { Body, Controller, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiScope, ApiUserId } from '../auth/api-scope.decorator.js';
import { type Caller, CurrentCaller } from '../common/caller.js';
import { ApiErrors } from '../common/openapi/error-docs.js';
import { NO_STORE } from '../common/openapi/headers.js';
import { UserIdPipe } from '../common/validation.js';
import { RecoveryCodeDto, RecoveryCodesIssuedDto, RecoveryCodesStateDto, RecoveryCodeUsedDto } from './dto/recovery-codes.dto.js';
import { RecoveryCodesService } from './recovery-codes.service.js';

@ApiTags('Recovery codes')
@ApiUserId()
@Controller('v1/users/:userId/recovery-codes')
export class RecoveryCodesController {
  constructor(private readonly recovery: RecoveryCodesService) {}

  @Post('verify')
  @HttpCode(200)
  @ApiScope('otp:verify')
  @ApiOperation({
    operationId: 'verifyRecoveryCode',
    summary: 'Log in with a recovery code (each works once)',
    description:
      'Wrong codes, and codes used before, count towards a per-user lock: ' +
      'after LOCKOUT_THRESHOLD of them, 429 USER_LOCKED for LOCKOUT_SECONDS, and no code is compared meanwhile. ' +
      'A right code starts the count afresh.',
  })
  @ApiOkResponse({ type: RecoveryCodeUsedDto, description: 'The code was valid and is now spent' })
  @ApiErrors('INVALID_RECOVERY_CODE', 'USER_LOCKED', 'RATE_LIMITED')
  verify(@CurrentCaller() caller: Caller, @Param('userId', UserIdPipe) userId: string, @Body() body: RecoveryCodeDto): Promise<RecoveryCodeUsedDto> {
    return this.recovery.verify(caller, userId, body.code);
  }

  @Post()
  @ApiScope('devices:write')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'regenerateRecoveryCodes',
    summary: 'A new set of recovery codes (the old set stops working at once)',
    description: 'The codes are shown once; only keyed hashes are stored. A user lock from wrong codes stays in force.',
  })
  @ApiCreatedResponse({ type: RecoveryCodesIssuedDto, description: 'The new codes, shown once', headers: NO_STORE })
  @ApiErrors()
  regenerate(@CurrentCaller() caller: Caller, @Param('userId', UserIdPipe) userId: string): Promise<RecoveryCodesIssuedDto> {
    return this.recovery.regenerate(caller, userId);
  }

  @Get()
  @ApiScope('devices:read')
  @ApiOperation({ operationId: 'getRecoveryCodesState', summary: 'How many recovery codes are left (never a code)' })
  @ApiOkResponse({ type: RecoveryCodesStateDto, description: 'The state of the current set' })
  @ApiErrors()
  state(@CurrentCaller() caller: Caller, @Param('userId', UserIdPipe) userId: string): Promise<RecoveryCodesStateDto> {
    return this.recovery.state(caller, userId);
  }
}
