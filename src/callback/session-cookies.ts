import { parse as parseCookieHeader, serialize as serializeCookie } from 'cookie';
import { isLoopbackHost } from '../ezid-options.validation';
import { EZID_PLAIN_COOKIE_NAMES, EZID_SECURE_COOKIE_NAMES } from './callback.constants';

/** The cookies the callback controller sets in cookie mode. */
export interface EzidCookieNames {
  /** Access token (read by `EzidAuthGuard` through `token.cookieName`). */
  readonly access: string;
  /** Refresh token (read by `POST /refresh`). */
  readonly refresh: string;
  /** Signed login-flow cookie (login CSRF defence). */
  readonly flow: string;
}

/** A cookie name appeared more than once in the `Cookie` header (cookie tossing). */
export class EzidDuplicateCookieError extends Error {
  constructor(readonly cookieName: string) {
    super('A cookie was sent more than once');
    this.name = 'EzidDuplicateCookieError';
  }
}

/**
 * Whether the session cookies are `Secure`: always, except when `publicUrl` is a plain-http
 * loopback URL (`http://localhost:3000`, `http://127.0.0.1:8080`), where browsers would drop them.
 * No `publicUrl` means Secure (the safe default).
 */
export function isSecureCookieDeployment(publicUrl: string | undefined): boolean {
  if (!publicUrl) return true;
  try {
    const url = new URL(publicUrl);
    return !(url.protocol === 'http:' && isLoopbackHost(url.hostname));
  } catch {
    return true;
  }
}

/**
 * The cookie names of a deployment: `__Host-ezid_at`, `__Host-ezid_rt`, `__Host-ezid_flow` when
 * Secure, `ezid_at`, `ezid_rt`, `ezid_flow` on plain-http localhost. `accessCookieName` (the
 * `token.cookieName` option) overrides the access-token cookie, so the guard and the controller
 * always agree.
 */
export function ezidCookieNames(secure: boolean, accessCookieName?: string): EzidCookieNames {
  const base = secure ? EZID_SECURE_COOKIE_NAMES : EZID_PLAIN_COOKIE_NAMES;
  return Object.freeze({ ...base, access: accessCookieName ?? base.access });
}

/** `Set-Cookie` value of a session cookie: HttpOnly, SameSite=Lax, Path=/, no Domain, Secure unless plain-http localhost. */
export function sessionCookie(name: string, value: string, maxAgeSec: number, secure: boolean): string {
  return serializeCookie(name, value, {
    httpOnly: true,
    secure,
    sameSite: 'lax',
    path: '/',
    maxAge: Math.max(0, Math.floor(maxAgeSec)),
  });
}

/** `Set-Cookie` value that deletes a cookie set by `sessionCookie()`. */
export function clearedCookie(name: string, secure: boolean): string {
  return serializeCookie(name, '', {
    httpOnly: true,
    secure,
    sameSite: 'lax',
    path: '/',
    maxAge: 0,
    expires: new Date(0),
  });
}

/**
 * Reads the named cookies from a raw `Cookie` header (works on Express and Fastify without a
 * cookie parser). Throws `EzidDuplicateCookieError` when one of `names` appears more than once,
 * whatever the values: with cookie tossing the server cannot tell which one it set.
 */
export function readCookies(header: unknown, names: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (typeof header !== 'string' || header.length === 0) return out;
  const wanted = new Set(names);
  const seen = new Set<string>();
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (!wanted.has(name)) continue;
    if (seen.has(name)) throw new EzidDuplicateCookieError(name);
    seen.add(name);
  }
  const parsed = parseCookieHeader(header);
  for (const name of names) {
    const v = Object.hasOwn(parsed, name) ? parsed[name] : undefined;
    out[name] = v === '' ? undefined : v;
  }
  return out;
}

/**
 * Adds `Set-Cookie` headers to an Express or Fastify response (appending to any already set).
 */
export function appendSetCookies(res: unknown, cookies: readonly string[]): void {
  if (cookies.length === 0) return;
  const r = res as {
    raw?: unknown;
    header?: (n: string, v: unknown) => unknown;
    getHeader?: (n: string) => unknown;
    setHeader?: (n: string, v: unknown) => unknown;
  };
  if (typeof r.header === 'function' && typeof r.raw === 'object' && r.raw !== null) {
    for (const c of cookies) r.header('set-cookie', c); // Fastify appends set-cookie values
    return;
  }
  if (typeof r.setHeader === 'function') {
    const prev = typeof r.getHeader === 'function' ? r.getHeader('set-cookie') : undefined;
    const list = prev === undefined ? [] : Array.isArray(prev) ? prev.map(String) : [String(prev)];
    r.setHeader('set-cookie', [...list, ...cookies]);
  }
}
