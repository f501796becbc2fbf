/** Longest tenant id a request may name. EZiD ids are 24 hex characters; 128 leaves room for other schemes. */
export const MAX_TENANT_ID_LENGTH = 128;

const TENANT_ID = /^[A-Za-z0-9_.:@-]+$/;

/**
 * True for a tenant id a request may name: a string of 1 to 128 characters from `A-Z a-z 0-9 _ . : @ -`.
 * Anything else (empty, too long, spaces, commas from a repeated header, control characters,
 * non-ASCII, arrays, numbers) is malformed and gets 403 `tenant_forbidden` without any lookup.
 * Well-formed ids such as `__proto__` or `constructor` are simply unknown: lookups use `Map`.
 */
export function isWellFormedTenantId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_TENANT_ID_LENGTH &&
    TENANT_ID.test(value)
  );
}
