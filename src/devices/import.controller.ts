import { Body, Controller, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiScope, ApiUserId } from '../auth/api-scope.decorator.js';
import { type Caller, CurrentCaller } from '../common/caller.js';
import { ApiErrors } from '../common/openapi/error-docs.js';
import { UserIdPipe } from '../common/validation.js';
import { OtpAcceptedDto } from './dto/device-responses.dto.js';
import { ImportDeviceDto } from './dto/import-device.dto.js';
import { ImportService } from './import.service.js';

@ApiTags('Devices')
@ApiUserId()
@Controller('v1/users/:userId/devices/import')
export class ImportController {
  constructor(private readonly imports: ImportService) {}

  @Post()
  @ApiScope('devices:import')
  @ApiOperation({
    operationId: 'importDevice',
    summary: 'Import an existing authenticator as an ACTIVE device',
    description:
      'For migrating from another system without re-enrolling users: ' +
      'the secret (base32, 16-64 bytes) is validated, encrypted like ours and never returned. ' +
      "With `otp`, the device is imported only if the code verifies. Parameters not given are the client's policy's. " +
      'No recovery codes are issued. Many at once: npm run devices:import.',
  })
  @ApiCreatedResponse({ type: OtpAcceptedDto, description: 'The device is active' })
  @ApiErrors('INVALID_OTP', 'DEVICE_NAME_TAKEN', 'DEVICE_LIMIT_REACHED', 'DEVICE_ALREADY_IMPORTED')
  importDevice(@CurrentCaller() caller: Caller, @Param('userId', UserIdPipe) userId: string, @Body() body: ImportDeviceDto): Promise<OtpAcceptedDto> {
    return this.imports.importOne(caller, userId, body);
  }
}
