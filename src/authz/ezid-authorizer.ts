import { Injectable } from '@nestjs/common';
import type { EzidErrorCode } from '../common/ezid-http.exception';
import type { EzidTenant, EzidUser } from '../interfaces/ezid-user.interface';
import { CompiledRule, EzidAuthzRequirement, compileRequirement, rulePasses } from './authz-rule';
import { EzidProfileStore } from './ezid-profile.source';
import { isWellFormedTenantId } from './tenant-id';
import { TenantIndex, indexTenants } from './tenant-index';

/** The 403 codes of an authorization decision. */
export type EzidAuthzDeniedCode = Extract<
  EzidErrorCode,
  'tenant_required' | 'tenant_forbidden' | 'insufficient_role' | 'insufficient_permission'
>;

/** The outcome of `EzidAuthorizer.check()`. */
export type EzidAuthzDecision =
  | { readonly allowed: true; readonly tenant: EzidTenant }
  | { readonly allowed: false; readonly code: EzidAuthzDeniedCode; readonly message: string };

/** A requirement after validation: every rule listed must pass (class and handler rules when merged). Internal. */
export interface CompiledRequirement {
  readonly roles: readonly CompiledRule[];
  readonly permissions: readonly CompiledRule[];
}

/** Membership only: the tenant must be one the user is a verified member of. */
export const MEMBERSHIP_ONLY: CompiledRequirement = Object.freeze({ roles: [], permissions: [] });

const DENY = {
  tenant_required: {
    allowed: false,
    code: 'tenant_required',
    message: 'This route needs a tenant: name one with the route parameter or the tenant header.',
  },
  tenant_forbidden: {
    allowed: false,
    code: 'tenant_forbidden',
    message: 'You are not a verified member of the tenant named by this request.',
  },
  insufficient_role: {
    allowed: false,
    code: 'insufficient_role',
    message: 'You do not hold a role this route requires in this tenant.',
  },
  insufficient_permission: {
    allowed: false,
    code: 'insufficient_permission',
    message: 'You do not hold a permission this route requires in this tenant.',
  },
} as const satisfies Record<EzidAuthzDeniedCode, EzidAuthzDecision>;

/** The denial of each code, with its fixed message (no request input is ever echoed). */
export const EZID_AUTHZ_DENIALS: Readonly<
  Record<EzidAuthzDeniedCode, EzidAuthzDecision & { allowed: false }>
> = DENY;

/**
 * Decides, against the user's tenant index, whether `tenantId` (or, when `undefined` and `fallback` is
 * true, the user's only tenant) satisfies `requirement`. Pure and synchronous; shared by the guard
 * and `EzidAuthorizer`.
 */
export function decide(
  index: TenantIndex,
  tenantId: string | undefined,
  requirement: CompiledRequirement,
  fallback = true,
): EzidAuthzDecision {
  let entry;
  if (tenantId === undefined) {
    if (!fallback) return DENY.tenant_required;
    // Single-tenant fallback: the caller decided nothing in the request can name a tenant.
    entry = index.only;
    if (!entry) return DENY.tenant_required;
  } else {
    if (!isWellFormedTenantId(tenantId)) return DENY.tenant_forbidden;
    entry = index.byId.get(tenantId);
  }
  if (!entry || !entry.usable) return DENY.tenant_forbidden;
  for (const rule of requirement.roles) {
    if (!rulePasses(rule, entry.roles, entry.roleKeys)) return DENY.insufficient_role;
  }
  for (const rule of requirement.permissions) {
    if (!rulePasses(rule, entry.permissions, entry.permissionKeys)) return DENY.insufficient_permission;
  }
  return { allowed: true, tenant: entry.tenant };
}

/** Compiles the public requirement shape (validating it: a malformed requirement throws a `TypeError`). */
export function compileAuthzRequirement(requirement: EzidAuthzRequirement | undefined): CompiledRequirement {
  if (!requirement) return MEMBERSHIP_ONLY;
  return {
    roles: requirement.roles === undefined ? [] : [compileRequirement('roles', requirement.roles)],
    permissions:
      requirement.permissions === undefined
        ? []
        : [compileRequirement('permissions', requirement.permissions)],
  };
}

/**
 * The authorization decision of `EzidRolesGuard` as a service, for custom guards, GraphQL resolvers,
 * WebSocket handlers and queue consumers. The guard calls the same code, so both always agree.
 *
 * Rules: only a membership with status exactly `"Verified"` grants anything; a role held in one tenant
 * never counts in another; names are compared exactly (no case folding); `permissions: null` means none;
 * a rule with no names denies.
 *
 * @example
 * ```ts
 * if (!(await this.authorizer.can(user, job.tenantId, { permissions: ['Billing Manage'] }))) return;
 * ```
 */
@Injectable()
export class EzidAuthorizer {
  constructor(private readonly profiles: EzidProfileStore) {}

  /**
   * True when `user` may act in `tenantId` under `requirement` (membership alone when omitted).
   * `tenantId` `undefined` uses the user's only tenant, if the profile lists exactly one.
   * With `profile.source: 'api'` this may call EZiD (cached); an unreachable EZiD rejects with a
   * 503 `EzidHttpException`.
   */
  async can(
    user: EzidUser,
    tenantId: string | undefined,
    requirement?: EzidAuthzRequirement,
  ): Promise<boolean> {
    return (await this.check(user, tenantId, requirement)).allowed;
  }

  /** Like `can()`, with the reason of a denial (`code`, fixed `message`) or the tenant that was granted. */
  async check(
    user: EzidUser,
    tenantId: string | undefined,
    requirement?: EzidAuthzRequirement,
  ): Promise<EzidAuthzDecision> {
    const compiled = compileAuthzRequirement(requirement);
    return this.decideCompiled(user, tenantId, compiled);
  }

  /**
   * The guard's entry point: synchronous when the profile comes from the token, a promise when it
   * comes from the (cached) profile API. `fallback: false` makes an `undefined` tenant a
   * `tenant_required` denial. Internal; prefer `can()` / `check()`.
   */
  decideCompiled(
    user: EzidUser,
    tenantId: string | undefined,
    requirement: CompiledRequirement,
    fallback = true,
  ): EzidAuthzDecision | Promise<EzidAuthzDecision> {
    const tenants = this.profiles.tenantsOf(user);
    if (tenants instanceof Promise)
      return tenants.then((t) => decide(indexTenants(t), tenantId, requirement, fallback));
    return decide(indexTenants(tenants), tenantId, requirement, fallback);
  }
}
