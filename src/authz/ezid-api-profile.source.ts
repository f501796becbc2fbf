import { Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { EzidService } from '../client/ezid.service';
import { InjectEzidOptions } from '../ezid.module-definition';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import type { EzidRole, EzidTenant } from '../interfaces/ezid-user.interface';
import { VERIFIED_STATUS } from './tenant-index';
import type { EzidProfileSource } from './ezid-profile.source';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function mapRole(raw: unknown): EzidRole | undefined {
  if (!isObject(raw)) return undefined;
  const name = str(raw.name) ?? str(raw.role_name);
  if (!name) return undefined;
  const permissions = Array.isArray(raw.permissions)
    ? (raw.permissions as unknown[]).filter((p): p is string => typeof p === 'string' && p.length > 0)
    : [];
  return Object.freeze({
    id: str(raw.id) ?? str(raw.role_id) ?? '',
    name,
    permissions: Object.freeze(permissions),
  });
}

/**
 * Membership status of one organization of the user-organizations endpoint (ezid-api.md §2.9.9).
 * That endpoint reports `status: "active"` and `is_active: true` where the token's `tenants` claim
 * reports `status: "Verified"`; both mean a verified membership. The rule, exactly (booleans are
 * parsed strictly: only JSON `true` is true, so `"false"`, `"true"`, `0`, `1` and `null` are not):
 * `"active"` (exact, lower case) with `is_active`/`isActive` exactly `true` becomes `"Verified"`;
 * `"Verified"` stays `"Verified"` unless `is_active`/`isActive` is present and not `true`, then it is
 * `"inactive"`; anything else is kept as is and grants nothing.
 */
export function organizationStatus(raw: Record<string, unknown>): string {
  const status = str(raw.status) ?? '';
  const hasFlag = Object.hasOwn(raw, 'is_active') || Object.hasOwn(raw, 'isActive');
  const active = Object.hasOwn(raw, 'is_active') ? raw.is_active : raw.isActive;
  if (status === VERIFIED_STATUS) return hasFlag && active !== true ? 'inactive' : VERIFIED_STATUS;
  if (status === 'active' && active === true) return VERIFIED_STATUS;
  return status;
}

/**
 * Maps the user-organizations response (`{ organizations: [...] }`, or the array itself; wire or
 * camel-cased fields) to `EzidTenant[]`. Entries without an id are dropped; malformed roles and
 * permissions become none. Throws a `TypeError` when the body has no organizations array.
 */
export function tenantsFromOrganizations(body: unknown): EzidTenant[] {
  const list = Array.isArray(body) ? body : isObject(body) ? body.organizations : undefined;
  if (!Array.isArray(list)) throw new TypeError('user organizations: expected an organizations array');
  const out: EzidTenant[] = [];
  for (const raw of list as unknown[]) {
    if (!isObject(raw)) continue;
    const id = str(raw.id) ?? str(raw.tenant_id);
    if (!id) continue;
    const roles = Array.isArray(raw.roles)
      ? (raw.roles as unknown[]).map(mapRole).filter((r): r is EzidRole => r !== undefined)
      : [];
    out.push(
      Object.freeze({
        id,
        name: str(raw.name) ?? str(raw.Name) ?? str(raw.tenant_name) ?? '',
        status: organizationStatus(raw),
        roles: Object.freeze(roles),
      }),
    );
  }
  return out;
}

type OrganizationsCall = (userId: string) => Promise<unknown>;

/** The user-organizations call of `EzidService`, under the names issue 5 may give it. */
function findOrganizationsCall(service: EzidService | undefined): OrganizationsCall | undefined {
  const users = (service as unknown as Record<string, unknown> | undefined)?.users;
  if (!isObject(users)) return undefined;
  for (const name of ['organizations', 'getOrganizations', 'listOrganizations']) {
    const fn = users[name];
    if (typeof fn === 'function') return (userId) => (fn as OrganizationsCall).call(users, userId);
  }
  return undefined;
}

/**
 * The default `EzidProfileSource` of `profile.source: 'api'`: the EZiD user-organizations endpoint
 * (`GET /api/account/identity/users/{userid}/organizations`) through `EzidService`, mapped with
 * `tenantsFromOrganizations()`. Any failure rejects; `EzidRolesGuard` answers 503 `idp_unavailable`.
 */
@Injectable()
export class EzidApiProfileSource implements EzidProfileSource, OnModuleInit {
  private readonly logger = new Logger('EzidRolesGuard');
  private readonly call?: OrganizationsCall;

  constructor(
    @InjectEzidOptions() private readonly options: ResolvedEzidOptions,
    @Optional() service?: EzidService,
  ) {
    this.call = findOrganizationsCall(service);
  }

  onModuleInit(): void {
    if (this.options.profile.source === 'api' && !this.call) {
      this.logger.warn(
        "profile.source is 'api' but EzidService has no user-organizations call: every tenant check will " +
          'answer 503. Provide your own EzidProfileSource under EZID_PROFILE_SOURCE.',
      );
    }
  }

  async getUserTenants(userId: string): Promise<readonly EzidTenant[]> {
    if (!this.call) throw new Error('user organizations call unavailable');
    return tenantsFromOrganizations(await this.call(userId));
  }
}
