import { CanActivate, ExecutionContext, HttpException, Injectable, Logger, Optional } from '@nestjs/common';
import { HOST_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import { ezidAuthFailure } from '../auth/ezid-auth.guard';
import { EzidTokenError } from '../auth/ezid-token.errors';
import { setResponseHeader, toContextException } from '../common/http-context';
import { EzidHttpException } from '../common/ezid-http.exception';
import { EZID_OBSERVER_OFF, EzidObserver } from '../observer/ezid-observer';
import { InjectEzidOptions } from '../ezid.module-definition';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import type { EzidUser } from '../interfaces/ezid-user.interface';
import { AuthzView, getAuthzView, markAnonymousPass, setEzidTenant } from './authz-context';
import type { CompiledRule } from './authz-rule';
import {
  CompiledRequirement,
  EZID_AUTHZ_DENIALS,
  EzidAuthorizer,
  EzidAuthzDecision,
  EzidAuthzDeniedCode,
  MEMBERSHIP_ONLY,
} from './ezid-authorizer';
import { EzidAuthorizationHookRegistry } from './authorization-hook.registry';
import { hostParams } from './route-warnings';
import { isWellFormedTenantId } from './tenant-id';
import { indexTenants } from './tenant-index';
import {
  EZID_ROLES_GUARD_MARKER,
  PERMISSIONS_METADATA,
  PUBLIC_METADATA,
  ROLES_METADATA,
} from '../common/ezid-metadata';

/** `Retry-After` (seconds) of the 503s the guard produces or relays without one. */
const RETRY_AFTER_SEC = '5';

/** `WWW-Authenticate` of every authorization 403 (RFC 6750 §3.1). */
export const INSUFFICIENT_SCOPE_CHALLENGE = 'Bearer error="insufficient_scope"';

/** What a route asks for, computed once per (handler, class). */
interface RoutePolicy {
  readonly isPublic: boolean;
  /** The controller is host-routed with host params (or a RegExp): the host may name a tenant. */
  readonly hostParams: boolean;
  /** `undefined` when the route has no `@Roles()` / `@Permissions()`. */
  readonly requirement?: CompiledRequirement;
}

/** The tenant a request names: none, one well-formed id, or a malformed/conflicting set of carriers. */
type NamedTenant =
  { readonly kind: 'none' } | { readonly kind: 'id'; readonly id: string } | { readonly kind: 'bad' };

const NONE: NamedTenant = Object.freeze({ kind: 'none' });
const BAD: NamedTenant = Object.freeze({ kind: 'bad' });

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

const hasRetryAfter = (headers: Readonly<Record<string, string>>): boolean =>
  Object.keys(headers).some((name) => name.toLowerCase() === 'retry-after');

const hasOwnKeys = (v: unknown): boolean => typeof v === 'object' && v !== null && Object.keys(v).length > 0;

function rulesFor(
  handlerRule: CompiledRule | undefined,
  classRule: CompiledRule | undefined,
): CompiledRule[] {
  if (handlerRule) return handlerRule.merge && classRule ? [classRule, handlerRule] : [handlerRule];
  return classRule ? [classRule] : [];
}

/**
 * Authorization guard: tenant membership, `@Roles()` and `@Permissions()`.
 *
 * Runs after `EzidAuthGuard` (app-wide when `globalGuard` is on, or with
 * `@UseGuards(EzidAuthGuard, EzidRolesGuard)`). It checks a route when the route has `@Roles()` /
 * `@Permissions()`, and whenever the request names a tenant (route param, header, `tenant.resolve`):
 * naming a tenant you are not a verified member of is 403 even without `@Roles()`.
 *
 * A rule is always enforced, `@Public()` or not: on a `@Public()` route (class, base class or
 * handler) with `@Roles()` / `@Permissions()`, no user is 401 and a user without the right is 403.
 * A `@Public()` route without a rule is only checked when a user is present (authenticated by
 * another guard) and the request names a tenant. The decision is `EzidAuthorizer`'s, so services get
 * the same answer. After an allow, the app's `@EzidAuthorizationHook()` guards run (see there).
 *
 * Extend it and override `getRequest()`, `getTenantCandidates()` or `throwForbidden()` to adapt it.
 */
@Injectable()
export class EzidRolesGuard implements CanActivate {
  /** Lets the boot checks recognise the guard (and subclasses) in `@UseGuards()`. Internal. */
  static readonly [EZID_ROLES_GUARD_MARKER] = true;

  private readonly logger = new Logger('EzidRolesGuard');
  private readonly policies = new WeakMap<object, WeakMap<object, RoutePolicy>>();
  private readonly paramName: string;
  private readonly headerName: string;
  private readonly resolve?: (request: unknown, user: EzidUser) => unknown;
  private readonly tokenSource: boolean;
  private readonly singleTenantFallback: boolean;
  private readonly resolveTimeoutMs: number;
  private readonly observer: EzidObserver;

  constructor(
    private readonly reflector: Reflector,
    private readonly authorizer: EzidAuthorizer,
    @InjectEzidOptions() options: ResolvedEzidOptions,
    private readonly hookRegistry: EzidAuthorizationHookRegistry,
    @Optional() observer?: EzidObserver,
  ) {
    this.observer = observer ?? EZID_OBSERVER_OFF;
    this.paramName = options.tenant.param;
    this.headerName = options.tenant.header;
    this.resolve = options.tenant.resolve;
    this.tokenSource = options.profile.source === 'token';
    this.singleTenantFallback = options.tenant.singleTenantFallback === true;
    this.resolveTimeoutMs = options.tenant.resolveTimeoutMs;
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const policy = this.getPolicy(context);
    const view = this.getRequest(context);
    // A WebSocket client or RPC context may be reused across messages: forget an earlier tenant.
    if (view && context.getType() !== 'http') setEzidTenant(context, undefined);
    const openRoute = policy.isPublic && !policy.requirement;
    // A context this guard does not understand: deny, never allow (unless nothing is asked of it).
    if (!view) return openRoute ? this.runHooks(context) : false;
    // A public route without a rule, called anonymously: nothing to check now. If a later guard
    // (Passport's AuthGuard('ezid-jwt')) attaches a user, the deferred authorization (the last guard
    // of every @Public() handler) runs this guard again, so the membership check and the hooks see it.
    markAnonymousPass(view, openRoute && !view.user ? this : undefined);
    if (openRoute && !view.user) return this.runHooks(context);

    let candidates: unknown[];
    let pending: boolean;
    try {
      candidates = this.getTenantCandidates(context, view);
      // Inside the try: a `then` getter of a resolver's result may throw.
      pending = candidates.some(isThenable);
    } catch (e) {
      return this.resolverFailed(context, e);
    }
    if (pending) {
      return this.settleWithin(context, candidates).then(
        (settled) => this.decideFor(context, policy, view, settled),
        (e: unknown) => this.resolverFailed(context, e),
      );
    }
    return this.decideFor(context, policy, view, candidates);
  }

  /** Awaits every candidate, at most `tenant.resolveTimeoutMs`: then 503 `tenant_unavailable` with `Retry-After`. */
  private settleWithin(context: ExecutionContext, candidates: unknown[]): Promise<unknown[]> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.logger.warn({ event: 'tenant_resolve_timeout', timeoutMs: this.resolveTimeoutMs });
        reject(
          new EzidHttpException(
            503,
            'tenant_unavailable',
            'The tenant of this request could not be determined in time.',
            {
              'Retry-After': RETRY_AFTER_SEC,
            },
          ),
        );
      }, this.resolveTimeoutMs);
    });
    return Promise.race([Promise.all(candidates), deadline]).finally(() => clearTimeout(timer));
  }

  /** What the guard reads in this context (see `getAuthzView`). Override to support another transport. */
  protected getRequest(context: ExecutionContext): AuthzView | undefined {
    return getAuthzView(context);
  }

  /**
   * Every value the request gives for its tenant, in order: the route param, the host param of that
   * name (`@Controller({ host: ':tenantId.example.com' })`), the tenant header
   * (each header bag of the context), then `tenant.resolve(request, user)` (its promise, when async:
   * the guard awaits every promise in the list). `undefined` / `null` entries are absent carriers;
   * all present ones must be well-formed and equal.
   */
  protected getTenantCandidates(_context: ExecutionContext, view: AuthzView): unknown[] {
    const out: unknown[] = [];
    const params = view.params;
    if (typeof params === 'object' && params !== null && Object.hasOwn(params, this.paramName)) {
      out.push((params as Record<string, unknown>)[this.paramName]);
    }
    const hosts = view.hosts;
    if (typeof hosts === 'object' && hosts !== null && Object.hasOwn(hosts, this.paramName)) {
      out.push((hosts as Record<string, unknown>)[this.paramName]);
    }
    for (const bag of view.headerBags) {
      if (typeof bag === 'object' && bag !== null && Object.hasOwn(bag, this.headerName)) {
        out.push((bag as Record<string, unknown>)[this.headerName]);
      }
    }
    if (this.resolve && view.user) {
      const resolved = this.resolve(view.request, view.user);
      if (resolved !== null) out.push(resolved);
    }
    return out;
  }

  /** Throws the 403 of `code`, with `WWW-Authenticate: Bearer error="insufficient_scope"`. */
  protected throwForbidden(context: ExecutionContext, code: EzidAuthzDeniedCode): never {
    this.throwError(
      context,
      new EzidHttpException(403, code, EZID_AUTHZ_DENIALS[code].message, {
        'WWW-Authenticate': INSUFFICIENT_SCOPE_CHALLENGE,
      }),
    );
  }

  /**
   * Throws `error` in the shape of the context: on HTTP with its headers applied to the response; on
   * WebSocket / RPC as a `WsException` / `RpcException` carrying the same `{ statusCode, error, code, message }` body.
   */
  protected throwError(context: ExecutionContext, error: unknown): never {
    if (error instanceof HttpException) throw toContextException(context, error);
    throw error;
  }

  /**
   * Whether the single-tenant fallback may pick the user's only tenant for this request: only with
   * `tenant.singleTenantFallback`, only on HTTP, only when the route has no path parameter, its
   * controller no host parameter and the URL no query string (carriers the guard does not read could
   * otherwise name another tenant).
   */
  protected allowsSingleTenantFallback(context: ExecutionContext, view: AuthzView): boolean {
    if (!this.singleTenantFallback || context.getType() !== 'http') return false;
    if (this.getPolicy(context).hostParams || hasOwnKeys(view.hosts)) return false;
    if (hasOwnKeys(view.params) || hasOwnKeys(view.request.query)) return false;
    const url = view.request.url;
    return typeof url === 'string' && !url.includes('?');
  }

  private decideFor(
    context: ExecutionContext,
    policy: RoutePolicy,
    view: AuthzView,
    candidates: readonly unknown[],
  ): boolean | Promise<boolean> {
    const user = view.user;
    const named = this.getNamedTenant(candidates);
    if (named.kind === 'bad') {
      if (this.observer.active)
        this.observer.accessDenied(context, 'tenant_forbidden', user, undefined, policy.requirement);
      this.throwForbidden(context, 'tenant_forbidden');
    }
    const requirement = policy.requirement ?? (named.kind === 'id' ? MEMBERSHIP_ONLY : undefined);

    if (!requirement) {
      // Nothing asked and no tenant named: let the request through; expose the user's only tenant
      // to @CurrentTenant() where the fallback would apply and that costs nothing (token profile).
      if (user && this.tokenSource && this.allowsSingleTenantFallback(context, view)) {
        const only = indexTenants(user.tenants).only;
        if (only?.usable) setEzidTenant(context, only.tenant);
      }
      return this.runHooks(context);
    }
    if (!user) {
      // An @OptionalAuth() route called without a token (or no auth guard ran).
      if (policy.requirement) {
        if (this.observer.active) this.observer.authenticationFailed(context, 'token_missing');
        this.throwError(context, ezidAuthFailure(new EzidTokenError('token_missing', 'authz')));
      }
      if (this.observer.active)
        this.observer.accessDenied(
          context,
          'tenant_forbidden',
          undefined,
          named.kind === 'id' ? named.id : undefined,
          undefined,
        );
      this.throwForbidden(context, 'tenant_forbidden');
    }

    const tenantId = named.kind === 'id' ? named.id : undefined;
    const fallback = tenantId === undefined && this.allowsSingleTenantFallback(context, view);
    let decision: EzidAuthzDecision | Promise<EzidAuthzDecision>;
    try {
      decision = this.authorizer.decideCompiled(user, tenantId, requirement, fallback);
    } catch (e) {
      return this.fail(context, e);
    }
    if (decision instanceof Promise) {
      return decision.then(
        (d) => this.apply(context, d, user, tenantId, requirement),
        (e: unknown) => this.fail(context, e),
      );
    }
    return this.apply(context, decision, user, tenantId, requirement);
  }

  /** A throwing or rejecting `tenant.resolve`: its `HttpException` as is, anything else 403 (never a 500, never a crash). */
  private resolverFailed(context: ExecutionContext, error: unknown): never {
    if (error instanceof HttpException) this.throwError(context, error);
    this.logger.warn({
      event: 'tenant_resolve_failed',
      error: error instanceof Error ? error.name.slice(0, 64) : typeof error,
    });
    if (this.observer.active) {
      const policy = this.getPolicy(context);
      this.observer.accessDenied(
        context,
        'tenant_forbidden',
        getAuthzView(context)?.user,
        undefined,
        policy.requirement,
      );
    }
    this.throwForbidden(context, 'tenant_forbidden');
  }

  /** Runs the `@EzidAuthorizationHook()` guards in order; the first refusal denies. */
  private runHooks(context: ExecutionContext): boolean | Promise<boolean> {
    // Hooks not discovered (the app was not initialized): deny, never skip them.
    if (!this.hookRegistry.ready) return false;
    const hooks = this.hookRegistry.hooks;
    if (hooks.length === 0) return true;
    const run = async (): Promise<boolean> => {
      for (const hook of hooks) {
        let passed: unknown;
        try {
          let result = hook.canActivate(context);
          if (isObservable(result)) result = lastValueFrom(result, { defaultValue: false });
          passed = await result;
        } catch (e) {
          this.hookFailed(context, e);
        }
        if (passed !== true) {
          if (this.observer.active) this.hookDenied(context);
          this.throwError(
            context,
            new EzidHttpException(403, 'access_denied', 'Access to this resource is denied.', {
              'WWW-Authenticate': INSUFFICIENT_SCOPE_CHALLENGE,
            }),
          );
        }
      }
      return true;
    };
    return run();
  }

  /**
   * A hook's exception, through the guard's error path: an `EzidHttpException`'s headers reach the
   * response (guards run before the module's headers interceptor), a 503 without `Retry-After` gets
   * one, and WebSocket / RPC get their exception type. Anything else is rethrown as is.
   */
  private hookFailed(context: ExecutionContext, error: unknown): never {
    // A hook that refuses by throwing its own 403 denies as much as one that returns false.
    if (this.observer.active && error instanceof HttpException && error.getStatus() === 403)
      this.hookDenied(context);
    if (
      error instanceof HttpException &&
      error.getStatus() === 503 &&
      !(error instanceof EzidHttpException && hasRetryAfter(error.headers))
    ) {
      setResponseHeader(context, 'Retry-After', RETRY_AFTER_SEC);
    }
    this.throwError(context, error);
  }

  /** Reports a refusal of an `@EzidAuthorizationHook()` guard (403 `access_denied`). */
  private hookDenied(context: ExecutionContext): void {
    const view = getAuthzView(context);
    const policy = this.getPolicy(context);
    this.observer.accessDenied(context, 'access_denied', view?.user, undefined, policy.requirement);
  }

  private getNamedTenant(candidates: readonly unknown[]): NamedTenant {
    let id: string | undefined;
    for (const value of candidates) {
      if (value === undefined || value === null) continue;
      // Malformed (empty, too long, control characters, a repeated header, an array): 403, no lookup.
      if (!isWellFormedTenantId(value)) return BAD;
      // Two carriers naming different tenants (header A, path B): 403.
      if (id !== undefined && id !== value) return BAD;
      id = value;
    }
    return id === undefined ? NONE : { kind: 'id', id };
  }

  private apply(
    context: ExecutionContext,
    decision: EzidAuthzDecision,
    user: EzidUser,
    tenantId: string | undefined,
    requirement: CompiledRequirement,
  ): boolean | Promise<boolean> {
    if (!decision.allowed) {
      if (this.observer.active)
        this.observer.accessDenied(context, decision.code, user, tenantId, requirement);
      this.throwForbidden(context, decision.code);
    }
    setEzidTenant(context, decision.tenant);
    if (this.observer.active) this.observer.authorized(context);
    return this.runHooks(context);
  }

  private fail(context: ExecutionContext, error: unknown): never {
    this.throwError(context, error);
  }

  private getPolicy(context: ExecutionContext): RoutePolicy {
    const handler = context.getHandler();
    const cls = context.getClass();
    let byClass = this.policies.get(handler);
    let policy = byClass?.get(cls);
    if (policy) return policy;
    const targets = [handler, cls];
    const roles = rulesFor(
      this.reflector.get(ROLES_METADATA, handler),
      this.reflector.get(ROLES_METADATA, cls),
    );
    const permissions = rulesFor(
      this.reflector.get(PERMISSIONS_METADATA, handler),
      this.reflector.get(PERMISSIONS_METADATA, cls),
    );
    policy = Object.freeze({
      hostParams: hostParams(Reflect.getMetadata(HOST_METADATA, cls)).length > 0,
      isPublic: this.reflector.getAllAndOverride(PUBLIC_METADATA, targets) === true,
      requirement:
        roles.length || permissions.length
          ? Object.freeze({ roles: Object.freeze(roles), permissions: Object.freeze(permissions) })
          : undefined,
    });
    if (!byClass) {
      byClass = new WeakMap();
      this.policies.set(handler, byClass);
    }
    byClass.set(cls, policy);
    return policy;
  }
}
