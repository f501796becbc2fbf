import type { EzidEndpointName } from '../client/ezid-endpoints';
import { objectId } from './emulator-jwt';
import {
  EMAIL_RE,
  EmulatorHandler,
  EmulatorRequest,
  EmulatorResponse,
  PHONE_RE,
  bad,
  ok,
  profileLite,
  str,
  safeEqual,
} from './emulator-handlers';
import { StoredRole, StoredTenant, StoredUser, newTenant } from './emulator-store';
import type { EzidEmulator } from './ezid-emulator';

const EMPTY_ID = '000000000000000000000000';
const DOMAIN_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** The `apiKey` check of management endpoints (only when the emulator was started with one). */
function apiKeyRejected(req: EmulatorRequest, emu: EzidEmulator): EmulatorResponse | undefined {
  const key = emu.options.apiKey;
  if (!key) return undefined;
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  if (!m || !safeEqual(m[1], key)) return bad('invalid_api_key', 'Invalid or missing API key', 401);
  return undefined;
}

/** Wraps a handler with the `apiKey` check. */
export function management(handler: EmulatorHandler): EmulatorHandler {
  return (req, emu) => apiKeyRejected(req, emu) ?? handler(req, emu);
}

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;

function userRecord(emu: EzidEmulator, u: StoredUser): Record<string, unknown> {
  const roles = [...new Set(u.memberships.flatMap((m) => m.roleIds))];
  return {
    _id: u.id,
    account_id: emu.store.accountId,
    organization_id: u.memberships[0]?.tenantId ?? EMPTY_ID,
    connection_id: '',
    email: u.email,
    first_name: u.firstName ?? '',
    last_name: u.lastName ?? '',
    groups: u.groups ?? null,
    raw_attributes: u.rawAttributes ?? null,
    roles: roles.length ? roles : null,
    passkey_credential: null,
    phone_id: u.phone ?? '',
    created_at: u.createdAt.toISOString(),
    modified_at: u.modifiedAt.toISOString(),
    email_verified: u.emailVerified,
    is_active: true,
    LastLoginAt: u.lastLoginAt?.toISOString() ?? null,
    tenants: emu.store.tenantsClaim(u),
    identities: null,
  };
}

/** `Organization`; `pluralKey: false` writes `WhiteListDomain` like the add/get samples (§1.1 conflict). */
function organizationJson(t: StoredTenant, pluralKey = true): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    [pluralKey ? 'WhiteListDomains' : 'WhiteListDomain']: t.whiteListDomains,
    allow_profiles_outside_organization: t.allowProfilesOutsideOrganization,
    sso_connection_token: t.ssoConnectionToken,
    domain: '',
    WorkspaceName: '',
    is_active: t.isActive,
    address: t.address ?? '',
    website: t.website ?? '',
    time_zone: t.timeZone ?? '',
    currency: t.currency ?? '',
  };
}

function roleJson(r: StoredRole): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    slug: r.slug,
    description: r.description,
    permission_id: r.permissionIds,
    is_deleted: false,
    is_active: true,
  };
}

function userOf(emu: EzidEmulator, req: EmulatorRequest): StoredUser | undefined {
  return emu.store.users.get(req.params.userId);
}

const userNotFound = (): EmulatorResponse => bad('user_not_found', 'User Profile Not Found', 404);
const orgNotFound = (): EmulatorResponse => bad('organization_not_found', 'Organization Not Found', 404);

/** Checks name/email/phone fields of a user body; returns an error or undefined. */
function invalidUserBody(body: Record<string, unknown>): EmulatorResponse | undefined {
  const email = str(body.email);
  if (!email || !EMAIL_RE.test(email)) return bad('invalid_email', 'Invalid Email Address');
  if (!str(body.first_name)?.trim()) return bad('malformed_request', 'first_name is required');
  if (!str(body.last_name)?.trim()) return bad('malformed_request', 'last_name is required');
  if (body.phone_id !== undefined && body.phone_id !== '') {
    if (typeof body.phone_id !== 'string' || !PHONE_RE.test(body.phone_id))
      return bad('invalid_phone', 'Invalid Phone Number');
  }
  return undefined;
}

