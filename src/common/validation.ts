import { type PipeTransform, Injectable, ValidationPipe, type ValidationError } from '@nestjs/common';
import { UUID_V4 } from '../config/config.js';
import { type FieldError, validationError } from './domain-error.js';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent === '' ? error.property : `${parent}.${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      // class-validator words the whitelist refusal as "property x should not exist".
      ({ field, message: message.startsWith(`property ${error.property} should not exist`) ? 'Unknown field' : message }),
    );
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Bodies: unknown fields refused, types enforced, every problem reported with its field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => validationError(flatten(errors)),
  });
}

const USER_ID_PATTERN = /^[A-Za-z0-9._@+-]{1,128}$/;

/**
 * `userId` in a path: the calling client's own identifier of its user (API.md §2). "." and ".."
 * are refused: as path segments, every URL built from them (the QR code URL) resolves elsewhere.
 */
export const isUserId = (value: string): boolean => USER_ID_PATTERN.test(value) && value !== '.' && value !== '..';

@Injectable()
export class UserIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isUserId(value)) {
      throw validationError([{ field: 'userId', message: 'userId must be 1-128 characters of A-Z a-z 0-9 . _ @ + -, and not "." or ".."' }]);
    }
    return value;
  }
}

/** Ids in a path are UUIDv4; anything else is a 400 naming the parameter. */
@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  constructor(private readonly field: string) {}
  transform(value: string): string {
    if (!UUID_V4.test(value)) throw validationError([{ field: this.field, message: `${this.field} must be a UUIDv4` }]);
    return value.toLowerCase();
  }
}
