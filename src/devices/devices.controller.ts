import { Body, Controller, Delete, Get, Header, HttpCode, Param, Patch, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiScope, ApiUserId, ApiUuidParam } from '../auth/api-scope.decorator.js';
import { AcceptHeader } from '../common/accept-header.js';
import { type Caller, CurrentCaller } from '../common/caller.js';
import { ApiErrors } from '../common/openapi/error-docs.js';
import { NO_STORE } from '../common/openapi/headers.js';
import { PageQueryDto } from '../common/pagination.js';
import { UserIdPipe, UuidPipe } from '../common/validation.js';
import { DevicesService } from './devices.service.js';
import { CreateDeviceDto, OtpDto, RenameDeviceDto } from './dto/device-requests.dto.js';
import { ActivatedDeviceDto, CreatedRegistrationDto, DeviceEnvelopeDto, DeviceListDto } from './dto/device-responses.dto.js';
import { qrFormatFor } from './qr-image.js';
import { RegistrationService } from './registration.service.js';

const AUTH_ID = () => ApiUuidParam('authId', 'The registration, as create answered it');
const DEVICE_ID = () => ApiUuidParam('deviceId', 'A device or a pending registration (the same id)');

@ApiTags('Devices')
@ApiUserId()
@Controller('v1/users/:userId/devices')
export class DevicesController {
  constructor(
    private readonly registration: RegistrationService,
    private readonly devices: DevicesService,
  ) {}

  @Post()
  @ApiScope('devices:write')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'createDevice',
    summary: 'Create a TOTP device (pending until activated)',
    description: 'Returns the secret once, the otpauth:// URI and the QR code URL. The registration expires after PENDING_REGISTRATION_TTL_SECONDS.',
  })
  @ApiCreatedResponse({ type: CreatedRegistrationDto, description: 'The pending registration, with its secret (shown once)', headers: NO_STORE })
  @ApiErrors('UNSUPPORTED_DEVICE_TYPE', 'DEVICE_NAME_TAKEN', 'DEVICE_LIMIT_REACHED', 'RATE_LIMITED')
  create(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Body() body: CreateDeviceDto,
  ): Promise<CreatedRegistrationDto> {
    return this.registration.create(caller, userId, body);
  }

  @Get(':authId/qr')
  @ApiScope('devices:write')
  @Header('Cache-Control', 'no-store')
  @AUTH_ID()
  @ApiOperation({
    operationId: 'getDeviceQrCode',
    summary: 'QR code of a pending registration',
    description: 'image/png by default; image/svg+xml when the Accept header asks for it.',
  })
  @ApiOkResponse({
    description: 'The registration URI as a QR code',
    headers: NO_STORE,
    content: { 'image/png': { schema: { type: 'string', format: 'binary' } }, 'image/svg+xml': { schema: { type: 'string' } } },
  })
  @ApiErrors('REGISTRATION_NOT_FOUND')
  qr(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Param('authId', new UuidPipe('authId')) authId: string,
    @AcceptHeader() accept: string | undefined,
  ): Promise<StreamableFile> {
    return this.registration.qrCode(caller, userId, authId, qrFormatFor(accept)).then((qr) => new StreamableFile(qr.bytes, { type: qr.contentType }));
  }

  @Post(':authId/activate')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiScope('devices:write')
  @AUTH_ID()
  @ApiOperation({
    operationId: 'activateDevice',
    summary: 'Activate a pending registration with the first OTP',
    description: "Stores the device in Postgres as ACTIVE. The code's time step is spent. After 5 wrong OTPs the registration is destroyed.",
  })
  @ApiOkResponse({
    type: ActivatedDeviceDto,
    description: 'Activated; with recoveryCodes when it is the first device of the user',
    headers: NO_STORE,
  })
  @ApiErrors(
    { code: 'INVALID_OTP', extra: { remainingAttempts: 4 } },
    'REGISTRATION_NOT_FOUND',
    'ALREADY_ACTIVE',
    'ACTIVATION_IN_PROGRESS',
    'DEVICE_NAME_TAKEN',
    'DEVICE_LIMIT_REACHED',
    'TOO_MANY_ATTEMPTS',
    'RATE_LIMITED',
  )
  activate(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Param('authId', new UuidPipe('authId')) authId: string,
    @Body() body: OtpDto,
  ): Promise<ActivatedDeviceDto> {
    return this.registration.activate(caller, userId, authId, body.otp);
  }

  @Get()
  @ApiScope('devices:read')
  @ApiOperation({
    operationId: 'listDevices',
    summary: "List the user's devices and pending registrations, newest first",
    description: 'Paginated with limit and cursor. Never returns a secret.',
  })
  @ApiOkResponse({ type: DeviceListDto, description: 'A page of devices' })
  @ApiErrors()
  list(@CurrentCaller() caller: Caller, @Param('userId', UserIdPipe) userId: string, @Query() page: PageQueryDto): Promise<DeviceListDto> {
    return this.devices.list(caller, userId, page);
  }

  @Get(':deviceId')
  @ApiScope('devices:read')
  @DEVICE_ID()
  @ApiOperation({ operationId: 'getDevice', summary: 'One device or pending registration' })
  @ApiOkResponse({ type: DeviceEnvelopeDto, description: 'The device' })
  @ApiErrors('DEVICE_NOT_FOUND')
  get(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Param('deviceId', new UuidPipe('deviceId')) deviceId: string,
  ): Promise<DeviceEnvelopeDto> {
    return this.devices.get(caller, userId, deviceId);
  }

  @Patch(':deviceId')
  @ApiScope('devices:write')
  @DEVICE_ID()
  @ApiOperation({ operationId: 'renameDevice', summary: 'Rename a device or pending registration' })
  @ApiOkResponse({ type: DeviceEnvelopeDto, description: 'Renamed' })
  @ApiErrors('DEVICE_NOT_FOUND', 'DEVICE_NAME_TAKEN')
  rename(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Param('deviceId', new UuidPipe('deviceId')) deviceId: string,
    @Body() body: RenameDeviceDto,
  ): Promise<DeviceEnvelopeDto> {
    return this.devices.rename(caller, userId, deviceId, body.deviceName);
  }

  @Delete(':deviceId')
  @HttpCode(204)
  @ApiScope('devices:write')
  @DEVICE_ID()
  @ApiOperation({
    operationId: 'deleteDevice',
    summary: 'Delete a device or pending registration; it stops verifying at once',
    description: 'A pending registration being activated at that moment answers 409 ACTIVATION_IN_PROGRESS: retry.',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors('DEVICE_NOT_FOUND', 'ACTIVATION_IN_PROGRESS')
  delete(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Param('deviceId', new UuidPipe('deviceId')) deviceId: string,
  ): Promise<void> {
    return this.devices.delete(caller, userId, deviceId);
  }
}
