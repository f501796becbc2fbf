import type { EzidRole, EzidTenant, EzidUser } from '../interfaces/ezid-user.interface';

type Claims = Readonly<Record<string, unknown>>;

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function str(o: Record<string, unknown>, k: string): string | undefined {
  if (!own(o, k)) return undefined;
  const v = o[k];
  return typeof v === 'string' ? v : undefined;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const k of Object.getOwnPropertyNames(value)) deepFreeze((value as Record<string, unknown>)[k]);
  }
  return value;
}

function toRole(raw: unknown): EzidRole | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const id = str(r, 'role_id');
  const name = str(r, 'role_name');
  if (!id || name === undefined) return undefined;
  return Object.freeze({
    id,
    name,
    permissions: permissionList(own(r, 'permissions') ? r.permissions : null),
  });
}

const NO_PERMISSIONS: readonly string[] = Object.freeze([]);

/**
 * EZiD sends `null` for "no permissions"; anything that is not a list grants nothing, and non-strings
 * in a list are dropped. A frozen list of strings (the verifier freezes the claims first) is used as is.
 */
function permissionList(p: unknown): readonly string[] {
  if (!Array.isArray(p)) return NO_PERMISSIONS;
  let strings = Object.isFrozen(p);
  for (let i = 0; strings && i < p.length; i++) strings = typeof p[i] === 'string';
  if (strings) return p as readonly string[];
  const permissions: string[] = [];
  for (const x of p as unknown[]) if (typeof x === 'string') permissions.push(x);
  return Object.freeze(permissions);
}

function toTenant(raw: unknown): EzidTenant | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const t = raw as Record<string, unknown>;
  const id = str(t, 'tenant_id');
  if (!id) return undefined;
  const roles: EzidRole[] = [];
  if (own(t, 'roles') && Array.isArray(t.roles)) {
    for (const raw of t.roles as unknown[]) {
      const role = toRole(raw);
      if (role !== undefined) roles.push(role);
    }
  }
  return Object.freeze({
    id,
    name: str(t, 'tenant_name') ?? '',
    status: str(t, 'status') ?? '',
    roles: Object.freeze(roles),
  });
}

/**
 * Maps EZiD's `tenants` claim (`[{ tenant_id, tenant_name, roles: [{ role_id, role_name,
 * permissions }], status }]`) to `EzidTenant[]`. Entries without a string id are dropped,
 * `permissions: null` (or any non-list) becomes `[]`, non-string permissions are dropped.
 */
export function tenantsFromClaim(value: unknown): readonly EzidTenant[] {
  if (!Array.isArray(value)) return Object.freeze([]);
  // One pass, no intermediate arrays (this runs for every newly verified token).
  const tenants: EzidTenant[] = [];
  for (const raw of value as unknown[]) {
    const tenant = toTenant(raw);
    if (tenant !== undefined) tenants.push(tenant);
  }
  return Object.freeze(tenants);
}

/**
 * Builds an `EzidUser` from verified claims, reading an explicit allow-list of claims
 * (`sub`, `email`, `first_name`/`given_name`, `last_name`/`family_name`, `tenants`). Raw claims are
 * never spread or merged into the user; they are kept, deep-frozen, under `claims` only.
 * A `__proto__` member in the payload is an ordinary own property of `claims` and grants nothing.
 */
export function createEzidUser(claims: Claims): EzidUser {
  const c = deepFreeze(claims) as Record<string, unknown>;
  const sub = str(c, 'sub');
  if (!sub) throw new TypeError('createEzidUser: the claims have no string "sub"');
  const user: EzidUser = {
    id: sub,
    email: str(c, 'email'),
    firstName: str(c, 'first_name') ?? str(c, 'given_name'),
    lastName: str(c, 'last_name') ?? str(c, 'family_name'),
    tenants: tenantsFromClaim(own(c, 'tenants') ? c.tenants : undefined),
    claims,
  };
  return Object.freeze(user);
}
