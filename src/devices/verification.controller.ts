import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiScope, ApiUserId, ApiUuidParam } from '../auth/api-scope.decorator.js';
import { type Caller, CurrentCaller } from '../common/caller.js';
import { ApiErrors } from '../common/openapi/error-docs.js';
import { UserIdPipe, UuidPipe } from '../common/validation.js';
import { OtpDto, ResyncDto } from './dto/device-requests.dto.js';
import { OtpAcceptedDto } from './dto/device-responses.dto.js';
import { VerificationService } from './verification.service.js';

@ApiTags('Verification')
@ApiUserId()
@Controller('v1/users/:userId')
export class VerificationController {
  constructor(private readonly verification: VerificationService) {}

  @Post('devices/:deviceId/verify')
  @HttpCode(200)
  @ApiScope('otp:verify')
  @ApiUuidParam('deviceId', 'An active device of the user')
  @ApiOperation({
    operationId: 'verifyDeviceOtp',
    summary: 'Verify a login OTP against one device',
    description:
      'A code is accepted once per device (a replay answers INVALID_OTP). ' +
      "The window (TOTP_WINDOW, or the client's policy) is centred on the device's drift, " +
      'which each accepted code records (at most ±10 minutes). ' +
      'LOCKOUT_THRESHOLD consecutive failures lock the device for LOCKOUT_SECONDS; while locked, codes are refused unseen.',
  })
  @ApiOkResponse({ type: OtpAcceptedDto, description: 'The code is valid' })
  @ApiErrors('INVALID_OTP', 'DEVICE_NOT_FOUND', 'DEVICE_LOCKED', 'RATE_LIMITED')
  verifyDevice(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Param('deviceId', new UuidPipe('deviceId')) deviceId: string,
    @Body() body: OtpDto,
  ): Promise<OtpAcceptedDto> {
    return this.verification.verifyDevice(caller, userId, deviceId, body.otp);
  }

  @Post('devices/:deviceId/resync')
  @HttpCode(200)
  @ApiScope('devices:write')
  @ApiUuidParam('deviceId', 'An active device of the user')
  @ApiOperation({
    operationId: 'resyncDevice',
    summary: "Re-centre a device's window on its clock: two consecutive codes",
    description:
      'For a device whose clock has drifted out of the window: ' +
      'two codes of consecutive time steps, up to ±10 minutes from now. ' +
      'A failure counts towards the lockout like a wrong code; the second code is spent.',
  })
  @ApiOkResponse({ type: OtpAcceptedDto, description: 'The window now follows the device' })
  @ApiErrors('INVALID_OTP', 'DEVICE_NOT_FOUND', 'DEVICE_LOCKED')
  resync(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Param('deviceId', new UuidPipe('deviceId')) deviceId: string,
    @Body() body: ResyncDto,
  ): Promise<OtpAcceptedDto> {
    return this.verification.resync(caller, userId, deviceId, body.otp1, body.otp2);
  }

  @Post('verify')
  @HttpCode(200)
  @ApiScope('otp:verify')
  @ApiOperation({
    operationId: 'verifyUserOtp',
    summary: "Verify a login OTP against all of the user's active devices",
    description: 'Says which device matched. A wrong code counts as a failure on every unlocked device; 429 once every device is locked.',
  })
  @ApiOkResponse({ type: OtpAcceptedDto, description: 'The code is valid for the device named' })
  @ApiErrors('INVALID_OTP', 'DEVICE_NOT_FOUND', 'DEVICE_LOCKED', 'RATE_LIMITED')
  verifyUser(@CurrentCaller() caller: Caller, @Param('userId', UserIdPipe) userId: string, @Body() body: OtpDto): Promise<OtpAcceptedDto> {
    return this.verification.verifyUser(caller, userId, body.otp);
  }
}
