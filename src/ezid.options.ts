/**
 * The options of `EzidModule.forRoot()` / `forRootAsync()`. Defaults are the secure choice.
 * Every field is documented in the README's "Options" table.
 */
export interface EzidModuleOptions {
  /** Your EZiD client id. Required. */
  clientId: string;
  /** Server-side only: never logged, never in an error or a response. Needed by the legacy `email-link/*` and OTP calls. */
  clientSecret?: string;
  /** Bearer credential for management endpoints, if the tenant uses one. Treated as a secret. */
  apiKey?: string;
  /** Base URL of the EZiD API. Default `'https://api.ezid.io'`. Plain http only for exactly `localhost`, 127.0.0.0/8 and `[::1]` (never `*.localhost`). */
  apiBaseUrl?: string;
  /** Base URL of the legacy EZiD endpoints (`email-link/*`, `send/otp`, `verify/otp`). Default: `apiBaseUrl`. */
  legacyApiBaseUrl?: string;
  /** Outbound HTTP policy for every EZiD call. */
  http?: EzidHttpOptions;
  /** How access tokens are verified. Required. */
  token: EzidTokenOptions;
  /** Default `true`: every route needs a valid token unless marked `@Public()`. */
  globalGuard?: boolean;
  /** Where the tenant of a request comes from. */
  tenant?: EzidTenantOptions;
  /** Where tenants, roles and permissions come from. */
  profile?: EzidProfileOptions;
  /** The callback controller (code exchange, refresh, logout). `false` unmounts it. */
  callback?: false | EzidCallbackOptions;
  /** CSRF defence for cookie-authenticated requests and cookie-mode login routes (see docs/callback.md). */
  csrf?: EzidCsrfOptions;
  /**
   * State shared by every instance of the app (rate limits, refresh single-flight and reuse detection,
   * revocations, the profile cache). Default: this process only. See docs/scaling.md.
   */
  store?: EzidStoreOptions;
  /**
   * Override the method and/or path of any EZiD endpoint by its name in the endpoint table
   * (for example `{ 'organizations.delete': { path: '/api/v1/organizations/{id}' } }`),
   * so a wrong guess about an undocumented endpoint can be corrected without a new release.
   */
  endpoints?: Record<string, { method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; path?: string }>;
  /** Register the module globally. Default `false`. */
  isGlobal?: boolean;
  /**
   * The request context: `EzidContext.user` / `.tenant` anywhere in a request's async chain
   * (docs/context.md). Default `false`: off, it costs one boolean test per request.
   */
  context?: boolean;
  /** `EzidHealthIndicator` for `@nestjs/terminus` (docs/health.md). */
  health?: EzidHealthOptions;
  /**
   * OpenTelemetry spans and metrics (docs/telemetry.md). Default: on when `@opentelemetry/api`
   * resolves (a no-op until the app registers an SDK); `false` turns it off; `true` makes a missing
   * `@opentelemetry/api` a boot error.
   */
  telemetry?: boolean;
  /** Audit events: sign-in, sign-out, refresh, reuse, failed sign-ins and refreshes, rejected tokens, denials, CSRF (docs/audit.md). */
  audit?: EzidAuditOptions;
}

/** `health`: what `EzidHealthIndicator` checks besides the signing keys and the store (docs/health.md). */
export interface EzidHealthOptions {
  /**
   * Also report whether the EZiD API answers: one cheap GET (`auth.status`, no user named) with a
   * short deadline, at most one per `apiIntervalSec` whatever the number of probes. Default `false`.
   */
  api?: boolean;
  /** How long an API reachability result is reused, seconds. Default 30, 1 to 3600. */
  apiIntervalSec?: number;
  /** Deadline of the API reachability call, ms. Default 2000, 100 to 10000. */
  apiTimeoutMs?: number;
}

/** `audit`: where audit events go (docs/audit.md). */
export interface EzidAuditOptions {
  /**
   * Called with every audit event, after the response (never awaited by a request). A throw or a
   * rejection is logged (error class only) and changes nothing else.
   */
  onEvent?: (event: import('./audit/ezid-audit.types').EzidAuditEvent) => void | Promise<void>;
  /** Put the user's email in events. Default `false`: events carry the user id only. */
  includeEmail?: boolean;
  /**
   * Emit every event on `@nestjs/event-emitter`'s EventEmitter2 as `ezid.<type>` (e.g. `ezid.signed_in`).
   * Default: when the app imports `EventEmitterModule.forRoot()`; `false` never; `true` makes its absence a boot error.
   */
  eventEmitter?: boolean;
}

/** `store`: Redis shared by every instance (docs/scaling.md). */
export interface EzidStoreOptions {
  /**
   * An ioredis client (`new Redis(...)`; the module duplicates it for pub/sub and never closes it), or a
   * `redis://` / `rediss://` URL (the module connects with ioredis, without an offline queue, and
   * disconnects at shutdown). Redis 6.2 or later.
   */
  redis: string | object;
  /** Prefix of every key and channel. Default `'ezid:'`. Give each app its own when apps share a Redis. */
  keyPrefix?: string;
  /** Deadline of one Redis command; past it the feature uses its per-process fallback. Default 500 ms. */
  commandTimeoutMs?: number;
  /** How long boot waits for Redis (boot never fails because of it). Default 2000 ms. */
  connectTimeoutMs?: number;
}

