import { HttpException, HttpStatus } from '@nestjs/common';

/** Every `code` nestjs-ezid puts in an error body. Stable: clients may switch on it. */
export type EzidErrorCode =
  // 400
  | 'invalid_request'
  | 'invalid_code'
  | 'validation_failed'
  // 401
  | 'token_missing'
  | 'token_malformed'
  | 'token_expired'
  | 'token_invalid'
  | 'token_revoked'
  | 'login_pending'
  | 'session_expired'
  | 'refresh_token_reused'
  // 403
  | 'tenant_required'
  | 'tenant_forbidden'
  | 'insufficient_role'
  | 'insufficient_permission'
  | 'csrf_rejected'
  | 'access_denied'
  // 409
  | 'refresh_superseded'
  // 415
  | 'unsupported_media_type'
  // 429
  | 'rate_limited'
  // 503
  | 'idp_unavailable'
  | 'tenant_unavailable'
  | 'revocation_unavailable';

/** The stable JSON body of every nestjs-ezid error response. */
export interface EzidErrorBody {
  statusCode: number;
  error: string;
  code: EzidErrorCode;
  message: string;
  /** Per-field problems, on 400 `validation_failed` only. */
  errors?: { field: string; problems: string[] }[];
}

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/**
 * A Nest `HttpException` whose response is `{ statusCode, error, code, message }` and which carries
 * response headers (`WWW-Authenticate`, `Retry-After`). Guards and filters in this package call
 * `applyEzidHeaders()` before throwing so the headers reach the client on Express and Fastify.
 */
export class EzidHttpException extends HttpException {
  readonly code: EzidErrorCode;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: HttpStatus | number,
    code: EzidErrorCode,
    message: string,
    headers: Record<string, string> = {},
    extra?: Pick<EzidErrorBody, 'errors'>,
  ) {
    const body: EzidErrorBody = {
      statusCode: status,
      error: REASON[status] ?? 'Error',
      code,
      message,
      ...extra,
    };
    super(body, status);
    this.code = code;
    this.headers = Object.freeze({ ...headers });
  }
}
