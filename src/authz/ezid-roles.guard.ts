import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { applyEzidHeaders } from '../common/http-context';
import { EzidHttpException } from '../common/ezid-http.exception';
import { Public } from '../decorators/public.decorator';
import { PERMISSIONS_METADATA } from '../decorators/permissions.decorator';
import { ROLES_METADATA } from '../decorators/roles.decorator';
import { InjectEzidOptions } from '../ezid.module-definition';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import type { EzidTenant, EzidUser } from '../interfaces/ezid-user.interface';
import {
  AuthzCarrier,
  EZID_TENANT,
  getAuthzCarrier,
  getCarrierHeaders,
  getCarrierUser,
} from './authz-context';
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
    const carrier = this.getRequest(context);
    if (carrier) carrier[EZID_TENANT] = undefined; // a WebSocket client is reused across messages
    if (policy.isPublic) return true;
    if (!carrier) return false; // a context this guard does not understand: deny, never allow

    const user = getCarrierUser(carrier);
    const named = this.getNamedTenant(context, carrier, user);
    if (named.kind === 'bad') this.throwForbidden(context, 'tenant_forbidden');
    const requirement = policy.requirement ?? (named.kind === 'id' ? MEMBERSHIP_ONLY : undefined);

    if (!requirement) {
      // Nothing asked and no tenant named: let the request through; expose the user's only tenant
      // to @CurrentTenant() when that costs nothing (token profile).
      if (user && this.tokenSource) {
        const only = indexTenants(user.tenants).only;
        if (only?.usable) carrier[EZID_TENANT] = only.tenant;
      }
      return true;
    }
    if (!user) {
      // Optional-auth route without a token that names a tenant or needs a role.
      if (policy.requirement) {
        throw new EzidHttpException(401, 'token_missing', 'This route needs an access token.', {
          'WWW-Authenticate': 'Bearer realm="api"',
        });
      }
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
        (d) => this.apply(context, carrier, d),
        (e: unknown) => this.fail(context, e),
      );
    }
    return this.apply(context, carrier, decision);
  }

  /** The object carrying the user and the tenant carriers (see `getAuthzCarrier`). Override for other transports. */
  protected getRequest(context: ExecutionContext): AuthzCarrier | undefined {
    return getAuthzCarrier(context);
  }

  /**
   * Every value the request gives for its tenant, in order: the route param, the header, then
   * `tenant.resolve(request, user)`. `undefined` entries are carriers that are absent.
   */
  protected getTenantCandidates(
    _context: ExecutionContext,
    request: AuthzCarrier,
    user: EzidUser | undefined,
  ): unknown[] {
    const out: unknown[] = [];
    const params = request.params;
    if (typeof params === 'object' && params !== null && Object.hasOwn(params, this.paramName)) {
      out.push((params as Record<string, unknown>)[this.paramName]);
    }
    const headers = getCarrierHeaders(request);
    if (headers && Object.hasOwn(headers, this.headerName)) out.push(headers[this.headerName]);
    if (this.resolve && user) {
      const resolved = this.resolve(request, user);
      if (resolved !== null) out.push(resolved);
    }
    return out;
  }

  /** Throws the 403 of `code`, with `WWW-Authenticate: Bearer error="insufficient_scope"`. */
  protected throwForbidden(context: ExecutionContext, code: EzidAuthzDeniedCode): never {
    const ex = new EzidHttpException(403, code, EZID_AUTHZ_DENIALS[code].message, {
      'WWW-Authenticate': INSUFFICIENT_SCOPE_CHALLENGE,
    });
    applyEzidHeaders(context, ex.headers);
    throw ex;
  }

  private getNamedTenant(
    context: ExecutionContext,
    request: AuthzCarrier,
    user: EzidUser | undefined,
  ): NamedTenant {
    let id: string | undefined;
    for (const value of this.getTenantCandidates(context, request, user)) {
      if (value === undefined) continue;
      // Malformed (empty, too long, control characters, a repeated header, an array): 403, no lookup.
      if (!isWellFormedTenantId(value)) return BAD;
      // Two carriers naming different tenants (header A, path B): 403.
      if (id !== undefined && id !== value) return BAD;
      id = value;
    }
    return id === undefined ? NONE : { kind: 'id', id };
  }

  private apply(context: ExecutionContext, carrier: AuthzCarrier, decision: EzidAuthzDecision): true {
    if (!decision.allowed) this.throwForbidden(context, decision.code);
    carrier[EZID_TENANT] = decision.tenant as EzidTenant;
    return true;
  }

  private fail(context: ExecutionContext, error: unknown): never {
    if (error instanceof EzidHttpException) applyEzidHeaders(context, error.headers);
    throw error;
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
