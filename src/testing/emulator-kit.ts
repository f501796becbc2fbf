import { createHash } from 'node:crypto';
import type { EzidModuleOptions, EzidTokenOptions } from '../ezid.options';
import type { EmulatorStore, StoredUser } from './emulator-store';

/** Roles and permissions of a user in one tenant, for `EzidEmulator.tokenFor()`. */
export interface EzidTestTenantGrant {
  /** Role names or ids. Seeded roles carry their permissions; other names become roles without permissions. */
  roles?: string[];
  /**
   * More permissions in this tenant. EZiD's token carries permissions only inside roles, so they travel
   * in one more role named `EZID_TEST_PERMISSIONS_ROLE`.
   */
  permissions?: string[];
  /** Membership status. Default `'Verified'` (the only status the guards accept). */
  status?: string;
}

/** Options of `EzidEmulator.tokenFor()`. */
export interface EzidTestTokenOptions {
  /**
   * Memberships by tenant name or id: a list of roles, or `{ roles, permissions, status }`. Each entry
   * replaces the user's seeded membership of that tenant; the other seeded memberships stay unless
   * `replaceTenants` is true. A 24-hex id the emulator does not know is used as is (tenant name `''`).
   */
  tenants?: Record<string, EzidTestTenantGrant | string[]>;
  /** `true`: the token carries only `tenants`, not the user's seeded memberships. Default `false`. */
  replaceTenants?: boolean;
  /** Claims merged over the token's claims (a key set to `undefined` removes that claim). */
  claims?: Record<string, unknown>;
  /**
   * Lifetime in seconds. Default: the emulator's `accessTokenTtlSec`. Zero or negative: a token that
   * expired that many seconds ago (issued a minute before); the module allows 30 s of clock skew by
   * default, so use `-60` or less to see 401 `token_expired`.
   */
  expiresInSec?: number;
}

/** Name of the role that carries `EzidTestTenantGrant.permissions` in a token. */
export const EZID_TEST_PERMISSIONS_ROLE = 'ezid-test-permissions';

const OBJECT_ID = /^[0-9a-f]{24}$/;

/** A stable 24-hex id for a name that is not seeded (so the same name gives the same id in every token). */
function syntheticId(kind: string, name: string): string {
  return createHash('sha256').update(`${kind}:${name}`).digest('hex').slice(0, 24);
}

type TenantEntry = Record<string, unknown>;

/** The `tenants` claim of `tokenFor()`, in EZiD's shape (`tenant_id, tenant_name, roles[], status`). */
export function buildTenantsClaim(
  store: EmulatorStore,
  user: StoredUser,
  options: EzidTestTokenOptions,
  tenantId: (ref: string) => string,
): TenantEntry[] {
  const claim = options.replaceTenants ? [] : store.tenantsClaim(user);
  for (const [ref, grant] of Object.entries(options.tenants ?? {})) {
    const id = store.tenants.has(ref) || !OBJECT_ID.test(ref) ? tenantId(ref) : ref;
    const g: EzidTestTenantGrant = Array.isArray(grant) ? { roles: grant } : (grant ?? {});
    const roles: TenantEntry[] = (g.roles ?? []).map((r) => {
      const seeded = store.roles.get(r) ?? [...store.roles.values()].find((x) => x.name === r);
      if (!seeded) return { role_id: syntheticId('role', r), role_name: r, permissions: null };
      return {
        role_id: seeded.id,
        role_name: seeded.name,
        permissions:
          seeded.permissionIds === null
            ? null
            : seeded.permissionIds.map((pid) => store.permissions.get(pid)?.name ?? pid),
      };
    });
    if (g.permissions?.length) {
      roles.push({
        role_id: syntheticId('role', EZID_TEST_PERMISSIONS_ROLE),
        role_name: EZID_TEST_PERMISSIONS_ROLE,
        permissions: [...g.permissions],
      });
    }
    const entry: TenantEntry = {
      tenant_id: id,
      tenant_name: store.tenants.get(id)?.name ?? '',
      roles,
      status: g.status ?? 'Verified',
    };
    const at = claim.findIndex((t) => t.tenant_id === id);
    if (at >= 0) claim[at] = entry;
    else claim.push(entry);
  }
  return claim;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function withoutUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Overrides of `EzidEmulator.moduleOptions()`: any module option; `token` and `callback` are merged key
 * by key over the emulator's (so `token` may name only the keys it changes).
 */
export type EzidEmulatorModuleOverrides = Omit<Partial<EzidModuleOptions>, 'token'> & {
  token?: Partial<EzidTokenOptions>;
};

/** `base` with `overrides` over it; `token` and `callback` merged key by key; `undefined` removes a key. */
export function mergeModuleOptions(
  base: EzidModuleOptions,
  overrides: EzidEmulatorModuleOverrides,
): EzidModuleOptions {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    if ((key === 'token' || key === 'callback') && isPlainObject(value)) {
      merged[key] = withoutUndefined({ ...(isPlainObject(current) ? current : {}), ...value });
    } else {
      merged[key] = value;
    }
  }
  const out = withoutUndefined(merged) as unknown as EzidModuleOptions;
  if (isPlainObject(out.token)) out.token = withoutUndefined(out.token);
  return out;
}
