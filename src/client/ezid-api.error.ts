import { EzidError } from '../ezid.errors';

/**
 * A failed EZiD call: an HTTP 4xx/5xx, a `{ success: false, reason }` body, a refused redirect,
 * an oversized or unparseable response. Carries the endpoint name (from the endpoint table), the
 * HTTP status and the provider's code and reason; never the client secret, a token, a code or the
 * request body (provider text is redacted of every value the request carried).
 */
export class EzidApiError extends EzidError {
  /** HTTP status of the response (200 for a `{ success: false }` body). */
  readonly status: number;
  /**
   * The provider's error code when it sends one (`error_code`, e.g. `'invalid_state'` or `'1009'`),
   * otherwise one of the client's own: `'request_failed'`, `'http_<status>'`, `'redirect_not_followed'`,
   * `'response_too_large'`, `'invalid_response'`.
   */
  readonly code: string;
  /** The provider's reason text (redacted, at most 200 characters), or a description of the client's check. */
  readonly reason: string;
  /** Endpoint-table name of the call, e.g. `'magicLink.status'`. */
  readonly endpoint: string;

  /** @internal */
  constructor(init: { status: number; code: string; reason: string; endpoint: string }) {
    super(
      `EZiD ${init.endpoint} failed: HTTP ${init.status} ${init.code}${init.reason ? ` (${init.reason})` : ''}`,
    );
    this.status = init.status;
    this.code = init.code;
    this.reason = init.reason;
    this.endpoint = init.endpoint;
  }

  /** Safe to log: name, message, status, code, reason, endpoint. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      status: this.status,
      code: this.code,
      reason: this.reason,
      endpoint: this.endpoint,
    };
  }
}

/**
 * EZiD could not be reached in time: the total deadline of the call passed (`kind: 'timeout'`, including
 * a response body that arrives too slowly) or the connection failed (`kind: 'network'`) on every attempt.
 * Apps should answer 503 with `Retry-After`, never 401. Carries no URL, secret or request data.
 */
export class EzidUnavailableError extends EzidError {
  /** Endpoint-table name of the call. */
  readonly endpoint: string;
  /** `'timeout'` (deadline passed) or `'network'` (connection refused/reset, DNS, TLS...). */
  readonly kind: 'timeout' | 'network';
  /** Attempts made (more than 1 only for retried GETs). */
  readonly attempts: number;
  /** The low-level error code when known (e.g. `'ECONNREFUSED'`); never a message text. */
  readonly causeCode?: string;

  /** @internal */
  constructor(init: { endpoint: string; kind: 'timeout' | 'network'; attempts: number; causeCode?: string }) {
    super(
      init.kind === 'timeout'
        ? `EZiD ${init.endpoint} did not answer within the deadline (${init.attempts} attempt${init.attempts === 1 ? '' : 's'})`
        : `EZiD ${init.endpoint} is unreachable${init.causeCode ? ` (${init.causeCode})` : ''} after ${init.attempts} attempt${init.attempts === 1 ? '' : 's'}`,
    );
    this.endpoint = init.endpoint;
    this.kind = init.kind;
    this.attempts = init.attempts;
    this.causeCode = init.causeCode;
  }

  /** Safe to log: name, message, endpoint, kind, attempts, causeCode. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      endpoint: this.endpoint,
      kind: this.kind,
      attempts: this.attempts,
      causeCode: this.causeCode,
    };
  }
}

/**
 * An argument of an `EzidService` call was rejected before any request was sent: a malformed id,
 * email, phone number (E.164), an empty name, a bad paging value. Names the method and the field;
 * never carries the value (it may be personal data or a secret).
 */
export class EzidValidationError extends EzidError {
  /** The `EzidService` method, e.g. `'users.create'` (also its endpoint-table name). */
  readonly endpoint: string;
  /** The rejected argument, e.g. `'email'`, `'userId'`, `'whiteListDomains[1]'`. */
  readonly field: string;
  /** What is wrong, e.g. `'must be a 24-hex id'`. */
  readonly problem: string;

  /** @internal */
  constructor(endpoint: string, field: string, problem: string) {
    super(`EZiD ${endpoint}: invalid ${field}: ${problem} (nothing was sent)`);
    this.endpoint = endpoint;
    this.field = field;
    this.problem = problem;
  }

  /** Safe to log: name, message, endpoint, field, problem. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      endpoint: this.endpoint,
      field: this.field,
      problem: this.problem,
    };
  }
}