function emailTaken(emu: EzidEmulator, email: string, exceptId?: string): boolean {
  const lower = email.toLowerCase();
  return [...emu.store.users.values()].some((u) => u.id !== exceptId && u.email.toLowerCase() === lower);
}

function roleBody(
  emu: EzidEmulator,
  body: Record<string, unknown>,
): { name: string; slug: string; description: string; permissionIds?: string[] } | EmulatorResponse {
  const name = str(body.name)?.trim();
  const slug = str(body.slug)?.trim();
  const description = typeof body.description === 'string' ? body.description : undefined;
  if (!name || !slug || description === undefined)
    return bad('malformed_request', 'name, slug and description are required');
  let permissionIds: string[] | undefined;
  if (body.permission_id !== undefined && body.permission_id !== null) {
    permissionIds = strings(body.permission_id);
    if (!permissionIds) return bad('malformed_request', 'permission_id must be an array of ids');
    if (permissionIds.some((id) => !emu.store.permissions.has(id)))
      return bad('invalid_permission', 'Unknown permission id');
  }
  return { name, slug, description, permissionIds };
}

const isResponse = (v: unknown): v is EmulatorResponse =>
  !!v && typeof v === 'object' && 'status' in v && 'body' in v;

/** The workspace configuration (§1.1 `Config`); `schemaAsString` like the by-domain sample. */
function configJson(emu: EzidEmulator, schemaAsString: boolean): Record<string, unknown> {
  const schema = {
    fontStyle: { font_family: 'Inter' },
    colorConfig: { primary_color: '#5e00cf', text_color: '#000' },
    pageConfig: { page_title: 'EZiD Emulator' },
  };
  return {
    id: emu.store.accountId,
    name: 'ezid-emulator-workspace',
    client_id: emu.clientId,
    branding: {
      branding_schema: schemaAsString ? JSON.stringify(schema) : schema,
      admin_branding_schema: '',
      brand: 'EZiD Emulator',
      signature: 'Team EZiD',
      btn_color: '#5e00cf',
      text_color: '#000',
      background_image: '',
      login_box_color: '',
      background: '#fff',
      brand_logo: '',
      favicon: '',
      font: { url: '', family: 'Inter' },
      lang: 'en',
      white_label: false,
      page_title: '',
      background_style: null,
      input_style: null,
      social_button: null,
      logo_style: null,
      login_box_style: null,
      page_submit_button_style: null,
    },
    connection: [
      {
        provider: 'MagicLink',
        connection_id: objectId(),
        is_sso_connection: false,
        is_oauth_connection: false,
      },
    ],
    default_redirect_url: emu.url,
    auth_config: { webauthn: true, passkey_auth: true, social: null },
    localization: {
      language: 'English',
      iso_code: 'en',
      direction: 'ltr',
      login: { heading: 'Sign in', sub_heading: 'to continue', button: { text: 'Continue' } },
      magic_otp: { title_text: 'Login to' },
    },
  };
}

