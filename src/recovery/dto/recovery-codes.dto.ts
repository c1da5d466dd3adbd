import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsString, MaxLength } from 'class-validator';

const Success = () => ApiProperty({ enum: ['SUCCESS'], example: 'SUCCESS' });
export const CODES_EXAMPLE = [
  '7K3QD-9XW2M',
  'H4T8B-1RZ6C',
  'Q2VJX-8N5PF',
  'D9M3K-4WY7T',
  'Z6C1R-2HB8Q',
  'P5X7N-3JT9D',
  'B8F2W-6QK4M',
  'R1Y9T-7CX3H',
  'M4J6Q-5VD2Z',
  'W3N8H-9PB1K',
];

export class RecoveryCodeDto {
  @ApiProperty({
    example: '7k3qd 9xw2m',
    maxLength: 64,
    description: 'As the user typed it: case, spaces and dashes do not matter; O reads as 0, I and L as 1',
  })
  @IsDefined()
  @IsString()
  @MaxLength(64)
  code: string;
}

export class RecoveryCodeUsedDto {
  @Success()
  status: 'SUCCESS';

  @ApiProperty({ example: 'The recovery code is valid; it cannot be used again' })
  message: string;

  @ApiProperty({ type: 'integer', minimum: 0, example: 9, description: 'Unused codes left: prompt for a new set when few are left' })
  remainingCodes: number;
}

export class RecoveryCodesIssuedDto {
  @Success()
  status: 'SUCCESS';

  @ApiProperty({ example: 'New recovery codes: show them once; the old ones no longer work' })
  message: string;

  @ApiProperty({
    type: [String],
    example: CODES_EXAMPLE,
    description: '10 one-time codes, 10 Crockford base32 characters each (50 bits), shown once',
  })
  recoveryCodes: string[];
}

export class RecoveryCodesStateDto {
  @Success()
  status: 'SUCCESS';

  @ApiProperty({ example: '9 recovery code(s) left' })
  message: string;

  @ApiProperty({ type: 'integer', minimum: 0, example: 9 })
  remainingCodes: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the current set was issued; null if none was' })
  createdAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastUsedAt: string | null;
}