export interface EzidHttpOptions {
  /** Total deadline of one EZiD call, including the response body. Default 10000 ms. */
  timeoutMs?: number;
  /** Retries for idempotent GETs on network errors, 502, 503 and 504. Default 2. */
  retries?: number;
  /** Largest response body accepted from EZiD. Default 1 MiB. */
  maxResponseBytes?: number;
}

export interface EzidJwksOptions {
  /** How long a fetched key set is fresh. Default 600 s. */
  cacheMaxAgeSec?: number;
  /** Minimum time between two fetches caused by unknown `kid`s. Default 30 s. */
  cooldownSec?: number;
  /** Total deadline of one JWKS fetch, body included. Default 5000 ms. */
  timeoutMs?: number;
  /** How long known keys keep working after `cacheMaxAgeSec` while the JWKS cannot be fetched. Default 3000 s. `0` disables. */
  staleIfErrorSec?: number;
  /**
   * Fetch the JWKS in the background once the app has booted (`onApplicationBootstrap`), so the first
   * request does not wait for it and a wrong `jwksUri` shows as one warning at start-up (naming the
   * host, never the path or query). Boot never waits for it and never fails because of it. No effect
   * with `publicKey`. Default `true`.
   */
  prefetch?: boolean;
}

export interface EzidTokenOptions {
  /** JWKS URL. One of `jwksUri` / `publicKey` is required. https, or http only for loopback hosts. */
  jwksUri?: string;
  /** PEM public key, for deployments that distribute a static key. */
  publicKey?: string;
  /** Expected `iss`. Required. */
  issuer: string | string[];
  /** Expected `aud`. When set, tokens without a matching `aud` are rejected. */
  audience?: string | string[];
  /**
   * The client(s) a token must have been issued to. `azp` and `client_id`, when present, must be one
   * of these. Default: `clientId`. A list lets one API accept the tokens of several of your EZiD clients.
   */
  authorizedParty?: string | string[];
  /**
   * With `audience` unset: require `azp` or `client_id` (EZiD access tokens carry `azp`), so a token that
   * names no client, or names one only through `aud`, is refused. Default `true`. `false` also accepts
   * tokens that name no client at all (only for an issuer whose every token is meant for this app).
   */
  requireAuthorizedParty?: boolean;
  /** Accepted algorithms. Default `['RS256']`. Asymmetric only: `none` and `HS*` are refused at boot. */
  algorithms?: string[];
  /** Allowed clock skew for `exp`, `nbf` and `iat`. Default 30 s, at most 300. */
  clockToleranceSec?: number;
  /** Longest accepted `exp - iat`. Default 86400 s (24 h). */
  maxLifetimeSec?: number;
  /** Longest accepted token, in bytes, checked before any decoding. Default 8192. */
  maxTokenBytes?: number;
  /**
   * Bound, in bytes, of the verified-token cache (besides its 10 000 entries): each entry is accounted
   * for a fixed overhead plus an estimate of the user object it keeps (large tokens keep none and
   * rebuild the user from the token on a hit). Default 67108864 (64 MiB), at least 65536.
   */
  verifiedCacheMaxBytes?: number;
  /** When set (e.g. `'at+jwt'`), the JOSE header `typ` must equal it (case-insensitive, `application/` prefix allowed). */
  typ?: string;
  /** Also accept the access token from this cookie. */
  cookieName?: string;
  /** JWKS cache, cooldown, deadline and stale-if-error policy. */
  jwks?: EzidJwksOptions;
}

export interface EzidTenantOptions {
  /** Route param that names the tenant. Default `'tenantId'`. */
  param?: string;
  /** Header that names the tenant. Default `'x-tenant-id'`. */
  header?: string;
  /**
   * Custom resolver, consulted after the param and the header (all present carriers must agree).
   * May be async: its promise is awaited. A thrown or rejected `HttpException` is sent as is; any
   * other error is 403 `tenant_forbidden`.
   */
  resolve?: (
    request: unknown,
    user: import('./interfaces/ezid-user.interface').EzidUser,
  ) => string | undefined | Promise<string | undefined>;
  /**
   * Default `false`: a `@Roles()` / `@Permissions()` route whose request names no tenant (param,
   * header, resolver) is 403 `tenant_required`. `true` uses the user's only tenant instead, and only
   * on HTTP routes whose path has no parameters and whose URL has no query string (so no carrier the
   * guard does not read can name another tenant); never on GraphQL, WebSocket or RPC.
   */
  singleTenantFallback?: boolean;
  /**
   * Deadline of an async `resolve` (the guard's wait for its promise). Default 5000 ms, at most
   * 60000. Past it the request is 503 `tenant_unavailable` with `Retry-After: 5`; the promise's later
   * outcome is ignored.
   */
  resolveTimeoutMs?: number;
}

