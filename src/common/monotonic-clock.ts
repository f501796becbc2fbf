/**
 * A monotonic clock: `now()` in milliseconds from an arbitrary origin, never stepped back or forward
 * by NTP, an operator or a VM resume. Used for cache ages, TTLs and cooldowns; token claims
 * (`exp`, `iat`, `nbf`) stay on the wall clock.
 */
export interface EzidMonotonicClock {
  /** Milliseconds since an arbitrary, fixed origin; never decreases. */
  now(): number;
}

/** The process's monotonic clock (`performance.now()`). */
export const SYSTEM_MONOTONIC_CLOCK: EzidMonotonicClock = Object.freeze({ now: () => performance.now() });

/**
 * Injection token of the `EzidMonotonicClock` the JWKS cache uses. Tests replace it with
 * `overrideProvider(EZID_MONOTONIC_CLOCK).useValue(clock)` to step time without sleeping.
 */
export const EZID_MONOTONIC_CLOCK = Symbol.for('nestjs-ezid:monotonic-clock');
