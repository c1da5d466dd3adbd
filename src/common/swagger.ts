import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const OAUTH_SECURITY = 'oauth2';

/** Swagger UI at /docs (Authorize = client credentials against /oauth/token), JSON at /docs-json. */
export function setupSwagger(app: INestApplication, scopes: Record<string, string>): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('TOTP device registration')
      .setDescription(
        'Enrol authenticator apps (Google Authenticator, FreeOTP, 1Password…) for your users and verify their codes.\n\n' +
          'Flow: get a token (client credentials) → create a device → show the QR → activate with the first OTP → verify login OTPs.\n\n' +
          'Every error outside /oauth/token has the body `{"status":"FAILED","code":"…","message":"…","requestId":"…"}`; ' +
          'validation errors add `errors: [{field, message}]`. A dependency outage answers 503 SERVICE_UNAVAILABLE with Retry-After.',
      )
      .setVersion('1')
      .addOAuth2(
        {
          type: 'oauth2',
          description: 'Client credentials. In Swagger UI: Authorize, enter client id and secret, tick the scopes.',
          flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes } },
        },
        OAUTH_SECURITY,
      )
      .build(),
  );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
    customSiteTitle: 'TOTP device registration — API',
  });
}
