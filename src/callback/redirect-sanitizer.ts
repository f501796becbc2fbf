/** Inputs of `sanitizeRedirect()`. */
export interface EzidRedirectPolicy {
  /** Own origin (`callback.publicUrl`); absolute URLs are accepted only when their origin equals it. */
  readonly origin?: string;
  /**
   * Allowed paths. An entry matches a path exactly; an entry ending in `/` (other than `/` itself)
   * also matches every path below it (`/app/` matches `/app/settings`).
   */
  readonly allowList: readonly string[];
  /** Returned for anything not allowed. Default: the first allow-list entry, else `/`. */
  readonly fallback?: string;
}

const MAX_REDIRECT_LENGTH = 2048;
/** Safe path characters only: no `%`, no `\`, no whitespace or control characters. */
const SAFE_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const ABSOLUTE_HTTP = /^https?:\/\/[^/\\]/i;
const SENTINEL_ORIGIN = 'https://sentinel.ezid-callback.invalid';

/** Whether `path` is allowed by `allowList` (exact match, or below an entry that ends in `/`). */
export function isAllowedRedirectPath(path: string, allowList: readonly string[]): boolean {
  for (const entry of allowList) {
    if (path === entry) return true;
    if (entry.length > 1 && entry.endsWith('/') && path.startsWith(entry)) return true;
  }
  return false;
}

/**
 * Turns an untrusted redirect target (`callback_url`, `redirectPath`, `returnTo`) into a safe,
 * same-origin, allow-listed path, or the fallback (checklist F6).
 *
 * Accepted: a path starting with a single `/`, or an absolute `http(s)://` URL whose origin equals
 * `policy.origin`. The value is parsed with `new URL(value, origin)`, the origin compared, and only
 * the normalised `pathname` kept (query and fragment dropped), which must then be on the allow-list.
 * Everything else gives the fallback: other origins, `//host`, `/\host`, `\/host`, `https:host`,
 * `user@host` tricks, `javascript:` / `data:`, any percent-encoding, whitespace, control characters
 * (CR/LF), backslashes, and values longer than 2048 characters.
 *
 * @example
 * ```ts
 * sanitizeRedirect('//evil.example', { allowList: ['/'] }); // '/'
 * sanitizeRedirect('/app/settings?x=1', { allowList: ['/app/'] }); // '/app/settings'
 * ```
 */
export function sanitizeRedirect(value: unknown, policy: EzidRedirectPolicy): string {
  const fallback = policy.fallback ?? policy.allowList[0] ?? '/';
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_REDIRECT_LENGTH) return fallback;
  // Nothing a browser could reinterpret: no control characters, whitespace, backslashes or escapes.
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\u0000-\u0020\u007f-\u009f\\%\u2028\u2029]/.test(value)) return fallback;
  const isPath = value.startsWith('/') && !value.startsWith('//');
  const isAbsolute = ABSOLUTE_HTTP.test(value);
  if (!isPath && !(isAbsolute && policy.origin)) return fallback;
  let own: string;
  let url: URL;
  try {
    own = policy.origin ? new URL(policy.origin).origin : SENTINEL_ORIGIN;
    url = new URL(value, own);
  } catch {
    return fallback;
  }
  if (url.origin !== own || url.username || url.password) return fallback;
  const path = url.pathname;
  if (!SAFE_PATH.test(path) || path.includes('//')) return fallback;
  return isAllowedRedirectPath(path, policy.allowList) ? path : fallback;
}
