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

/**
 * The HTTP status of every `EzidErrorCode`: the one list of the codes the package emits (the OpenAPI
 * helper's `code` enum is built from it; a test checks every code thrown in the source is here).
 */
export const EZID_ERROR_STATUS: Readonly<Record<EzidErrorCode, number>> = Object.freeze({
  invalid_request: 400,
  invalid_code: 400,
  validation_failed: 400,
  token_missing: 401,
  token_malformed: 401,
  token_expired: 401,
  token_invalid: 401,
  token_revoked: 401,
  login_pending: 401,
  session_expired: 401,
  refresh_token_reused: 401,
  tenant_required: 403,
  tenant_forbidden: 403,
  insufficient_role: 403,
  insufficient_permission: 403,
  csrf_rejected: 403,
  access_denied: 403,
  refresh_superseded: 409,
  unsupported_media_type: 415,
  rate_limited: 429,
  idp_unavailable: 503,
  tenant_unavailable: 503,
  revocation_unavailable: 503,
});

/** Every `EzidErrorCode`, in the order of `EZID_ERROR_STATUS`. */
export const EZID_ERROR_CODES: readonly EzidErrorCode[] = Object.freeze(
  Object.keys(EZID_ERROR_STATUS) as EzidErrorCode[],
);
