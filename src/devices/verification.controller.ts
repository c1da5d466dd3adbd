import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiScope } from '../auth/api-scope.decorator.js';
import { ApiErrors } from '../common/api-docs.js';
import { type Caller, CurrentCaller } from '../common/caller.js';
import { UserIdPipe, UuidPipe } from '../common/validation.js';
import { OtpDto } from './dto/device-requests.dto.js';
import { OtpAcceptedDto } from './dto/device-responses.dto.js';
import { VerificationService } from './verification.service.js';

@ApiTags('Verification')
@ApiParam({ name: 'userId', example: 'ada' })
@ApiErrors('VALIDATION_FAILED')
@Controller('v1/users/:userId')
export class VerificationController {
  constructor(private readonly verification: VerificationService) {}

  @Post('devices/:deviceId/verify')
  @HttpCode(200)
  @ApiScope('otp:verify')
  @ApiOperation({
    summary: 'Verify a login OTP against one device',
    description:
      'A code is accepted once per device (a replay answers INVALID_OTP). ±1 time step of drift. 10 consecutive failures lock the device for 15 minutes.',
  })
  @ApiOkResponse({ type: OtpAcceptedDto })
  @ApiErrors('INVALID_OTP', 'DEVICE_NOT_FOUND', 'DEVICE_LOCKED')
  verifyDevice(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Param('deviceId', new UuidPipe('deviceId')) deviceId: string,
    @Body() body: OtpDto,
  ): Promise<OtpAcceptedDto> {
    return this.verification.verifyDevice(caller, userId, deviceId, body.otp);
  }

  @Post('verify')
  @HttpCode(200)
  @ApiScope('otp:verify')
  @ApiOperation({
    summary: "Verify a login OTP against all of the user's active devices",
    description: 'Says which device matched. A wrong code counts as a failure on every unlocked device.',
  })
  @ApiOkResponse({ type: OtpAcceptedDto })
  @ApiErrors('INVALID_OTP', 'DEVICE_NOT_FOUND', 'DEVICE_LOCKED')
  verifyUser(@CurrentCaller() caller: Caller, @Param('userId', UserIdPipe) userId: string, @Body() body: OtpDto): Promise<OtpAcceptedDto> {
    return this.verification.verifyUser(caller, userId, body.otp);
  }
}
