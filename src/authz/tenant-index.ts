import type { EzidTenant } from '../interfaces/ezid-user.interface';
import { prohibitedKeys } from './authz-rule';

/** The only membership status that grants anything. Compared exactly (case-sensitive). */
export const VERIFIED_STATUS = 'Verified';

/** One tenant of a user's profile, prepared for constant-time checks. Internal. */
export interface TenantEntry {
  readonly tenant: EzidTenant;
  /** Verified membership, listed once. Anything else grants nothing. */
  readonly usable: boolean;
  readonly roles: ReadonlySet<string>;
  readonly permissions: ReadonlySet<string>;
  /** `prohibitedKey` of every role name held (compared with `prohibited` lists only). */
  readonly roleKeys: ReadonlySet<string>;
  /** `prohibitedKey` of every permission held (compared with `prohibited` lists only). */
  readonly permissionKeys: ReadonlySet<string>;
}

/** A user's tenants by id (a `Map`: `__proto__` and `constructor` are ordinary unknown keys). Internal. */
export interface TenantIndex {
  readonly byId: ReadonlyMap<string, TenantEntry>;
  /** The tenant used when the request names none: set only when the profile lists exactly one tenant. */
  readonly only?: TenantEntry;
}

const EMPTY_INDEX: TenantIndex = Object.freeze({ byId: new Map<string, TenantEntry>() });

/** Built once per tenants array (the token's, or the cached API result), then reused for every request. */
const indexes = new WeakMap<object, TenantIndex>();

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

function buildEntry(raw: Record<string, unknown>): TenantEntry {
  const roles = new Set<string>();
  const permissions = new Set<string>();
  const rawRoles = raw.roles;
  if (Array.isArray(rawRoles)) {
    for (const role of rawRoles as unknown[]) {
      if (typeof role !== 'object' || role === null) continue;
      const r = role as Record<string, unknown>;
      if (isString(r.name) && r.name.length > 0) roles.add(r.name);
      // null, a string, an object, [null], [1]: no permissions, never a TypeError.
      if (Array.isArray(r.permissions)) {
        for (const p of r.permissions as unknown[]) if (isString(p) && p.length > 0) permissions.add(p);
      }
    }
  }
  return {
    tenant: raw as unknown as EzidTenant,
    usable: raw.status === VERIFIED_STATUS,
    roles,
    permissions,
    roleKeys: prohibitedKeys(roles),
    permissionKeys: prohibitedKeys(permissions),
  };
}

function build(tenants: readonly unknown[]): TenantIndex {
  const byId = new Map<string, TenantEntry>();
  const duplicated = new Set<string>();
  for (const t of tenants) {
    if (typeof t !== 'object' || t === null) continue;
    const raw = t as Record<string, unknown>;
    if (!isString(raw.id) || raw.id.length === 0) continue;
    if (byId.has(raw.id)) duplicated.add(raw.id);
    else byId.set(raw.id, buildEntry(raw));
  }
  // A tenant listed twice is ambiguous (which status, which roles?): it grants nothing.
  for (const id of duplicated) {
    const e = byId.get(id)!;
    byId.set(id, {
      ...e,
      usable: false,
      roles: new Set(),
      permissions: new Set(),
      roleKeys: new Set(),
      permissionKeys: new Set(),
    });
  }
  const only = byId.size === 1 ? byId.values().next().value : undefined;
  return only ? { byId, only } : { byId };
}

/**
 * The index of a tenants array, built on first use and cached by the array's identity
 * (so a user object's tenants are indexed once, however many requests it serves).
 * Anything that is not an array gives an empty index.
 */
export function indexTenants(tenants: unknown): TenantIndex {
  if (!Array.isArray(tenants)) return EMPTY_INDEX;
  let index = indexes.get(tenants);
  if (!index) {
    index = build(tenants);
    indexes.set(tenants, index);
  }
  return index;
}
