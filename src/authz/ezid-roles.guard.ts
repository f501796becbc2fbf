import { CanActivate, ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ezidAuthFailure } from '../auth/ezid-auth.guard';
import { EzidTokenError } from '../auth/ezid-token.errors';
import { toContextException } from '../common/http-context';
import { EzidHttpException } from '../common/ezid-http.exception';
import { Public } from '../decorators/public.decorator';
import { PERMISSIONS_METADATA } from '../decorators/permissions.decorator';
import { ROLES_METADATA } from '../decorators/roles.decorator';
import { InjectEzidOptions } from '../ezid.module-definition';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import type { EzidUser } from '../interfaces/ezid-user.interface';
import { AuthzView, getAuthzView, setEzidTenant } from './authz-context';
import type { CompiledRule } from './authz-rule';
import {
  CompiledRequirement,
  EZID_AUTHZ_DENIALS,
  EzidAuthorizer,
  EzidAuthzDecision,
  EzidAuthzDeniedCode,
  MEMBERSHIP_ONLY,
} from './ezid-authorizer';
import { isWellFormedTenantId } from './tenant-id';
import { indexTenants } from './tenant-index';

/** `WWW-Authenticate` of every authorization 403 (RFC 6750 §3.1). */
export const INSUFFICIENT_SCOPE_CHALLENGE = 'Bearer error="insufficient_scope"';

/** What a route asks for, computed once per (handler, class). */
interface RoutePolicy {
  readonly isPublic: boolean;
  /** `undefined` when the route has no `@Roles()` / `@Permissions()`. */
  readonly requirement?: CompiledRequirement;
}

/** The tenant a request names: none, one well-formed id, or a malformed/conflicting set of carriers. */
type NamedTenant =
  { readonly kind: 'none' } | { readonly kind: 'id'; readonly id: string } | { readonly kind: 'bad' };

const NONE: NamedTenant = Object.freeze({ kind: 'none' });
const BAD: NamedTenant = Object.freeze({ kind: 'bad' });

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
 * naming a tenant you are not a verified member of is 403 even without `@Roles()`. `@Public()` routes
 * are not checked. The decision is `EzidAuthorizer`'s, so services get the same answer.
 *
 * Extend it and override `getRequest()`, `getTenantCandidates()` or `throwForbidden()` to adapt it.
 */
@Injectable()
export class EzidRolesGuard implements CanActivate {
  private readonly policies = new WeakMap<object, WeakMap<object, RoutePolicy>>();
  private readonly paramName: string;
  private readonly headerName: string;
  private readonly resolve?: (request: unknown, user: EzidUser) => string | undefined;
  private readonly tokenSource: boolean;

  constructor(
    private readonly reflector: Reflector,
    private readonly authorizer: EzidAuthorizer,
    @InjectEzidOptions() options: ResolvedEzidOptions,
  ) {
    this.paramName = options.tenant.param;
    this.headerName = options.tenant.header;
    this.resolve = options.tenant.resolve;
    this.tokenSource = options.profile.source === 'token';
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const policy = this.getPolicy(context);
    const view = this.getRequest(context);
    // A WebSocket client or RPC context may be reused across messages: forget an earlier tenant.
    if (view && context.getType() !== 'http') setEzidTenant(context, undefined);
    if (policy.isPublic) return true;
    if (!view) return false; // a context this guard does not understand: deny, never allow

    const user = view.user;
    const named = this.getNamedTenant(context, view);
    if (named.kind === 'bad') this.throwForbidden(context, 'tenant_forbidden');
    const requirement = policy.requirement ?? (named.kind === 'id' ? MEMBERSHIP_ONLY : undefined);

    if (!requirement) {
      // Nothing asked and no tenant named: let the request through; expose the user's only tenant
      // to @CurrentTenant() when that costs nothing (token profile).
      if (user && this.tokenSource) {
        const only = indexTenants(user.tenants).only;
        if (only?.usable) setEzidTenant(context, only.tenant);
      }
      return true;
    }
    if (!user) {
      // An @OptionalAuth() route called without a token (or no auth guard ran).
      if (policy.requirement)
        this.throwError(context, ezidAuthFailure(new EzidTokenError('token_missing', 'authz')));
      this.throwForbidden(context, 'tenant_forbidden');
    }

    const tenantId = named.kind === 'id' ? named.id : undefined;
    let decision: EzidAuthzDecision | Promise<EzidAuthzDecision>;
    try {
      decision = this.authorizer.decideCompiled(user, tenantId, requirement);
    } catch (e) {
      return this.fail(context, e);
    }
    if (decision instanceof Promise) {
      return decision.then(
        (d) => this.apply(context, d),
        (e: unknown) => this.fail(context, e),
      );
    }
    return this.apply(context, decision);
  }

  /** What the guard reads in this context (see `getAuthzView`). Override to support another transport. */
  protected getRequest(context: ExecutionContext): AuthzView | undefined {
    return getAuthzView(context);
  }

  /**
   * Every value the request gives for its tenant, in order: the route param, the tenant header
   * (each header bag of the context), then `tenant.resolve(request, user)`. `undefined` entries are
   * absent carriers; all present ones must be well-formed and equal.
   */
  protected getTenantCandidates(_context: ExecutionContext, view: AuthzView): unknown[] {
    const out: unknown[] = [];
    const params = view.params;
    if (typeof params === 'object' && params !== null && Object.hasOwn(params, this.paramName)) {
      out.push((params as Record<string, unknown>)[this.paramName]);
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

  private getNamedTenant(context: ExecutionContext, view: AuthzView): NamedTenant {
    let id: string | undefined;
    for (const value of this.getTenantCandidates(context, view)) {
      if (value === undefined) continue;
      // Malformed (empty, too long, control characters, a repeated header, an array): 403, no lookup.
      if (!isWellFormedTenantId(value)) return BAD;
      // Two carriers naming different tenants (header A, path B): 403.
      if (id !== undefined && id !== value) return BAD;
      id = value;
    }
    return id === undefined ? NONE : { kind: 'id', id };
  }

  private apply(context: ExecutionContext, decision: EzidAuthzDecision): true {
    if (!decision.allowed) this.throwForbidden(context, decision.code);
    setEzidTenant(context, decision.tenant);
    return true;
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
      isPublic: this.reflector.getAllAndOverride(Public, targets) === true,
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
