/** The kinds of audit event the module emits. */
export type EzidAuditEventType =
  | 'signed_in'
  | 'signed_out'
  | 'session_refreshed'
  | 'session_reuse_detected'
  | 'token_rejected'
  | 'access_denied'
  | 'csrf_rejected'
  | 'sign_in_failed'
  | 'session_refresh_failed';

/** Every audit event kind, in a fixed order. */
export const EZID_AUDIT_EVENT_TYPES: readonly EzidAuditEventType[] = Object.freeze([
  'signed_in',
  'signed_out',
  'session_refreshed',
  'session_reuse_detected',
  'token_rejected',
  'access_denied',
  'csrf_rejected',
  'sign_in_failed',
  'session_refresh_failed',
]);

/**
 * What every audit event carries. Never a token, a code, a secret or (unless `audit.includeEmail`)
 * an email address.
 */
export interface EzidAuditEventBase {
  readonly type: EzidAuditEventType;
  /** When the module decided, ISO 8601 (UTC). */
  readonly time: string;
  /** The user's id (the token's `sub`), when known. */
  readonly userId?: string;
  /** The user's email, only with `audit.includeEmail: true` and when the token carries one. */
  readonly email?: string;
  /** The tenant the request named (well-formed ids only), or the one it was authorized in. */
  readonly tenantId?: string;
  /** HTTP: method and route pattern (`GET /orgs/:tenantId/billing`), never the raw URL or its query. */
  readonly route?: string;
  /** `Controller.handler` of the route, resolver or message handler, when known. */
  readonly handler?: string;
  /** The client IP as the framework reports it (`request.ip`: Express / Fastify trust-proxy settings apply). */
  readonly ip?: string;
  /** `http`, `graphql`, `ws` or `rpc`. */
  readonly transport: string;
}

/** A session was started by the callback routes. */
export interface EzidSignedInEvent extends EzidAuditEventBase {
  readonly type: 'signed_in';
}

/** A session was ended by `POST /logout` (its tokens revoked in the module). */
export interface EzidSignedOutEvent extends EzidAuditEventBase {
  readonly type: 'signed_out';
}

/** A session was rotated by `POST /refresh`. */
export interface EzidSessionRefreshedEvent extends EzidAuditEventBase {
  readonly type: 'session_refreshed';
}

/** A refresh token that was already rotated was presented again: the sessions it was rotated into were revoked. */
export interface EzidSessionReuseDetectedEvent extends EzidAuditEventBase {
  readonly type: 'session_reuse_detected';
}

/** Authentication failed: `code` is the response's (`token_missing`, `token_expired`, `token_invalid`, `token_revoked`, `token_malformed`, `invalid_request`, `idp_unavailable`). */
export interface EzidTokenRejectedEvent extends EzidAuditEventBase {
  readonly type: 'token_rejected';
  readonly code: string;
}

/** Authorization denied (403): the response's `code`, and what the route requires. */
export interface EzidAccessDeniedEvent extends EzidAuditEventBase {
  readonly type: 'access_denied';
  readonly code: string;
  /** Role names the route's `@Roles()` rules name (empty when none). */
  readonly roles: readonly string[];
  /** Permission names the route's `@Permissions()` rules name (empty when none). */
  readonly permissions: readonly string[];
}

/** A cookie-authenticated request, or a cookie-mode login route, failed the same-origin check (403 `csrf_rejected`). */
export interface EzidCsrfRejectedEvent extends EzidAuditEventBase {
  readonly type: 'csrf_rejected';
}

/**
 * A login route of the callback controller answered an error: a code exchange (`POST`/`GET /callback`,
 * `/email-code/verify`, `/sms/verify`) or a login start (`/magic-link`, `/email-code`, `/sms`). `code`
 * is the response's (`invalid_code` for a bad, expired or replayed code, `invalid_request` for a state
 * that does not match the flow cookie, `validation_failed`, `rate_limited`, `idp_unavailable`, ...). Never a user: none was verified.
 */
export interface EzidSignInFailedEvent extends EzidAuditEventBase {
  readonly type: 'sign_in_failed';
  readonly code: string;
}

/**
 * `POST /refresh` answered an error: `code` is the response's (`session_expired` for a missing, unknown,
 * guessed or expired refresh token, `rate_limited`, `invalid_request`, `idp_unavailable`, ...). Never a
 * user: a refresh token that fails is not verified. A reused refresh token is `session_reuse_detected`.
 */
export interface EzidSessionRefreshFailedEvent extends EzidAuditEventBase {
  readonly type: 'session_refresh_failed';
  readonly code: string;
}

/** An audit event (discriminated by `type`). */
export type EzidAuditEvent =
  | EzidSignedInEvent
  | EzidSignedOutEvent
  | EzidSessionRefreshedEvent
  | EzidSessionReuseDetectedEvent
  | EzidTokenRejectedEvent
  | EzidAccessDeniedEvent
  | EzidCsrfRejectedEvent
  | EzidSignInFailedEvent
  | EzidSessionRefreshFailedEvent;

/** The `@nestjs/event-emitter` event name of an audit event: `ezid.<type>` (e.g. `ezid.signed_in`). */
export function ezidAuditEventName(type: EzidAuditEventType): `ezid.${EzidAuditEventType}` {
  return `ezid.${type}`;
}