export interface EzidProfileOptions {
  /** `'token'` (default): the `tenants` claim. `'api'`: the user-organizations endpoint, cached. */
  source?: 'token' | 'api';
  /** TTL of the per-user profile cache when `source` is `'api'`. Default 60 s. */
  cacheTtlSec?: number;
  /** Bound of the per-user profile cache. Default 10000 users. */
  cacheMaxEntries?: number;
}

export interface EzidCallbackRateLimitOptions {
  /** Requests per window per IP on the login-start and callback routes. Default 10. */
  limit?: number;
  /** Window length. Default 60 s. */
  ttlSec?: number;
}

/** Refresh-token rotation: reuse detection (see docs/callback.md, Refresh). */
export interface EzidCallbackRefreshOptions {
  /**
   * How long a rotated (superseded) refresh token is remembered for reuse detection, seconds.
   * Default 2 592 000 (30 days: the refresh cookie's lifetime, the longest this module assumes an
   * EZiD refresh token can be valid). A replay after that is still refused (EZiD refresh tokens
   * are single use: 401 `session_expired`) but no longer ends the session it was rotated into.
   */
  rotationTtlSec?: number;
  /**
   * Most rotation records kept per process. Default 100 000 (about 45 MB). When full, the oldest
   * record is evicted first and a `refresh_rotation_evicted` warning is logged (at most once a
   * minute), with the age of the evicted record: the effective reuse-detection window.
   */
  rotationMaxEntries?: number;
  /**
   * Grace window after a rotation, seconds. Default 10; `0` disables it; at most 60. A request that
   * presents the *exact* refresh token that was just rotated (a second tab, a retried request that
   * missed the answer) within this window gets the same successor session (the same new tokens, no
   * EZiD call) instead of ending the session as reuse, as long as that successor has not been
   * rotated or revoked since. After the window it is reuse as before. A thief replaying the token
   * inside the window gets the session too: keep it short.
   */
  reuseGraceSec?: number;
}

export interface EzidCallbackOptions {
  /** Route prefix. Default `'/auth/ezid'`. */
  path?: string;
  /** `'json'` (default) returns tokens in the body; `'cookie'` sets HttpOnly cookies and returns only the user. */
  mode?: 'json' | 'cookie';
  /** Same-origin paths the GET callback may redirect to. Default `['/']`. */
  redirectAllowList?: string[];
  /**
   * Cookie mode: where a failed `GET /callback` (a browser navigation: reused or expired link,
   * missing or mismatched flow cookie, an EZiD error) sends the browser, with a 303 and the stable
   * error code in the query: `<errorRedirect>?ezid_error=<code>`. A path on `redirectAllowList`
   * (checked at boot: no other origin, no query, no percent-encoding). `false` answers the JSON error
   * instead. Default: the first `redirectAllowList` entry (the default post-login path, `/`).
   * @example `errorRedirect: '/login'` → `303 Location: /login?ezid_error=invalid_code`
   */
  errorRedirect?: string | false;
  /** Public URL of the app (used to build magic links and to decide whether cookies are Secure). https, or plain http only for exactly `localhost`, 127.0.0.0/8 and `[::1]`. */
  publicUrl?: string;
  /** Secret used to sign the login-flow cookie (cookie mode). Default: derived from `clientSecret`. */
  flowSecret?: string;
  /** Cookie mode: require the login-flow cookie on the callback (login CSRF defence). Default `true`. */
  requireFlowCookie?: boolean;
  /** Rate limit of the login-start and callback routes. */
  rateLimit?: EzidCallbackRateLimitOptions;
  /**
   * Rate limit of `POST /refresh` and `POST /logout`, per client IP and per route. Default 60
   * requests per 60 s (many users may share one IP; each refreshes once per access-token lifetime).
   */
  sessionRateLimit?: EzidCallbackRateLimitOptions;
  /** Refresh-token rotation records (reuse detection). */
  refresh?: EzidCallbackRefreshOptions;
}

/**
 * Same-origin proof for ambient credentials: every unsafe request (not GET/HEAD/OPTIONS) that
 * `EzidAuthGuard` authenticates with the `token.cookieName` cookie, and every cookie-mode login,
 * callback, refresh and logout route, must come from a trusted origin (`Sec-Fetch-Site`, else
 * `Origin`, else `Referer`). Trusted: the origin of `callback.publicUrl` and `allowedOrigins`.
 * Requests with an `Authorization` header are not cookie-authenticated and are not checked.
 */
export interface EzidCsrfOptions {
  /**
   * More origins allowed to send cookie-authenticated unsafe requests and cookie-mode login
   * requests, e.g. `['https://admin.example.com']`: origins only (`scheme://host[:port]`), no path,
   * no wildcard; https (plain http only for loopback hosts). Default `[]`.
   */
  allowedOrigins?: string[];
  /**
   * Accept an unsafe cookie-authenticated request that carries none of `Sec-Fetch-Site`, `Origin`
   * and `Referer` (non-browser clients that use the cookies; browsers always send one).
   * Default `false`: such a request is 403 `csrf_rejected`.
   */
  allowMissingOrigin?: boolean;
}
