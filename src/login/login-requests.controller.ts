import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Res, StreamableFile } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiScope, ApiUserId, ApiUuidParam } from '../auth/api-scope.decorator.js';
import { AcceptHeader } from '../common/accept-header.js';
import { type Caller, CurrentCaller } from '../common/caller.js';
import { ApiErrors } from '../common/openapi/error-docs.js';
import { NO_STORE } from '../common/openapi/headers.js';
import { UserIdPipe, UuidPipe } from '../common/validation.js';
import { qrFormatFor } from '../devices/qr-image.js';
import { CreatedLoginRequestDto, CreateLoginRequestDto, LoginDecisionDto, LoginRequestDto, LoginWaitQueryDto } from './dto/login-requests.dto.js';
import { LoginDecisionsService } from './login-decisions.service.js';
import { LoginRequestsService } from './login-requests.service.js';

const REQUEST_ID = () => ApiUuidParam('requestId', 'The login request, as create answered it');
const DECISION_ERRORS = [
  'INVALID_OCRA_RESPONSE',
  'LOGIN_REQUEST_NOT_FOUND',
  'LOGIN_REQUEST_NOT_PENDING',
  'LOGIN_REQUEST_BUSY',
  'DEVICE_LOCKED',
  'USER_LOCKED',
] as const;
const DECISION_NOTE =
  "Called by the organisation's app backend with the phone's OCRA response (RFC 6287: " +
  "the payload's ocraSuite over its challenge, keyed with the device's secret). " +
  'A wrong response is 400 INVALID_OCRA_RESPONSE; the third fails the request (FAILED). ' +
  'Exactly one decision per request: a later one is 409 LOGIN_REQUEST_NOT_PENDING. ' +
  'A locked device proves nothing (429 DEVICE_LOCKED); ' +
  'after LOCKOUT_THRESHOLD wrong responses for the user, across requests, none is checked for LOCKOUT_SECONDS (429 USER_LOCKED).';

@ApiTags('Login by QR code')
@ApiUserId()
@Controller('v1/users/:userId/login-requests')
export class LoginRequestsController {
  constructor(
    private readonly requests: LoginRequestsService,
    private readonly decisions: LoginDecisionsService,
  ) {}

  @Post()
  @ApiScope('otp:verify')
  @ApiOperation({
    operationId: 'createLoginRequest',
    summary: 'Start a login by QR code: a challenge for the phone',
    description:
      `The web page shows the QR code; the user's app scans it and answers. ` +
      `Pending for LOGIN_REQUEST_TTL_SECONDS (120 by default). At most 10 per user per minute.`,
  })
  @ApiCreatedResponse({ type: CreatedLoginRequestDto, description: 'The pending request, its challenge and QR payload' })
  @ApiErrors('DEVICE_NOT_FOUND', 'RATE_LIMITED')
  create(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Body() body: CreateLoginRequestDto,
  ): Promise<CreatedLoginRequestDto> {
    return this.requests.create(caller, userId, body);
  }

  @Get(':requestId')
  @ApiScope('otp:verify')
  @REQUEST_ID()
  @ApiOperation({
    operationId: 'getLoginRequest',
    summary: 'The status of a login request, long-polled',
    description:
      'With waitSeconds, answers as soon as the status changes on any replica (or when the time is up, or at expiry). ' +
      'The outcome stays readable 60 s after expiry.',
  })
  @ApiOkResponse({ type: LoginRequestDto, description: 'The request and its status' })
  @ApiErrors('LOGIN_REQUEST_NOT_FOUND')
  status(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Param('requestId', new UuidPipe('requestId')) requestId: string,
    @Query() query: LoginWaitQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LoginRequestDto> {
    // A long-poll answered because the service is stopping closes its connection: kept alive, it
    // would hold the server's close until the keep-alive timeout.
    return this.requests.status(caller, userId, requestId, query.waitSeconds).finally(() => {
      if (this.requests.stopping) void reply.header('connection', 'close');
    });
  }

  @Get(':requestId/qr')
  @ApiScope('otp:verify')
  @Header('Cache-Control', 'no-store')
  @REQUEST_ID()
  @ApiOperation({
    operationId: 'getLoginRequestQrCode',
    summary: 'The QR code of a login request',
    description: 'image/png by default; image/svg+xml when Accept asks for it.',
  })
  @ApiOkResponse({
    description: 'The qrPayload as a QR code',
    headers: NO_STORE,
    content: { 'image/png': { schema: { type: 'string', format: 'binary' } }, 'image/svg+xml': { schema: { type: 'string' } } },
  })
  @ApiErrors('LOGIN_REQUEST_NOT_FOUND')
  qr(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Param('requestId', new UuidPipe('requestId')) requestId: string,
    @AcceptHeader() accept: string | undefined,
  ): Promise<StreamableFile> {
    return this.requests.qrCode(caller, userId, requestId, qrFormatFor(accept)).then((qr) => new StreamableFile(qr.bytes, { type: qr.contentType }));
  }

  @Post(':requestId/approve')
  @HttpCode(200)
  @ApiScope('otp:verify')
  @REQUEST_ID()
  @ApiOperation({ operationId: 'approveLoginRequest', summary: 'The phone approves the login', description: DECISION_NOTE })
  @ApiOkResponse({ type: LoginRequestDto, description: 'Approved' })
  @ApiErrors(...DECISION_ERRORS)
  approve(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Param('requestId', new UuidPipe('requestId')) requestId: string,
    @Body() body: LoginDecisionDto,
  ): Promise<LoginRequestDto> {
    return this.decisions.decide(caller, userId, requestId, 'APPROVED', body);
  }

  @Post(':requestId/deny')
  @HttpCode(200)
  @ApiScope('otp:verify')
  @REQUEST_ID()
  @ApiOperation({ operationId: 'denyLoginRequest', summary: 'The phone denies the login', description: DECISION_NOTE })
  @ApiOkResponse({ type: LoginRequestDto, description: 'Denied' })
  @ApiErrors(...DECISION_ERRORS)
  deny(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Param('requestId', new UuidPipe('requestId')) requestId: string,
    @Body() body: LoginDecisionDto,
  ): Promise<LoginRequestDto> {
    return this.decisions.decide(caller, userId, requestId, 'DENIED', body);
  }

  @Post(':requestId/redeem')
  @HttpCode(200)
  @ApiScope('otp:verify')
  @REQUEST_ID()
  @ApiOperation({
    operationId: 'redeemLoginRequest',
    summary: 'Log the web session in, once per approval',
    description: 'Called by the web app backend when the status is APPROVED: 200 once, then 409 ALREADY_REDEEMED.',
  })
  @ApiOkResponse({ type: LoginRequestDto, description: 'Approved and now redeemed' })
  @ApiErrors('LOGIN_REQUEST_NOT_FOUND', 'LOGIN_REQUEST_NOT_APPROVED', 'ALREADY_REDEEMED')
  redeem(
    @CurrentCaller() caller: Caller,
    @Param('userId', UserIdPipe) userId: string,
    @Param('requestId', new UuidPipe('requestId')) requestId: string,
  ): Promise<LoginRequestDto> {
    return this.decisions.redeem(caller, userId, requestId);
  }
}
