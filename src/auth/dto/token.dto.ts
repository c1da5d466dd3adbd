import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SCOPES } from '../scopes.js';

export class TokenRequestDto {
  @ApiProperty({ enum: ['client_credentials'] })
  grant_type: 'client_credentials';

  @ApiPropertyOptional({ example: SCOPES.join(' '), description: "Space-separated subset of the client's scopes; default: all of them" })
  scope?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'client_secret_post only' })
  client_id?: string;

  @ApiPropertyOptional({ description: 'client_secret_post only' })
  client_secret?: string;
}

export class TokenResponseDto {
  @ApiProperty({ example: 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.eyJ…', description: 'An ES256 JWT (typ at+jwt)' })
  access_token: string;

  @ApiProperty({ enum: ['Bearer'] })
  token_type: 'Bearer';

  @ApiProperty({ type: 'integer', example: 3600, description: 'Seconds' })
  expires_in: number;

  @ApiProperty({ example: SCOPES.join(' ') })
  scope: string;
}

export class JwkDto {
  @ApiProperty({ enum: ['EC'] }) kty: string;
  @ApiProperty({ enum: ['P-256'] }) crv: string;
  @ApiProperty({ example: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU' }) x: string;
  @ApiProperty({ example: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }) y: string;
  @ApiProperty({ format: 'uuid' }) kid: string;
  @ApiProperty({ enum: ['ES256'] }) alg: string;
  @ApiProperty({ enum: ['sig'] }) use: string;
}

export class JwksDto {
  @ApiProperty({ type: [JwkDto] })
  keys: JwkDto[];
}

export class AuthorizationServerMetadataDto {
  @ApiProperty({ example: 'https://totp.example.com' }) issuer: string;
  @ApiProperty({ example: 'https://totp.example.com/oauth/token' }) token_endpoint: string;
  @ApiProperty({ example: 'https://totp.example.com/.well-known/jwks.json' }) jwks_uri: string;
  @ApiProperty({ type: [String], example: ['client_credentials'] }) grant_types_supported: string[];
  @ApiProperty({ type: [String], example: ['client_secret_basic', 'client_secret_post'] }) token_endpoint_auth_methods_supported: string[];
  @ApiProperty({ type: [String], example: [...SCOPES] }) scopes_supported: string[];
  @ApiProperty({ type: [String], example: [] }) response_types_supported: string[];
  @ApiProperty({ example: 'https://totp.example.com/docs' }) service_documentation: string;
}