/** Handlers of users, organizations, roles and permissions (ezid-api.md §2.8-2.10). */
export const MANAGEMENT_HANDLERS: Partial<Record<EzidEndpointName, EmulatorHandler>> = {
  // ---- Users ----
  'users.list': management((req, emu) => {
    const page = Number(req.query.get('page') ?? '1');
    const limit = Number(req.query.get('limit') ?? '100');
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(limit) || limit < 1 || limit > 500) {
      return bad('malformed_request', 'page must be >= 1 and limit 1 to 500');
    }
    const all = [...emu.store.users.values()];
    return ok(all.slice((page - 1) * limit, page * limit).map((u) => userRecord(emu, u)));
  }),
  'users.get': management((req, emu) => {
    const u = userOf(emu, req);
    return u ? ok(userRecord(emu, u)) : userNotFound();
  }),
  'users.getByEmail': management((req, emu) => {
    const email = req.params.email.toLowerCase();
    const u = [...emu.store.users.values()].find((x) => x.email.toLowerCase() === email);
    return u ? ok(profileLite(emu, u)) : userNotFound();
  }),
  'users.create': management((req, emu) => {
    const invalid = invalidUserBody(req.body);
    if (invalid) return invalid;
    const email = str(req.body.email)!;
    if (emailTaken(emu, email)) return bad('user_exists', 'User Profile Exists', 409);
    const now = new Date();
    const user: StoredUser = {
      id: objectId(),
      email,
      firstName: str(req.body.first_name),
      lastName: str(req.body.last_name),
      phone: str(req.body.phone_id),
      connectionType: 'ManualUser',
      memberships: [],
      createdAt: now,
      modifiedAt: now,
      lastLoginAt: null,
      emailVerified: false,
    };
    emu.store.users.set(user.id, user);
    return ok(userRecord(emu, user));
  }),
  'users.update': management((req, emu) => {
    const u = userOf(emu, req);
    if (!u) return userNotFound();
    const invalid = invalidUserBody(req.body);
    if (invalid) return invalid;
    const email = str(req.body.email)!;
    if (emailTaken(emu, email, u.id)) return bad('user_exists', 'User Profile Exists', 409);
    u.email = email;
    u.firstName = str(req.body.first_name);
    u.lastName = str(req.body.last_name);
    if (req.body.phone_id !== undefined) u.phone = str(req.body.phone_id);
    if (req.body.groups !== undefined) u.groups = req.body.groups;
    if (req.body.raw_attributes !== undefined) {
      const raw = req.body.raw_attributes;
      if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw)))
        return bad('malformed_request', 'raw_attributes must be an object');
      u.rawAttributes = (raw ?? undefined) as Record<string, unknown> | undefined;
    }
    u.modifiedAt = new Date();
    return ok(userRecord(emu, u));
  }),
  'users.verify': management((req, emu) => {
    const u = userOf(emu, req);
    if (!u) return userNotFound();
    const v = req.body.verification_status;
    if (v !== 'true' && v !== 'false')
      return bad('malformed_request', 'verification_status must be "true" or "false"');
    u.emailVerified = v === 'true';
    u.modifiedAt = new Date();
    return ok(userRecord(emu, u));
  }),
  'users.delete': management((req, emu) => {
    const u = userOf(emu, req);
    if (!u) return userNotFound();
    emu.store.users.delete(u.id);
    for (const [id, p] of emu.store.passkeys) if (p.userId === u.id) emu.store.passkeys.delete(id);
    emu.store.totp.delete(u.id);
    emu.store.backupCodes.delete(u.id);
    emu.store.loginLogs.delete(u.id);
    return ok({ is_deleted: true });
  }),
  'users.setRoles': management((req, emu) => {
    const u = userOf(emu, req);
    if (!u) return userNotFound();
    const roleIds = strings(req.body.role_id);
    const orgId = str(req.body.organization_id);
    if (!roleIds || !orgId) return bad('malformed_request', 'organization_id and role_id[] are required');
    if (!emu.store.tenants.has(orgId)) return orgNotFound();
    if (roleIds.some((r) => !emu.store.roles.has(r))) return bad('invalid_role', 'Unknown role id');
    const existing = u.memberships.find((m) => m.tenantId === orgId);
    if (existing) existing.roleIds = [...new Set(roleIds)];
    else u.memberships.push({ tenantId: orgId, roleIds: [...new Set(roleIds)], status: 'Verified' });
    u.modifiedAt = new Date();
    return ok(userRecord(emu, u));
  }),
  'users.getOrganizations': management((req, emu) => {
    const u = userOf(emu, req);
    if (!u) return userNotFound();
    return ok({
      id: u.id,
      email_id: u.email,
      organizations: u.memberships.flatMap((m) => {
        const t = emu.store.tenants.get(m.tenantId);
        if (!t) return [];
        return [
          {
            id: t.id,
            Name: t.name,
            WhiteListDomains: t.whiteListDomains.length ? t.whiteListDomains : null,
            AllowProfilesOutsideOrganization: t.allowProfilesOutsideOrganization,
            domain: '',
            WorkspaceName: '',
            roles: m.roleIds.flatMap((rid) => {
              const r = emu.store.roles.get(rid);
              if (!r) return [];
              return [
                {
                  role_id: r.id,
                  role_name: r.name,
                  permissions:
                    r.permissionIds === null
                      ? null
                      : r.permissionIds.map((p) => emu.store.permissions.get(p)?.name ?? p),
                },
              ];
            }),
            is_active: t.isActive,
            // This endpoint says "active" where tokens say "Verified" (§2.9.9 vs §4).
            status: m.status === 'Verified' ? 'active' : m.status,
          },
        ];
      }),
    });
  }),
  'users.getLoginLogs': management((req, emu) => {
    const u = userOf(emu, req);
    if (!u) return userNotFound();
    return ok({
      login_logs: (emu.store.loginLogs.get(u.id) ?? []).map((l) => ({
        IpAddress: l.ipAddress,
        Country: '',
        City: '',
        UserAgent: l.userAgent,
        Name: 'EZiD Emulator',
        Os: '',
        Device: '',
        CreatedAt: l.createdAt.toISOString(),
      })),
    });
  }),

  // ---- Organizations ----
  'organizations.add': management((req, emu) => {
    const name = str(req.body.Name)?.trim();
    if (!name) return bad('malformed_request', 'Name is required');
    const domains = req.body.WhiteListDomains === undefined ? [] : strings(req.body.WhiteListDomains);
    if (!domains || domains.some((d) => !DOMAIN_RE.test(d)))
      return bad('malformed_request', 'WhiteListDomains must be domain names');
    const allow = req.body.AllowProfilesOutsideOrganization ?? false;
    if (typeof allow !== 'boolean')
      return bad('malformed_request', 'AllowProfilesOutsideOrganization must be a boolean');
    if ([...emu.store.tenants.values()].some((t) => t.name.toLowerCase() === name.toLowerCase()))
      return bad('organization_exists', 'Organization Exists', 409);
    const t = newTenant(objectId(), name);
    t.whiteListDomains = domains;
    t.allowProfilesOutsideOrganization = allow;
    emu.store.tenants.set(t.id, t);
    return ok(organizationJson(t, false));
  }),
  'organizations.get': management((req, emu) => {
    const t = emu.store.tenants.get(req.params.organizationId);
    return t ? ok(organizationJson(t, false)) : orgNotFound();
  }),
  'organizations.list': management((_req, emu) =>
    ok([...emu.store.tenants.values()].map((t) => organizationJson(t))),
  ),
  'organizations.update': management((req, emu) => {
    const t = emu.store.tenants.get(req.params.organizationId);
    if (!t) return orgNotFound();
    const name = str(req.body.Name)?.trim();
    if (!name) return bad('malformed_request', 'Name is required');
    if (req.body.WhiteListDomains !== undefined) {
      const domains = strings(req.body.WhiteListDomains);
      if (!domains || domains.some((d) => !DOMAIN_RE.test(d)))
        return bad('malformed_request', 'WhiteListDomains must be domain names');
      t.whiteListDomains = domains;
    }
    t.name = name;
    for (const [wire, key] of [
      ['address', 'address'],
      ['website', 'website'],
      ['time_zone', 'timeZone'],
      ['currency', 'currency'],
    ] as const) {
      if (typeof req.body[wire] === 'string') t[key] = req.body[wire] as string;
    }
    return ok(organizationJson(t));
  }),
  'organizations.delete': management((req, emu) => {
    const t = emu.store.tenants.get(req.params.organizationId);
    if (!t) return orgNotFound();
    emu.store.tenants.delete(t.id);
    for (const u of emu.store.users.values())
      u.memberships = u.memberships.filter((m) => m.tenantId !== t.id);
    return ok({ is_deleted: true });
  }),
  // Not an apiKey call: the hosted login page reads it.
  'organizations.config': (req, emu) => {
    const domain = req.query.get('domain');
    if (domain === null) return ok(configJson(emu, false));
    if (domain.toLowerCase() !== emu.customDomain.toLowerCase())
      return bad('config_not_found', 'No configuration for this domain', 404);
    return ok(configJson(emu, true));
  },

  // ---- Roles ----
  'roles.list': management((_req, emu) => ok([...emu.store.roles.values()].map(roleJson))),
  'roles.create': management((req, emu) => {
    const b = roleBody(emu, req.body);
    if (isResponse(b)) return b;
    if ([...emu.store.roles.values()].some((r) => r.slug === b.slug))
      return bad('role_exists', 'A role with this slug exists', 409);
    const role: StoredRole = {
      id: objectId(),
      name: b.name,
      slug: b.slug,
      description: b.description,
      permissionIds: b.permissionIds ?? null,
    };
    emu.store.roles.set(role.id, role);
    // The documented sample answers the whole role list (§2.8.3).
    return ok([...emu.store.roles.values()].map(roleJson));
  }),
  'roles.update': management((req, emu) => {
    const role = emu.store.roles.get(req.params.roleId);
    if (!role) return bad('role_not_found', 'Role Not Found', 404);
    const b = roleBody(emu, req.body);
    if (isResponse(b)) return b;
    if ([...emu.store.roles.values()].some((r) => r.id !== role.id && r.slug === b.slug))
      return bad('role_exists', 'A role with this slug exists', 409);
    Object.assign(role, { name: b.name, slug: b.slug, description: b.description });
    if (b.permissionIds !== undefined) role.permissionIds = [...new Set(b.permissionIds)];
    return ok([...emu.store.roles.values()].map(roleJson));
  }),
  'roles.remove': management((req, emu) => {
    const role = emu.store.roles.get(req.params.roleId);
    if (!role) return bad('role_not_found', 'Role Not Found', 404);
    emu.store.roles.delete(role.id);
    for (const u of emu.store.users.values())
      for (const m of u.memberships) m.roleIds = m.roleIds.filter((r) => r !== role.id);
    return ok({ is_deleted: true });
  }),

  // ---- Permissions ----
  'permissions.list': management((_req, emu) =>
    ok(
      [...emu.store.permissions.values()].map((p) => ({
        id: p.id,
        name: p.name,
        slug: p.slug,
        description: p.description,
        is_deleted: false,
        is_active: true,
      })),
    ),
  ),
  'permissions.update': management((req, emu) => {
    const p = emu.store.permissions.get(req.params.permissionId);
    if (!p) return bad('permission_not_found', 'Permission Not Found', 404);
    const name = str(req.body.name)?.trim();
    const slug = str(req.body.slug)?.trim();
    if (!name || !slug || typeof req.body.description !== 'string')
      return bad('malformed_request', 'name, slug and description are required');
    if ([...emu.store.permissions.values()].some((x) => x.id !== p.id && x.slug === slug))
      return bad('permission_exists', 'A permission with this slug exists', 409);
    Object.assign(p, { name, slug, description: req.body.description });
    return ok({ id: p.id, name: p.name, slug: p.slug, description: p.description });
  }),
  'permissions.remove': management((req, emu) => {
    const p = emu.store.permissions.get(req.params.permissionId);
    if (!p) return bad('permission_not_found', 'Permission Not Found', 404);
    emu.store.permissions.delete(p.id);
    for (const r of emu.store.roles.values())
      if (r.permissionIds) r.permissionIds = r.permissionIds.filter((x) => x !== p.id);
    return ok({ is_deleted: true });
  }),
};
