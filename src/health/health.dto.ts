import { ApiProperty } from '@nestjs/swagger';

export class LivenessDto {
  @ApiProperty({ enum: ['UP'] })
  status: 'UP';
}

export class DependencyChecksDto {
  @ApiProperty({ enum: ['UP', 'DOWN'] }) postgres: 'UP' | 'DOWN';
  @ApiProperty({ enum: ['UP', 'DOWN'] }) redis: 'UP' | 'DOWN';
}

export class ReadinessDto {
  @ApiProperty({ enum: ['UP'] })
  status: 'UP';

  @ApiProperty({ type: DependencyChecksDto })
  checks: DependencyChecksDto;
}
