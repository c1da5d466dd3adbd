import { Controller, Get, Header, HttpCode, Inject, Param, Post, Query, Req, Res, StreamableFile } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/scopes.js';
import type { Caller } from '../common/caller.js';
import { DomainError } from '../common/domain-error.js';
import { UserIdPipe, UuidPipe } from '../common/validation.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { LoginRequestDto } from '../login/dto/login-requests.dto.js';
import { LoginDecisionsService } from '../login/login-decisions.service.js';
import { LoginRequestsService } from '../login/login-requests.service.js';
import { demoLoginPage, demoNoDevicePage } from './demo-login.page.js';

export const DEMO_CLIENT_ID = Symbol('DEMO_CLIENT_ID');

/**
 * Embedded mode only: a web page that logs in by QR code, standing in for an organisation's web
 * application and its backend (which would call the API with its own token). It acts as the demo
 * client, without a token of its own, so it exists only where the demo client's secret is printed
 * on the console anyway. Not in the OpenAPI document.
 */
@Public()
@ApiExcludeController()
@Controller('demo/login')
export class DemoLoginController {
  constructor(
    @Inject(DEMO_CLIENT_ID) private readonly clientId: string,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly requests: LoginRequestsService,
    private readonly decisions: LoginDecisionsService,
  ) {}

  private caller = (request: FastifyRequest): Caller => ({ clientId: this.clientId, requestId: request.id });

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async page(@Req() request: FastifyRequest, @Query('userId') requestedUser: string | undefined): Promise<string> {
    const userId = new UserIdPipe().transform(requestedUser ?? 'demo');
    const display = { message: 'Log in to the demo page', ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, 512) };
    try {
      const created = await this.requests.create(this.caller(request), userId, { display });
      return demoLoginPage({
        userId,
        requestId: created.requestId,
        qrPayload: created.qrPayload,
        expiresAt: created.expiresAt,
        base: this.config.publicUrl,
      });
    } catch (error) {
      if (error instanceof DomainError && error.code === 'DEVICE_NOT_FOUND') return demoNoDevicePage(userId, this.config.publicUrl);
      throw error;
    }
  }

  @Get(':requestId/qr')
  @Header('Cache-Control', 'no-store')
  qr(
    @Req() request: FastifyRequest,
    @Param('requestId', new UuidPipe('requestId')) requestId: string,
    @Query('userId', UserIdPipe) userId: string,
  ): Promise<StreamableFile> {
    return this.requests.qrCode(this.caller(request), userId, requestId, 'png').then((qr) => new StreamableFile(qr.bytes, { type: qr.contentType }));
  }

  @Get(':requestId/status')
  status(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('requestId', new UuidPipe('requestId')) requestId: string,
    @Query('userId', UserIdPipe) userId: string,
  ): Promise<LoginRequestDto> {
    return this.requests.status(this.caller(request), userId, requestId, 25).finally(() => {
      if (this.requests.stopping) void reply.header('connection', 'close');
    });
  }

  @Post(':requestId/redeem')
  @HttpCode(200)
  redeem(
    @Req() request: FastifyRequest,
    @Param('requestId', new UuidPipe('requestId')) requestId: string,
    @Query('userId', UserIdPipe) userId: string,
  ): Promise<LoginRequestDto> {
    return this.decisions.redeem(this.caller(request), userId, requestId);
  }
}
