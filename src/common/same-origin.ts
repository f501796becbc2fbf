import { EzidHttpException } from './ezid-http.exception';

/** The request headers the same-origin check reads (Express and Fastify alike). */
export type EzidRequestHeaders = Record<string, string | string[] | undefined>;

/** The outcome of a same-origin check; `reason` is a fixed string, safe to log. */
export type EzidSameOriginVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** What the same-origin policy trusts, from the module options. */
export interface EzidSameOriginPolicyOptions {
  /** The app's public URL (`callback.publicUrl`): its origin is trusted. */
  readonly publicUrl?: string;
  /** More trusted origins (`csrf.allowedOrigins`). Default none. */
  readonly allowedOrigins?: readonly string[];
  /** Accept an unsafe request that carries none of `Sec-Fetch-Site`, `Origin`, `Referer` (`csrf.allowMissingOrigin`). Default `false`. */
  readonly allowMissingOrigin?: boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const OK: EzidSameOriginVerdict = Object.freeze({ ok: true });
const MAX_ORIGIN_LENGTH = 2048;

/** Whether a method can change state (everything but GET, HEAD and OPTIONS). */
export function isUnsafeMethod(method: unknown): boolean {
  return typeof method !== 'string' || !SAFE_METHODS.has(method.toUpperCase());
}

/**
 * Whether a request is a WebSocket upgrade (`Upgrade: websocket`): the request a GraphQL-over-WebSocket
 * server (graphql-ws on Apollo or Mercurius) may hand to every operation of the connection. Any page can
 * open one to the app with the user's cookies attached, whatever the operation's type.
 */
export function isWebSocketUpgrade(request: unknown): boolean {
  const headers = (request as { headers?: Record<string, unknown> } | null | undefined)?.headers;
  const v = headers?.upgrade;
  const value = Array.isArray(v) ? v[0] : v;
  return typeof value === 'string' && value.toLowerCase() === 'websocket';
}

/** The serialized origin of an http(s) URL, or `undefined` for anything else (`null`, garbage, other schemes). */
export function originOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ORIGIN_LENGTH) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return url.origin;
}

