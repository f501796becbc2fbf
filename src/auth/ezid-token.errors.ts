import { EzidError } from '../ezid.errors';

/** The `code` of a rejected token, as it appears in the 401 (or 400) response body. */
export type EzidTokenErrorCode =
  | 'token_missing'
  | 'token_malformed'
  | 'token_expired'
  | 'token_invalid'
  | 'token_revoked'
  | 'invalid_request';

const MESSAGES: Record<EzidTokenErrorCode, string> = {
  token_missing: 'An access token is required',
  token_malformed: 'The access token is malformed',
  token_expired: 'The access token has expired',
  token_invalid: 'The access token is invalid',
  token_revoked: 'The access token has been revoked',
  invalid_request: 'Send the access token in exactly one place',
};

/**
 * A token that cannot be proven valid. `code` is stable and safe to show; `reason` is a short
 * internal label (e.g. `alg_not_allowed`, `kid_unknown`) meant for debug logs only. The message is
 * always the fixed, generic text of the code: never a library message, an expected value or a kid.
 */
export class EzidTokenError extends EzidError {
  /** Stable code shown to clients. */
  readonly code: EzidTokenErrorCode;
  /** Internal reason label, for logs and tests. Never shown to clients. */
  readonly reason: string;
  /** The token's `kid`, when the header could be read (escaped before logging). */
  kid?: string;

  constructor(code: EzidTokenErrorCode, reason: string) {
    super(MESSAGES[code]);
    this.code = code;
    this.reason = reason;
  }
}

/**
 * The signing keys could not be obtained (JWKS unreachable, failing or empty, and no usable cached
 * key). Mapped to 503 `idp_unavailable` with `Retry-After`, never to 401.
 */
export class EzidKeysUnavailableError extends EzidError {
  /** Seconds after which a retry may succeed (the remaining JWKS cooldown, at least 1). */
  readonly retryAfterSec: number;
  /** Internal reason label, for logs. */
  readonly reason: string;

  constructor(reason: string, retryAfterSec: number) {
    super('The identity provider is unavailable; retry later');
    this.reason = reason;
    this.retryAfterSec = Math.max(1, Math.ceil(retryAfterSec));
  }
}
