import { randomBytes, randomUUID } from 'node:crypto';
import { objectId } from './emulator-jwt';
import type { EmulatorSeed } from './emulator.types';

/** A user as the emulator stores it. */
export interface StoredUser {
  id: string;
  email: string;
  firstName?: string;
  lastName?: string;
  phone?: string;
  connectionType: string;
  memberships: { tenantId: string; roleIds: string[]; status: string }[];
  createdAt: Date;
  modifiedAt: Date;
  lastLoginAt: Date | null;
  emailVerified: boolean;
  groups?: unknown;
  rawAttributes?: Record<string, unknown>;
}

/** An organization (tenant) as the emulator stores it. */
export interface StoredTenant {
  id: string;
  name: string;
  whiteListDomains: string[];
  allowProfilesOutsideOrganization: boolean;
  ssoConnectionToken: string;
  isActive: boolean;
  address?: string;
  website?: string;
  timeZone?: string;
  currency?: string;
}

/** A role as the emulator stores it (`permissionIds: null` like EZiD's role without permissions). */
export interface StoredRole {
  id: string;
  name: string;
  slug: string;
  description: string;
  permissionIds: string[] | null;
}

/** A permission as the emulator stores it. */
export interface StoredPermission {
  id: string;
  name: string;
  slug: string;
  description: string;
}

/** One login of a user (`users.getLoginLogs`). */
export interface StoredLoginLog {
  ipAddress: string;
  userAgent: string;
  createdAt: Date;
}

/** A user's TOTP authenticator: pending until a first code validates. */
export interface StoredTotp {
  authenticatorId: string;
  secret: string;
  active: boolean;
  createdAt: Date;
  /** Last accepted RFC 6238 time step: a code is accepted once. */
  lastTimeStep?: number;
}

/** A passwordless flow (magic link, email code, SMS code) keyed by its `state`. */
export interface StoredFlow {
  kind: 'magic-link' | 'email-code' | 'sms-code';
  userId: string;
  to: string;
  /** Magic links: the secret `magictext`; codes: the code. */
  secret: string;
  expiresAt: number;
  verified: boolean;
  /** Tokens were handed out (status/verify); the state cannot be used again. */
  consumed: boolean;
  attempts: number;
}

/** A pending passkey ceremony keyed by `auth_code`. */
export interface StoredCeremony {
  kind: 'login' | 'register';
  userId: string;
  challenge: string;
  expiresAt: number;
}

/** A registered passkey. */
export interface StoredPasskey {
  id: string;
  userId: string;
  name: string | null;
  publicKey?: string;
  signCount: number;
  createdAt: Date;
  updatedAt: Date | null;
  lastUsedAt: Date | null;
  transports: string[];
}

