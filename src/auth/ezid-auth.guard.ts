import { CanActivate, ExecutionContext, HttpException, Injectable, Logger, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { EzidHttpException } from '../common/ezid-http.exception';
import { EZID_OBSERVER_OFF, EzidObserver } from '../observer/ezid-observer';
import { applyEzidHeaders, httpRequestOf, toContextException } from '../common/http-context';
import {
  csrfRejected,
  EzidSameOriginPolicy,
  isUnsafeMethod,
  isWebSocketUpgrade,
} from '../common/same-origin';
import {
  attachEzidUserToRequest,
  graphqlRequest,
  hasEzidUser,
  setEzidUser,
} from '../common/ezid-user-context';
import { enterEzidContext } from '../context/ezid-context';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { InjectEzidOptions } from '../ezid.module-definition';
import type { EzidUser } from '../interfaces/ezid-user.interface';
import { EZID_REALM } from './auth.constants';
import { EzidKeysUnavailableError, EzidTokenError } from './ezid-token.errors';
import { EzidTokenVerifier, type EzidVerifiedToken, logRejection } from './ezid-token-verifier';
import {
  type EzidHttpRequestLike,
  extractHttpToken,
  extractRpcToken,
  extractWsToken,
  hasQueryToken,
  readCookie,
  wsHandshakeRequest,
} from './token-extractor';
import {
  OPTIONAL_AUTH_METADATA,
  PERMISSIONS_METADATA,
  PUBLIC_METADATA,
  ROLES_METADATA,
} from '../common/ezid-metadata';

/** Whether a GraphQL execution context runs a subscription (the resolve info's operation), read by duck-typing. */
function isGraphqlSubscription(context: ExecutionContext): boolean {
  const info = context.getArgs()[3] as { operation?: { operation?: unknown } } | undefined;
  return info?.operation?.operation === 'subscription';
}

interface RouteFlags {
  readonly isPublic: boolean;
  readonly optional: boolean;
}

/** The `WWW-Authenticate` challenge and status of an authentication failure (RFC 6750 §3). */
export function ezidAuthFailure(err: unknown): EzidHttpException {
  if (err instanceof EzidHttpException) return err;
  if (err instanceof EzidKeysUnavailableError) {
    return new EzidHttpException(503, 'idp_unavailable', err.message, {
      'Retry-After': String(err.retryAfterSec),
    });
  }
  const e = err instanceof EzidTokenError ? err : new EzidTokenError('token_invalid', 'internal');
  if (e.code === 'token_missing') {
    return new EzidHttpException(401, 'token_missing', e.message, {
      'WWW-Authenticate': `Bearer realm="${EZID_REALM}"`,
    });
  }
  if (e.code === 'invalid_request') {
    return new EzidHttpException(400, 'invalid_request', e.message, {
      'WWW-Authenticate': `Bearer realm="${EZID_REALM}", error="invalid_request", error_description="${e.message}"`,
    });
  }
  return new EzidHttpException(401, e.code, e.message, {
    'WWW-Authenticate': `Bearer realm="${EZID_REALM}", error="invalid_token", error_description="${e.message}"`,
  });
}

/**
 * Authentication guard: verifies the EZiD access token of the request with `EzidTokenVerifier`
 * and attaches the `EzidUser` (HTTP/GraphQL: `request.user`; every context: `getEzidUser(context)`).
 *
 * - `@Public()` (handler or class; handler wins) skips it without reading any token, unless the route
 *   also carries `@Roles()` / `@Permissions()` (handler, class or base class): a rule is always enforced,
 *   so such a route is authenticated as if `@Public()` were absent.
 * - `@OptionalAuth()`: no token → allowed with no user; a valid token → user attached; an invalid
 *   token → 401.
 * - CSRF: an unsafe request (not GET/HEAD/OPTIONS) authenticated by the `token.cookieName` cookie
 *   (no `Authorization` header) must prove same-origin (`EzidSameOriginPolicy`: `Sec-Fetch-Site`,
 *   else `Origin`/`Referer` against `callback.publicUrl` and `csrf.allowedOrigins`), else 403
 *   `csrf_rejected`, before the token is verified. On WebSocket the handshake's cookie is read only
 *   when no other token was sent, and every message it authenticates needs a same-origin handshake.
 * - Failures: 401 `token_missing | token_malformed | token_expired | token_invalid | token_revoked`
 *   with `WWW-Authenticate`, 400 `invalid_request` (token sent in two places), 503 `idp_unavailable`
 *   with `Retry-After`. WebSocket and RPC contexts get a `WsException` / `RpcException` with the
 *   same `{ statusCode, error, code, message }` body. Unknown context types are denied.
 *
 * A plain injectable class: registered app-wide when `globalGuard` is on (the default), usable with
 * `@UseGuards(EzidAuthGuard)` otherwise. In tests, `overrideProvider(EzidAuthGuard)` replaces the app-wide
 * guard (it delegates to this provider); `overrideGuard(EzidAuthGuard)` replaces it where listed in `@UseGuards()`.
 *
 * @example
 * ```ts
 * @UseGuards(EzidAuthGuard)
 * @Get('me')
 * me(@Req() req: { user: EzidUser }) { return req.user.id; }
 * ```
 */
@Injectable()
export class EzidAuthGuard implements CanActivate {
  private readonly logger = new Logger('EzidAuthGuard');
  private readonly flagsCache = new WeakMap<object, WeakMap<object, RouteFlags>>();
  private readonly cookieName?: string;
  private readonly sameOrigin: EzidSameOriginPolicy;
  private readonly context: boolean;
  private readonly observer: EzidObserver;
  /** A header token the verifier has cached is not scanned again (see `parseAuthorizationHeader`). */
  private readonly known?: (token: string) => boolean;

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: EzidTokenVerifier,
    @InjectEzidOptions() options: ResolvedEzidOptions,
    @Optional() observer?: EzidObserver,
  ) {
    this.observer = observer ?? EZID_OBSERVER_OFF;
    this.cookieName = options.token.cookieName;
    const publicUrl = options.callback ? options.callback.publicUrl : undefined;
    this.sameOrigin = new EzidSameOriginPolicy({ publicUrl, ...options.csrf });
    this.context = options.context;
    // A replaced verifier (overrideProvider) may not have it: its headers are then always scanned.
    if (typeof verifier.isCachedToken === 'function') this.known = (t) => verifier.isCachedToken(t);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.context) enterEzidContext(context);
    const flags = this.flags(context);
    if (flags.isPublic) return true;
    const type = context.getType<string>();
    let token: string | undefined;
    let request: Record<string, unknown> | undefined;
    try {
      if (type === 'http') {
        request = httpRequestOf<Record<string, unknown>>(context);
        if (hasEzidUser(request)) return true; // already authenticated by an earlier EzidAuthGuard on this request
        token = extractHttpToken(request as EzidHttpRequestLike, this.cookieName, this.known);
        if (token !== undefined) this.checkAmbientCredential(context, request);
      } else if (type === 'graphql') {
        request = graphqlRequest(context);
        if (!request) throw new EzidTokenError('token_missing', 'graphql_no_request');
        // A subscription's request, and over graphql-ws any operation's, may be the connection's
        // upgrade request, shared by every operation: verify each one (no shortcut on a user an
        // earlier operation attached), and treat a cookie as a WebSocket handshake's (origin checked).
        const handshake = isGraphqlSubscription(context) || isWebSocketUpgrade(request);
        if (!handshake && hasEzidUser(request)) return true;
        token = extractHttpToken(request as EzidHttpRequestLike, this.cookieName, this.known);
        if (token !== undefined) this.checkAmbientCredential(context, request, handshake);
      } else if (type === 'ws') {
        const client = context.switchToWs().getClient<unknown>();
        token = extractWsToken(client, context.switchToWs().getData());
        if (token === undefined && this.cookieName) token = this.wsCookieToken(context, client);
      } else if (type === 'rpc') {
        token = extractRpcToken(context.switchToRpc().getContext(), context.switchToRpc().getData());
      } else {
        this.logger.debug({
          event: 'token_rejected',
          reason: 'unknown_context',
          type: String(type).slice(0, 32),
        });
        return false;
      }
    } catch (err) {
      return this.reject(context, err);
    }
    if (token === undefined) {
      if (flags.optional) return true;
      return this.reject(context, new EzidTokenError('token_missing', 'no_token'));
    }
    let result: EzidVerifiedToken | Promise<EzidVerifiedToken>;
    try {
      result = this.verifier.verifyToken(token);
    } catch (err) {
      return this.reject(context, err);
    }
    if (result instanceof Promise) {
      return result.then(
        (v) => this.accept(context, request, v.user),
        (err: unknown) => this.reject(context, err),
      );
    }
    return this.accept(context, request, result.user);
  }

  /**
   * Builds the exception thrown for a failed authentication (override to customise). Must not put
   * the token, a kid, an expected `iss`/`aud` or a library message in the response.
   */
  protected createException(context: ExecutionContext, err: unknown): Error {
    const http = ezidAuthFailure(err);
    return context.getType() === 'http' ? http : toContextException(context, http);
  }

  /**
   * CSRF: a cookie-authenticated request (no `Authorization` header) must come from a trusted origin:
   * over HTTP when its method is unsafe; for a GraphQL subscription (`handshake`) always, since its
   * request may be a WebSocket upgrade, which any page can open.
   */
  private checkAmbientCredential(
    context: ExecutionContext,
    request: Record<string, unknown>,
    handshake = false,
  ): void {
    const headers = (request.headers ?? {}) as Record<string, string | string[] | undefined>;
    if (!this.cookieName || headers.authorization !== undefined) return;
    if (!handshake && !isUnsafeMethod(request.method)) return;
    this.requireTrustedOrigin(context, headers, handshake);
  }

  /**
   * Cookie mode on WebSocket: the `token.cookieName` cookie of the handshake, used only when no other
   * token was sent, and only from a trusted origin (a WebSocket has no CORS: any page can open one to
   * the app, and the browser attaches the cookie), else 403 `csrf_rejected`; next to a handshake
   * `?access_token=`, 400 `invalid_request`.
   */
  private wsCookieToken(context: ExecutionContext, client: unknown): string | undefined {
    const handshake = wsHandshakeRequest(client);
    const headers = (handshake?.headers ?? {}) as Record<string, string | string[] | undefined>;
    const token = readCookie(headers.cookie, this.cookieName!);
    if (token === undefined) return undefined;
    if (hasQueryToken(handshake?.url)) throw new EzidTokenError('invalid_request', 'token_in_two_places');
    this.requireTrustedOrigin(context, headers, true);
    return token;
  }

  /** The same-origin proof (`EzidSameOriginPolicy`), else 403 `csrf_rejected` (logged at debug level). */
  private requireTrustedOrigin(
    context: ExecutionContext,
    headers: Record<string, string | string[] | undefined>,
    handshake: boolean,
  ): void {
    const verdict = this.sameOrigin.check(headers, { handshake });
    if (verdict.ok) return;
    const route = `${context.getClass()?.name}.${context.getHandler()?.name}`;
    this.logger.debug({ event: 'csrf_rejected', reason: verdict.reason, route });
    if (this.observer.active) this.observer.csrfRejected(context);
    throw csrfRejected();
  }

  private accept(
    context: ExecutionContext,
    request: Record<string, unknown> | undefined,
    user: EzidUser,
  ): boolean {
    if (request) attachEzidUserToRequest(request, user);
    else setEzidUser(context, user);
    if (this.observer.active) this.observer.authenticated(context);
    return true;
  }

  private reject(context: ExecutionContext, err: unknown): never {
    if (!(err instanceof EzidHttpException))
      logRejection(this.logger, err, `${context.getClass()?.name}.${context.getHandler()?.name}`);
    if (this.observer.active) {
      const code = ezidAuthFailure(err).code;
      if (code !== 'csrf_rejected') this.observer.authenticationFailed(context, code);
    }
    const ex = this.createException(context, err);
    if (ex instanceof HttpException && context.getType() === 'http') {
      applyEzidHeaders(context, (ex as EzidHttpException).headers ?? {});
    }
    throw ex;
  }

  private flags(context: ExecutionContext): RouteFlags {
    const handler = context.getHandler();
    const cls = context.getClass();
    let byClass = this.flagsCache.get(handler);
    let flags = byClass?.get(cls);
    if (flags) return flags;
    const targets = [handler, cls];
    const hasRule = targets.some(
      (t) => this.reflector.get(ROLES_METADATA, t) || this.reflector.get(PERMISSIONS_METADATA, t),
    );
    flags = Object.freeze({
      isPublic: !hasRule && this.reflector.getAllAndOverride(PUBLIC_METADATA, targets) === true,
      optional: this.reflector.getAllAndOverride(OPTIONAL_AUTH_METADATA, targets) === true,
    });
    if (!byClass) this.flagsCache.set(handler, (byClass = new WeakMap()));
    byClass.set(cls, flags);
    return flags;
  }
}