/** True for hosts that are this machine (dev): `localhost`, 127.0.0.0/8 and `::1`. */
function isLoopbackHostname(hostname: string): boolean {
  return (
    hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

function header(headers: EzidRequestHeaders, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : undefined;
}

const fail = (reason: string): EzidSameOriginVerdict => Object.freeze({ ok: false, reason });

/**
 * The CSRF defence for ambient credentials (cookies): decides whether a browser request comes from
 * the app's own origin. Shared by the callback controller (cookie mode) and `EzidAuthGuard`
 * (requests authenticated by the `token.cookieName` cookie).
 *
 * - `Sec-Fetch-Site` when present (browsers compute it; a page cannot forge it): `same-origin`
 *   passes; `same-site` and `cross-site` pass only when the request's origin (`Origin`, else
 *   `Referer`) is trusted; `none` (typed URL, bookmark) and anything else fail.
 * - Else `Origin` (exactly a serialized origin; `null` fails), else the origin of `Referer`, must be trusted.
 * - None of them: fails, unless `allowMissingOrigin`.
 *
 * Trusted origins: the origin of `publicUrl` and `allowedOrigins`; without `publicUrl`, also the
 * request's own `Host` when it is a loopback host (local development, as for magic links).
 *
 * A top-level navigation (`navigation: true`, the GET callback opened from an email) cannot be
 * same-origin: it passes on `same-origin` and `none`, on `same-site`/`cross-site` only when it is a
 * top-level document navigation (`Sec-Fetch-Mode: navigate`, `Sec-Fetch-Dest: document`) or comes
 * from a trusted origin, and without fetch metadata. What protects it is the login-flow cookie,
 * which only a same-origin login start can set.
 */
export class EzidSameOriginPolicy {
  private readonly trusted: ReadonlySet<string>;
  private readonly publicOrigin?: string;
  private readonly allowMissing: boolean;

  constructor(options: EzidSameOriginPolicyOptions) {
    this.publicOrigin = options.publicUrl ? originOf(options.publicUrl) : undefined;
    const list = (options.allowedOrigins ?? []).map((o) => originOf(o)).filter((o): o is string => !!o);
    this.trusted = new Set(this.publicOrigin ? [this.publicOrigin, ...list] : list);
    this.allowMissing = options.allowMissingOrigin === true;
  }

  /**
   * Checks a request: an unsafe one (default), a top-level navigation (`navigation: true`), or a
   * WebSocket handshake (`handshake: true`): browsers always send `Origin` on one, and only `Origin`
   * decides, since a GraphQL-over-WebSocket server may copy the client's `connectionParams` into the
   * upgrade request's missing headers (Mercurius does), so a page could supply `Sec-Fetch-Site` itself.
   */
  check(
    headers: EzidRequestHeaders,
    opts: { navigation?: boolean; handshake?: boolean } = {},
  ): EzidSameOriginVerdict {
    if (opts.handshake) {
      const raw = headers.origin;
      if (raw === undefined) return this.allowMissing ? OK : fail('origin_missing');
      const origin = originOf(raw);
      return origin !== undefined && origin === raw && this.trusts(origin, headers)
        ? OK
        : fail('origin_not_allowed');
    }
    const site = headers['sec-fetch-site'];
    const origin = this.requestOrigin(headers);
    if (site !== undefined) {
      if (site === 'same-origin') return OK;
      if (opts.navigation && (site === 'none' || isTopLevelNavigation(headers))) return OK;
      if (site === 'same-site' || site === 'cross-site') {
        return origin !== undefined && this.trusts(origin, headers) ? OK : fail(`sec_fetch_site_${site}`);
      }
      return fail(site === 'none' ? 'sec_fetch_site_none' : 'sec_fetch_site_invalid');
    }
    if (opts.navigation) return OK;
    if (origin !== undefined) return this.trusts(origin, headers) ? OK : fail('origin_not_allowed');
    return this.allowMissing ? OK : fail('origin_missing');
  }

  /**
   * `Origin` when sent, else the origin of `Referer`; `''` (never trusted) for anything unusable.
   * `Origin` must be exactly a serialized origin, as browsers send it (`https://host[:port]`): a
   * value with a path, userinfo, query, fragment, default port, upper case or trailing junk is not
   * an origin a browser sent and is refused, as is `null`. `Referer` is a URL; its origin is used.
   */
  private requestOrigin(headers: EzidRequestHeaders): string | undefined {
    const raw = headers.origin;
    if (raw !== undefined) {
      const origin = originOf(raw);
      return origin !== undefined && origin === raw ? origin : '';
    }
    const referer = headers.referer;
    if (referer === undefined) return undefined;
    return originOf(referer) ?? '';
  }

  private trusts(origin: string, headers: EzidRequestHeaders): boolean {
    if (origin === '') return false;
    if (this.trusted.has(origin)) return true;
    if (this.publicOrigin) return false;
    const host = header(headers, 'host');
    if (!host) return false;
    const own = originOf(`http://${host}`);
    if (!own) return false;
    const hostname = new URL(own).hostname;
    if (!isLoopbackHostname(hostname)) return false;
    return origin === own || origin === originOf(`https://${host}`);
  }
}

function isTopLevelNavigation(headers: EzidRequestHeaders): boolean {
  return headers['sec-fetch-mode'] === 'navigate' && headers['sec-fetch-dest'] === 'document';
}

/** 403 `csrf_rejected`: an ambient credential (cookie) on a request not proven to come from the app's origin. */
export function csrfRejected(): EzidHttpException {
  return new EzidHttpException(
    403,
    'csrf_rejected',
    'This request must come from the application itself (same origin)',
  );
}
