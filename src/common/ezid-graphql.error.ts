import { IntrinsicException } from '@nestjs/common';
import type { EzidErrorBody, EzidErrorCode } from './ezid-http.exception';

/** The `extensions` of an `EzidGraphQLError`: what a GraphQL client reads. */
export interface EzidGraphQLErrorExtensions {
  /** The module's code (`token_missing`, `insufficient_role`, `idp_unavailable`, ...), as in the HTTP body. */
  readonly code: EzidErrorCode;
  /** The HTTP status the same failure has over REST (401, 403, 503, ...). */
  readonly statusCode: number;
  /** On 503: the `Retry-After` of the same failure over REST, in seconds. */
  readonly retryAfterSec?: number;
}

/**
 * What `EzidAuthGuard` and `EzidRolesGuard` throw in a GraphQL context (`@nestjs/graphql` is not
 * imported): an error whose `extensions` GraphQL copies into the response error, so a client sees
 * `extensions.code` = the module's code and `extensions.statusCode` = the HTTP status. `statusCode`
 * is also an own property, which Mercurius uses as the HTTP status when the response has no data.
 * The message is the module's fixed message; the stack has no frames (Apollo copies the stack into
 * `extensions.stacktrace` when `includeStacktraceInErrorResponses` is on). Not an `HttpException`, so
 * `@nestjs/apollo` does not rewrite the code to `UNAUTHENTICATED` / `FORBIDDEN`; an `IntrinsicException`,
 * so Nest does not log it as an unhandled error.
 */
export class EzidGraphQLError extends IntrinsicException {
  readonly extensions: EzidGraphQLErrorExtensions;
  readonly statusCode: number;

  constructor(body: EzidErrorBody, headers: Readonly<Record<string, string>> = {}) {
    super(body.message);
    this.name = 'EzidGraphQLError';
    this.statusCode = body.statusCode;
    const retryAfter = Number(
      Object.entries(headers).find(([name]) => name.toLowerCase() === 'retry-after')?.[1],
    );
    this.extensions = Object.freeze({
      code: body.code,
      statusCode: body.statusCode,
      ...(Number.isFinite(retryAfter) ? { retryAfterSec: retryAfter } : {}),
    });
    this.stack = `${this.name}: ${this.message}`;
  }
}
