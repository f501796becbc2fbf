import { ValidationError, ValidationPipe } from '@nestjs/common';
import { EzidHttpException } from '../common/ezid-http.exception';

/** `[{ field, problems }]` from class-validator errors: constraint messages only, never the rejected value. */
export function validationFieldErrors(
  errors: ValidationError[],
  prefix = '',
): { field: string; problems: string[] }[] {
  const out: { field: string; problems: string[] }[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) {
      const problems = Object.entries(e.constraints).map(([name, msg]) =>
        name === 'whitelistValidation' ? `${e.property} is not an accepted field` : msg,
      );
      out.push({ field, problems: [...new Set(problems)] });
    }
    if (e.children?.length) out.push(...validationFieldErrors(e.children, field));
  }
  return out;
}

/**
 * The callback controller's validation: class-validator DTOs, unknown fields rejected
 * (`whitelist` + `forbidNonWhitelisted`), non-object bodies rejected, and failures as
 * 400 `validation_failed` with per-field problems. Values are never echoed.
 * `forbidUnknown: false` is for query strings, where unknown parameters are stripped instead.
 */
export function createEzidCallbackValidationPipe(forbidUnknown = true): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: forbidUnknown,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    stopAtFirstError: false,
    exceptionFactory: (errors: ValidationError[]) =>
      new EzidHttpException(
        400,
        'validation_failed',
        'The request is invalid',
        {},
        {
          errors: validationFieldErrors(errors),
        },
      ),
  });
}
