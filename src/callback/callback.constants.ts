/** Default route prefix of the callback controller. */
export const EZID_CALLBACK_DEFAULT_PATH = '/auth/ezid';

/** Lifetime of the signed login-flow cookie (cookie mode), seconds. At most 10 minutes (checklist F1/F7). */
export const EZID_FLOW_COOKIE_TTL_SEC = 600;

/** Lifetime of the refresh-token cookie, seconds (30 days). EZiD does not document the refresh-token lifetime. */
export const EZID_REFRESH_COOKIE_MAX_AGE_SEC = 30 * 24 * 3600;

/** Access-token cookie lifetime when EZiD gives no expiry, seconds. */
export const EZID_ACCESS_COOKIE_DEFAULT_MAX_AGE_SEC = 600;

/** Cookie names when the cookies are `Secure` (`__Host-` prefix: Secure, Path=/, no Domain). */
export const EZID_SECURE_COOKIE_NAMES = Object.freeze({
  access: '__Host-ezid_at',
  refresh: '__Host-ezid_rt',
  flow: '__Host-ezid_flow',
});

/** Cookie names on plain-http localhost (browsers refuse `__Host-` cookies without `Secure`). */
export const EZID_PLAIN_COOKIE_NAMES = Object.freeze({
  access: 'ezid_at',
  refresh: 'ezid_rt',
  flow: 'ezid_flow',
});

/** Name of the throttler used on the login-start and callback routes. */
export const EZID_CALLBACK_THROTTLER = 'ezid-callback';

/** Name of the throttler used on `POST /refresh` and `POST /logout`. */
export const EZID_SESSION_THROTTLER = 'ezid-session';

/** Default `callback.sessionRateLimit`: requests per window per IP on refresh and logout. */
export const EZID_SESSION_RATE_LIMIT_DEFAULT = Object.freeze({ limit: 60, ttlSec: 60 });

/** Injection token of the callback area's throttler storage. Internal. */
export const EZID_CALLBACK_THROTTLER_STORAGE = Symbol.for('nestjs-ezid:callback-throttler-storage');

/** Longest accepted code, state or refresh token in a request, in characters. */
export const EZID_MAX_CREDENTIAL_LENGTH = 4096;

/**
 * Default `callback.refresh.rotationTtlSec`: how long a rotated refresh token is remembered for reuse
 * detection. The refresh cookie's lifetime: no refresh token this module hands out is used longer.
 */
export const EZID_ROTATION_DEFAULT_TTL_SEC = EZID_REFRESH_COOKIE_MAX_AGE_SEC;

/** Default `callback.refresh.rotationMaxEntries`: rotation records kept per process (oldest evicted first). */
export const EZID_ROTATION_DEFAULT_MAX_ENTRIES = 100_000;

/** Default `callback.refresh.reuseGraceSec`: how long the just-rotated refresh token still gets its successor. */
export const EZID_REUSE_GRACE_DEFAULT_SEC = 10;

/** Most successor sessions held for the grace window per process (a full store ends a grace early). */
export const EZID_REUSE_GRACE_MAX_ENTRIES = 10_000;

/**
 * Most refresh ids each of the service's local refusal sets holds (ids this process revoked; logouts
 * it could not complete), oldest evicted first.
 */
export const EZID_LOCAL_REFUSALS_MAX_ENTRIES = 10_000;