/** `'Team View'` -> `'team_view'`. */
export function slugOf(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** A new organization with EZiD's defaults. */
export function newTenant(id: string, name: string): StoredTenant {
  return {
    id,
    name,
    whiteListDomains: [],
    allowProfilesOutsideOrganization: false,
    ssoConnectionToken: `org_token_${objectId()}.${randomBytes(16).toString('hex')}`,
    isActive: true,
  };
}

/** Mutable in-memory state of one emulator. */
export class EmulatorStore {
  users = new Map<string, StoredUser>();
  tenants = new Map<string, StoredTenant>();
  roles = new Map<string, StoredRole>();
  permissions = new Map<string, StoredPermission>();
  /** User id -> logins, newest last. */
  loginLogs = new Map<string, StoredLoginLog[]>();
  /** MFA token -> user. */
  mfaTokens = new Map<string, { userId: string; expiresAt: number }>();
  /** User id -> TOTP authenticator. */
  totp = new Map<string, StoredTotp>();
  /** User id -> SHA-256 of each unused backup code. */
  backupCodes = new Map<string, Set<string>>();
  /** MFA `oob_code` -> pending challenge. */
  mfaChallenges = new Map<string, { userId: string; expiresAt: number; attempts: number }>();
  flows = new Map<string, StoredFlow>();
  ceremonies = new Map<string, StoredCeremony>();
  passkeys = new Map<string, StoredPasskey>();
  /** Refresh token -> user (single use: deleted when used). */
  refreshTokens = new Map<string, { userId: string; expiresAt: number; family: 'api' | 'legacy' }>();
  /** SSO/OAuth code -> user and state (single use). */
  authCodes = new Map<string, { userId: string; state: string; expiresAt: number }>();
  /** Legacy email-link uuid -> pending login (single use). */
  legacyLinks = new Map<string, { email: string; claims: Record<string, unknown>; used: boolean }>();
  /** Legacy OTP login_id -> pending login (single use). */
  legacyOtps = new Map<
    string,
    { otp: string; target: string; claims: Record<string, unknown>; expiresAt: number; used: boolean }
  >();
  /** Key of the legacy HS256 `auth_code`. */
  readonly linkSecret = randomBytes(32);
  readonly accountId = objectId();

  load(seed: EmulatorSeed): void {
    this.users.clear();
    this.tenants.clear();
    this.roles.clear();
    this.permissions.clear();
    for (const p of seed.permissions) {
      const id = p.id ?? objectId();
      this.permissions.set(id, { id, name: p.name, slug: slugOf(p.name), description: p.name });
    }
    for (const r of seed.roles) {
      const id = r.id ?? objectId();
      const permissionIds =
        r.permissions === null ? null : r.permissions.map((p) => this.permissionByRef(p).id);
      this.roles.set(id, {
        id,
        name: r.name,
        slug: slugOf(r.name),
        description: `${r.name} Role`,
        permissionIds,
      });
    }
    for (const t of seed.tenants) {
      const id = t.id ?? objectId();
      this.tenants.set(id, newTenant(id, t.name));
    }
    const now = new Date();
    for (const u of seed.users) {
      const id = u.id ?? objectId();
      this.users.set(id, {
        id,
        email: u.email,
        firstName: u.firstName,
        lastName: u.lastName,
        phone: u.phone,
        connectionType: 'ManualUser',
        memberships: (u.memberships ?? []).map((m) => ({
          tenantId: this.tenantByRef(m.tenant).id,
          roleIds: m.roles.map((r) => this.roleByRef(r).id),
          status: m.status ?? 'Verified',
        })),
        createdAt: now,
        modifiedAt: now,
        lastLoginAt: null,
        emailVerified: true,
      });
    }
  }

  permissionByRef(ref: string): StoredPermission {
    const p = this.permissions.get(ref) ?? [...this.permissions.values()].find((x) => x.name === ref);
    if (!p) throw new Error(`EzidEmulator: unknown permission "${ref}"`);
    return p;
  }

  roleByRef(ref: string): StoredRole {
    const r = this.roles.get(ref) ?? [...this.roles.values()].find((x) => x.name === ref);
    if (!r) throw new Error(`EzidEmulator: unknown role "${ref}"`);
    return r;
  }

  tenantByRef(ref: string): StoredTenant {
    const t = this.tenants.get(ref) ?? [...this.tenants.values()].find((x) => x.name === ref);
    if (!t) throw new Error(`EzidEmulator: unknown tenant "${ref}"`);
    return t;
  }

  /** A user by id, email (case-insensitive) or phone. */
  findUser(ref: string): StoredUser | undefined {
    const byId = this.users.get(ref);
    if (byId) return byId;
    const lower = ref.toLowerCase();
    return [...this.users.values()].find((u) => u.email.toLowerCase() === lower || u.phone === ref);
  }

  /** Finds a user by email or phone, or creates one (passwordless sign-up). */
  findOrCreateUser(ref: { email?: string; phone?: string }, connectionType: string): StoredUser {
    const existing = this.findUser((ref.email ?? ref.phone)!);
    if (existing) return existing;
    const now = new Date();
    const user: StoredUser = {
      id: objectId(),
      email: ref.email ?? '',
      phone: ref.phone,
      connectionType,
      memberships: [],
      createdAt: now,
      modifiedAt: now,
      lastLoginAt: null,
      emailVerified: false,
    };
    this.users.set(user.id, user);
    return user;
  }

  /** The user's tenants in EZiD's profile shape. */
  tenantsClaim(user: StoredUser): Record<string, unknown>[] {
    return user.memberships.map((m) => ({
      tenant_id: m.tenantId,
      tenant_name: this.tenants.get(m.tenantId)?.name ?? '',
      roles: m.roleIds.map((rid) => {
        const role = this.roles.get(rid);
        return {
          role_id: rid,
          role_name: role?.name ?? '',
          permissions:
            role?.permissionIds == null
              ? null
              : role.permissionIds.map((pid) => this.permissions.get(pid)?.name ?? pid),
        };
      }),
      status: m.status,
    }));
  }

  /** `StatusProfile` (ezid-api.md §4). */
  statusProfile(user: StoredUser): Record<string, unknown> {
    return {
      id: user.id,
      idp_id: user.id,
      account_id: this.accountId,
      connection_type: user.connectionType,
      email: user.email,
      first_name: user.firstName ?? '',
      last_name: user.lastName ?? '',
      raw_attributes: {},
      tenants: this.tenantsClaim(user),
      created_at: user.createdAt.toISOString(),
      modified_at: user.modifiedAt.toISOString(),
      is_active: true,
      LastLoginAt: user.lastLoginAt?.toISOString() ?? null,
    };
  }

  /** `LegacyUser` (the `user{}` of the `oauth{}` shape, ezid-api.md §1.1). */
  legacyUser(user: StoredUser, issuer: string): Record<string, unknown> {
    return {
      created_at: user.createdAt.toISOString(),
      updated_at: user.modifiedAt.toISOString(),
      issuer,
      user_id: user.id,
      identifier: user.email || user.phone,
      email: user.email,
      last_login_at: user.lastLoginAt?.toISOString() ?? null,
    };
  }

  newRefreshToken(userId: string, family: 'api' | 'legacy', ttlSec: number): string {
    const token = family === 'legacy' ? randomUUID() : `rt_${randomBytes(32).toString('base64url')}`;
    this.refreshTokens.set(token, { userId, family, expiresAt: Date.now() + ttlSec * 1000 });
    return token;
  }
}
