import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, type SchemaObject, SwaggerModule } from '@nestjs/swagger';
import { completeDocument } from './openapi/document.js';

export const OAUTH_SECURITY = 'oauth2';

export interface DocumentInputs {
  publicUrl: string;
  scopes: Record<string, string>;
  tags: Array<{ name: string; description: string }>;
  /** Component schemas no DTO class describes (the audit events per type). */
  schemas: Record<string, SchemaObject>;
}

/** The OpenAPI document: Nest's, from the decorators, completed (openapi/document.ts). */
export function buildDocument(app: INestApplication, inputs: DocumentInputs): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('TOTP device registration')
    .setDescription(
      'Enrol authenticator apps (Google Authenticator, FreeOTP, 1Password…) for your users and verify their codes.\n\n' +
        'Flow: get a token (client credentials) → create a device → show the QR → activate with the first OTP → verify login OTPs.\n\n' +
        'Every error outside /oauth/token has the body `ErrorEnvelope`: `{"status":"FAILED","code":"…","message":"…","requestId":"…"}`; ' +
        'validation errors add `errors: [{field, message}]`. Each operation lists the codes it can answer. A dependency outage answers 503 ' +
        'SERVICE_UNAVAILABLE with Retry-After.',
    )
    .setVersion('1')
    .setLicense('UNLICENSED', `${inputs.publicUrl}/docs`)
    .addOAuth2(
      {
        type: 'oauth2',
        description: 'Client credentials. In Swagger UI: Authorize, enter client id and secret, tick the scopes.',
        flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes: inputs.scopes } },
      },
      OAUTH_SECURITY,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...inputs.schemas } };
  return completeDocument(document, { publicUrl: inputs.publicUrl, tags: inputs.tags });
}

/** Swagger UI at /docs (Authorize = client credentials against /oauth/token), the document at /docs-json. */
export function serveDocs(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
    customSiteTitle: 'TOTP device registration — API',
  });
}
