import type { EzidRole, EzidTenant } from '../interfaces/ezid-user.interface';
import { EzidApiError } from './ezid-api.error';
import type {
  EzidAuthResult,
  EzidAuthStatus,
  EzidConfig,
  EzidCreateOrganizationInput,
  EzidCreateUserInput,
  EzidLegacyTokens,
  EzidLoginLog,
  EzidMfaAuthenticator,
  EzidMfaChallenge,
  EzidMfaToken,
  EzidMfaTotpEnrollment,
  EzidOrganization,
  EzidPermissionDefinition,
  EzidRoleDefinition,
  EzidCreateRoleInput,
  EzidUpdateOrganizationInput,
  EzidUpdatePermissionInput,
  EzidUpdateRoleInput,
  EzidUpdateUserInput,
  EzidUserOrganizations,
  EzidUserRecord,
  EzidPasskeyChallenge,
  EzidPasskeyCredential,
  EzidProfile,
  EzidTokenSet,
} from './ezid.types';

// Internal wire shapes (snake_case, as EZiD sends them). Every field is optional: bodies are untrusted.
type Wire = Record<string, unknown>;

const obj = (v: unknown): Wire | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Wire) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

/**
 * A documented JSON boolean: `undefined` when absent; anything else that is not `true`/`false`
 * (`"false"`, `0`, `null`) is an `invalid_response`, never read as "unknown" or guessed.
 */
function strictBool(v: unknown, endpoint: string, field: string): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  throw invalid(endpoint, 200, `${field} is not a boolean`);
}

/** RFC3339 -> Date; EZiD's unset `0001-01-01T00:00:00Z`, null and garbage -> undefined. */
export function date(v: unknown): Date | undefined {
  if (typeof v !== 'string' || v.startsWith('0001-01-01')) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** @internal Thrown when a 2xx body does not have the documented shape. */
export function invalid(endpoint: string, status: number, what: string): EzidApiError {
  return new EzidApiError({ status, code: 'invalid_response', reason: what, endpoint });
}

/** EZiD's `tenants[]` (profile shape) -> `EzidTenant[]`; malformed entries are dropped. */
export function mapTenants(v: unknown): EzidTenant[] {
  if (!Array.isArray(v)) return [];
  const tenants: EzidTenant[] = [];
  for (const t of v) {
    const w = obj(t);
    const id = str(w?.tenant_id) ?? str(w?.id);
    if (!w || !id) continue;
    const roles: EzidRole[] = [];
    for (const r of Array.isArray(w.roles) ? w.roles : []) {
      const rw = obj(r);
      const rid = str(rw?.role_id) ?? str(rw?.id);
      if (!rw || !rid) continue;
      roles.push({
        id: rid,
        name: str(rw.role_name) ?? str(rw.name) ?? '',
        permissions: Array.isArray(rw.permissions)
          ? rw.permissions.filter((p): p is string => typeof p === 'string')
          : [],
      });
    }
    tenants.push({
      id,
      name: str(w.tenant_name) ?? str(w.name) ?? str(w.Name) ?? '',
      status: str(w.status) ?? '',
      roles,
    });
  }
  return tenants;
}

/** `profile{}` (StatusProfile / UserProfileLite) or `user{}` (LegacyUser) -> `EzidProfile`. */
export function mapProfile(v: unknown): EzidProfile | undefined {
  const w = obj(v);
  const id = str(w?.id) ?? str(w?.user_id) ?? str(w?._id);
  if (!w || !id) return undefined;
  return {
    id,
    email: str(w.email) ?? str(w.identifier),
    firstName: str(w.first_name),
    lastName: str(w.last_name),
    accountId: str(w.account_id),
    connectionType: str(w.connection_type),
    idpId: str(w.idp_id),
    isActive: bool(w.is_active),
    createdAt: date(w.created_at),
    modifiedAt: date(w.modified_at) ?? date(w.updated_at),
    lastLoginAt: date(w.LastLoginAt) ?? date(w.last_login_at),
    rawAttributes: obj(w.raw_attributes),
    tenants: mapTenants(w.tenants),
  };
}

/** Token fields in either casing, flat or nested under `oauth{}`. */
export function mapTokens(v: unknown): EzidTokenSet | undefined {
  const w = obj(v);
  if (!w) return undefined;
  const accessToken = str(w.access_token) ?? str(w.accessToken);
  if (!accessToken) return undefined;
  const expiresIn = num(w.expires_in) ?? num(w.expiresIn);
  return {
    accessToken,
    tokenType: str(w.token_type) ?? str(w.tokenType) ?? 'Bearer',
    refreshToken: str(w.refresh_token) ?? str(w.refreshToken),
    idToken: str(w.id_token) ?? str(w.idToken),
    expiresAt:
      date(w.expires_at) ??
      date(w.expiresAt) ??
      (expiresIn !== undefined ? new Date(Date.now() + expiresIn * 1000) : undefined),
    expiresIn,
    scope: str(w.scope),
  };
}

/** Any login body: flat `{authenticated, access_token, profile}` or `{authenticated, oauth{}, user{}}`. */
export function mapAuthResult(body: unknown, endpoint: string, status = 200): EzidAuthResult {
  const w = obj(body);
  if (!w) throw invalid(endpoint, status, 'expected a JSON object');
  const tokens = mapTokens(obj(w.oauth) ?? w);
  const profile = mapProfile(w.profile) ?? mapProfile(w.user);
  const authenticated = w.authenticated === undefined ? tokens !== undefined : w.authenticated === true;
  if (authenticated && !tokens) throw invalid(endpoint, status, 'authenticated without an access token');
  return authenticated ? { authenticated, tokens, profile } : { authenticated: false, profile };
}

/** Required token set (code exchange). */
export function mapRequiredTokens(body: unknown, endpoint: string): EzidTokenSet {
  const tokens = mapTokens(obj(body)?.oauth ?? body);
  if (!tokens) throw invalid(endpoint, 200, 'no access token in the response');
  return tokens;
}

/** `{ state }` or `{ state_id }`. */
export function mapState(body: unknown, endpoint: string): { state: string } {
  const w = obj(body);
  const state = str(w?.state) ?? str(w?.state_id) ?? str(w?.stateId);
  if (!state) throw invalid(endpoint, 200, 'no state in the response');
  return { state };
}

/** Legacy tokens in either casing (`/verify/otp` casing conflict, ezid-api.md §3.5). */
export function mapLegacyTokens(body: unknown, endpoint: string): EzidLegacyTokens {
  const t = mapTokens(body);
  if (!t) throw invalid(endpoint, 200, 'no access token in the response');
  return { accessToken: t.accessToken, idToken: t.idToken, refreshToken: t.refreshToken };
}

/** `{ auth_code, publicKey }`. */
export function mapPasskeyChallenge(body: unknown, endpoint: string): EzidPasskeyChallenge {
  const w = obj(body);
  const authCode = str(w?.auth_code) ?? str(w?.authCode);
  const publicKey = obj(w?.publicKey) ?? obj(w?.public_key);
  if (!authCode || !publicKey) throw invalid(endpoint, 200, 'expected auth_code and publicKey');
  return { authCode, publicKey };
}

/** One element of the passkey credentials list. */
export function mapPasskeyCredential(v: unknown, endpoint: string): EzidPasskeyCredential {
  const w = obj(v);
  const id = str(w?.id) ?? str(w?.ID);
  if (!w || !id) throw invalid(endpoint, 200, 'passkey credential without id');
  return {
    id,
    name: str(w.Name) ?? str(w.name) ?? null,
    signCount: num(w.SignCount) ?? num(w.sign_count) ?? 0,
    createdAt: date(w.CreatedAt) ?? date(w.created_at),
    updatedAt: date(w.UpdatedAt) ?? date(w.updated_at),
    lastUsedAt: date(w.LastUsedAt) ?? date(w.last_used_at),
    publicKey: str(w.public_key),
    attestationType: str(w.attestation_type),
    aaguid: str(w.aaguid),
    transports: Array.isArray(w.transports)
      ? w.transports.filter((t): t is string => typeof t === 'string')
      : [],
    backupEligible: bool(w.backup_eligible),
    backupState: bool(w.backup_state),
  };
}

/** The (undocumented) auth status body. */
export function mapAuthStatus(body: unknown): EzidAuthStatus {
  const w = obj(body) ?? {};
  return {
    identifier: str(w.identifier),
    exists: bool(w.exists),
    userId: str(w.user_id),
    lastLoginAt: date(w.last_login_at),
    raw: w,
  };
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length > 0) : [];

/** EZiD's "no organization" id. */
const EMPTY_OBJECT_ID = '000000000000000000000000';

/** snake_case / PascalCase key -> camelCase (`iso_code` -> `isoCode`, `LastLoginAt` -> `lastLoginAt`). */
export function camelKey(key: string): string {
  // The run is consumed whole and the letter is optional, so a failed match never rescans it (linear).
  const c = key.replace(/[_-]+([A-Za-z0-9]?)/g, (m, ch: string) => (ch ? ch.toUpperCase() : m));
  return c.charAt(0).toLowerCase() + c.slice(1);
}

/** Deep copy with camelCased keys, for free-form nested objects (localization, branding styles). */
export function camelKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelKeys);
  const w = obj(v);
  if (!w) return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(w)) out[camelKey(k)] = camelKeys(val);
  return out;
}

/** A JSON array body, or the array under one of `keys` of an object body. */
export function listOf(body: unknown, endpoint: string, ...keys: string[]): unknown[] {
  if (Array.isArray(body)) return body;
  const w = obj(body);
  for (const k of keys) if (Array.isArray(w?.[k])) return w[k] as unknown[];
  throw invalid(endpoint, 200, `expected an array${keys.length ? ` (or ${keys.join('/')}[])` : ''}`);
}

// ---- Users (§2.9) ----

/** `UserRecord` or `UserProfileLite` -> `EzidUserRecord`. */
export function mapUserRecord(v: unknown, endpoint: string): EzidUserRecord {
  const w = obj(v);
  const id = str(w?._id) ?? str(w?.id) ?? str(w?.user_id);
  if (!w || !id) throw invalid(endpoint, 200, 'user without an id');
  const roleIds = Array.isArray(w.roles)
    ? w.roles
        .map((r) => (typeof r === 'string' ? r : (str(obj(r)?.id) ?? str(obj(r)?.role_id))))
        .filter((r): r is string => !!r)
    : [];
  const org = str(w.organization_id);
  return {
    id,
    email: str(w.email),
    firstName: str(w.first_name),
    lastName: str(w.last_name),
    phone: str(w.phone_id) ?? str(w.phone),
    accountId: str(w.account_id),
    organizationId: org === EMPTY_OBJECT_ID ? undefined : org,
    connectionId: str(w.connection_id),
    connectionType: str(w.connection_type),
    emailVerified: bool(w.email_verified),
    isActive: bool(w.is_active),
    createdAt: date(w.created_at),
    modifiedAt: date(w.modified_at),
    lastLoginAt: date(w.LastLoginAt) ?? date(w.last_login_at),
    roleIds,
    groups: Array.isArray(w.groups) ? [...w.groups] : [],
    rawAttributes: obj(w.raw_attributes),
    tenants: mapTenants(w.tenants),
  };
}

/** `users.create()` body. */
export function toWireNewUser(u: EzidCreateUserInput): Record<string, unknown> {
  return {
    email: u.email,
    first_name: u.firstName,
    last_name: u.lastName,
    ...(u.phone !== undefined && { phone_id: u.phone }),
  };
}

/** `users.update()` body. */
export function toWireUserUpdate(u: EzidUpdateUserInput): Record<string, unknown> {
  return {
    email: u.email,
    first_name: u.firstName,
    last_name: u.lastName,
    ...(u.phone !== undefined && { phone_id: u.phone }),
    ...(u.groups !== undefined && { groups: u.groups }),
    ...(u.rawAttributes !== undefined && { raw_attributes: u.rawAttributes }),
  };
}

/** `{ id, email_id, organizations: [...] }` (§2.9.9) -> `EzidUserOrganizations`. */
export function mapUserOrganizations(body: unknown, endpoint: string, userId: string): EzidUserOrganizations {
  const w = obj(body);
  const list = listOf(body, endpoint, 'organizations');
  return {
    userId: str(w?.id) ?? userId,
    email: str(w?.email_id) ?? str(w?.email),
    organizations: list
      .map((o) => obj(o))
      .filter((o): o is Wire => !!o && !!str(o.id))
      .map((o) => ({
        id: str(o.id)!,
        name: str(o.Name) ?? str(o.name) ?? '',
        whiteListDomains: strings(o.WhiteListDomains ?? o.WhiteListDomain ?? o.white_list_domains),
        allowProfilesOutsideOrganization:
          bool(o.AllowProfilesOutsideOrganization) ?? bool(o.allow_profiles_outside_organization) ?? false,
        domain: str(o.domain),
        workspaceName: str(o.WorkspaceName) ?? str(o.workspace_name),
        // Strict: only JSON `true` is active; `"false"` or `null` must never read as "unknown".
        isActive: o.is_active === undefined ? undefined : o.is_active === true,
        status: str(o.status) ?? '',
        roles: (Array.isArray(o.roles) ? o.roles : [])
          .map((r) => obj(r))
          .filter((r): r is Wire => !!r && !!(str(r.role_id) ?? str(r.id)))
          .map((r) => ({
            id: (str(r.role_id) ?? str(r.id))!,
            name: str(r.role_name) ?? str(r.name) ?? '',
            permissions: strings(r.permissions),
          })),
      })),
  };
}

/** `{ login_logs: [...] }` (§2.9.10) -> `EzidLoginLog[]`. */
export function mapLoginLogs(body: unknown, endpoint: string): EzidLoginLog[] {
  return listOf(body, endpoint, 'login_logs')
    .map((l) => obj(l))
    .filter((l): l is Wire => !!l)
    .map((l) => ({
      ipAddress: str(l.IpAddress) ?? str(l.ip_address),
      country: str(l.Country) ?? str(l.country),
      city: str(l.City) ?? str(l.city),
      userAgent: str(l.UserAgent) ?? str(l.user_agent),
      name: str(l.Name) ?? str(l.name),
      os: str(l.Os) ?? str(l.os),
      device: str(l.Device) ?? str(l.device),
      createdAt: date(l.CreatedAt) ?? date(l.created_at),
    }));
}

// ---- Organizations (§2.10) ----

/** `Organization` -> `EzidOrganization` (either spelling of the white-list field). */
export function mapOrganization(v: unknown, endpoint: string): EzidOrganization {
  const w = obj(Array.isArray(v) && v.length === 1 ? v[0] : v); // update's prose wraps it in an array
  const id = str(w?.id) ?? str(w?._id);
  if (!w || !id) throw invalid(endpoint, 200, 'organization without an id');
  return {
    id,
    name: str(w.name) ?? str(w.Name) ?? '',
    whiteListDomains: strings(w.WhiteListDomains ?? w.WhiteListDomain ?? w.white_list_domains),
    allowProfilesOutsideOrganization:
      bool(w.allow_profiles_outside_organization) ?? bool(w.AllowProfilesOutsideOrganization) ?? false,
    ssoConnectionToken: str(w.sso_connection_token),
    domain: str(w.domain),
    workspaceName: str(w.WorkspaceName) ?? str(w.workspace_name),
    isActive: strictBool(w.is_active, endpoint, 'is_active'),
    address: str(w.address),
    website: str(w.website),
    timeZone: str(w.time_zone),
    currency: str(w.currency),
  };
}

/** `organizations.add()` body: PascalCase keys, as documented (§2.10.1). */
export function toWireNewOrganization(o: EzidCreateOrganizationInput): Record<string, unknown> {
  return {
    Name: o.name,
    WhiteListDomains: o.whiteListDomains ?? [],
    AllowProfilesOutsideOrganization: o.allowProfilesOutsideOrganization ?? false,
  };
}

/** `organizations.update()` body (§2.10.4). */
export function toWireOrganizationUpdate(o: EzidUpdateOrganizationInput): Record<string, unknown> {
  return {
    Name: o.name,
    ...(o.whiteListDomains !== undefined && { WhiteListDomains: o.whiteListDomains }),
    ...(o.address !== undefined && { address: o.address }),
    ...(o.website !== undefined && { website: o.website }),
    ...(o.timeZone !== undefined && { time_zone: o.timeZone }),
    ...(o.currency !== undefined && { currency: o.currency }),
  };
}

/** `Config` (§1.1) -> `EzidConfig`; `branding_schema` is parsed when it is a JSON-encoded string. */
export function mapConfig(body: unknown, endpoint: string): EzidConfig {
  const w = obj(body);
  const id = str(w?.id);
  if (!w || !id) throw invalid(endpoint, 200, 'configuration without an id');
  const b = obj(w.branding) ?? {};
  let schema: unknown = b.branding_schema;
  if (typeof schema === 'string') {
    try {
      schema = JSON.parse(schema);
    } catch {
      schema = undefined;
    }
  }
  const font = obj(b.font);
  const auth = obj(w.auth_config) ?? {};
  return {
    id,
    name: str(w.name),
    clientId: str(w.client_id),
    branding: {
      brandingSchema: obj(camelKeys(schema)),
      brand: str(b.brand),
      signature: str(b.signature),
      btnColor: str(b.btn_color),
      textColor: str(b.text_color),
      background: str(b.background),
      backgroundImage: str(b.background_image),
      loginBoxColor: str(b.login_box_color),
      brandLogo: str(b.brand_logo),
      favicon: str(b.favicon),
      font: font ? { url: str(font.url), family: str(font.family) } : undefined,
      lang: str(b.lang),
      whiteLabel: bool(b.white_label),
      pageTitle: str(b.page_title),
    },
    connections: (Array.isArray(w.connection) ? w.connection : [])
      .map((c) => obj(c))
      .filter((c): c is Wire => !!c && !!str(c.provider))
      .map((c) => ({
        provider: str(c.provider)!,
        connectionId: str(c.connection_id),
        isSsoConnection: bool(c.is_sso_connection) ?? false,
        isOauthConnection: bool(c.is_oauth_connection) ?? false,
      })),
    defaultRedirectUrl: str(w.default_redirect_url),
    authConfig: { webauthn: bool(auth.webauthn) ?? false, passkeyAuth: bool(auth.passkey_auth) ?? false },
    localization: obj(camelKeys(w.localization)),
  };
}

// ---- Roles and permissions (§2.8) ----

/** `Role` -> `EzidRoleDefinition`. */
export function mapRole(v: unknown, endpoint: string): EzidRoleDefinition {
  const w = obj(v);
  const id = str(w?.id) ?? str(w?._id);
  if (!w || !id) throw invalid(endpoint, 200, 'role without an id');
  return {
    id,
    name: str(w.name) ?? '',
    slug: str(w.slug),
    description: str(w.description),
    permissionIds: strings(w.permission_id),
    isActive: bool(w.is_active),
    isDeleted: bool(w.is_deleted),
  };
}

/**
 * The role a create/update answered with. EZiD's samples answer with the whole role list (maybe a
 * copy-paste): then the role is picked from it by id (update) or by slug (create).
 */
export function pickRole(
  body: unknown,
  endpoint: string,
  match: { id?: string; slug: string },
): EzidRoleDefinition {
  if (!Array.isArray(body)) return mapRole(body, endpoint);
  const roles = body.map((r) => mapRole(r, endpoint));
  const found = roles.find((r) => (match.id ? r.id === match.id : r.slug === match.slug));
  if (!found) throw invalid(endpoint, 200, 'the role is not in the returned list');
  return found;
}

/** `roles.create()` / `roles.update()` body. */
export function toWireRole(
  r: EzidCreateRoleInput | EzidUpdateRoleInput,
  slug: string,
): Record<string, unknown> {
  return {
    name: r.name,
    slug,
    description: r.description ?? r.name,
    ...('permissionIds' in r && r.permissionIds !== undefined && { permission_id: r.permissionIds }),
  };
}

/** `Permission` -> `EzidPermissionDefinition`. */
export function mapPermission(v: unknown, endpoint: string): EzidPermissionDefinition {
  const w = obj(v);
  const id = str(w?.id) ?? str(w?._id);
  if (!w || !id) throw invalid(endpoint, 200, 'permission without an id');
  return {
    id,
    name: str(w.name) ?? '',
    slug: str(w.slug),
    description: str(w.description),
    isActive: bool(w.is_active),
    isDeleted: bool(w.is_deleted),
  };
}

/** `permissions.update()` body. */
export function toWirePermission(p: EzidUpdatePermissionInput, slug: string): Record<string, unknown> {
  return { name: p.name, slug, description: p.description ?? p.name };
}

/** A lower-case slug of a name (`'Team View'` -> `'team_view'`, EZiD's style). */
export function slugify(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** `{ is_deleted: true }` (or any answer that does not say `is_deleted: false`). */
export function mapDeletion(body: unknown, endpoint: string): void {
  if (obj(body)?.is_deleted === false) throw invalid(endpoint, 200, 'EZiD answered is_deleted: false');
}

// ---- MFA (§2.7): response shapes NOT FOUND upstream; both casings accepted ----

/** `{ mfa_token, expires_at }`. */
export function mapMfaToken(body: unknown, endpoint: string): EzidMfaToken {
  const w = obj(body);
  const mfaToken = str(w?.mfa_token) ?? str(w?.mfaToken) ?? str(w?.access_token);
  if (!mfaToken) throw invalid(endpoint, 200, 'no mfa_token in the response');
  return { mfaToken, expiresAt: date(w?.expires_at) };
}

/** `[{ id, authenticator_type, active, oob_channel, created_at }]`. */
export function mapMfaAuthenticators(body: unknown, endpoint: string): EzidMfaAuthenticator[] {
  return listOf(body, endpoint, 'authenticators')
    .map((a) => obj(a))
    .filter((a): a is Wire => !!a && !!str(a.id))
    .map((a) => ({
      id: str(a.id)!,
      authenticatorType: str(a.authenticator_type) ?? str(a.type) ?? '',
      active: bool(a.active) ?? false,
      oobChannel: str(a.oob_channel),
      createdAt: date(a.created_at),
    }));
}

/** `{ authenticator_id, secret, barcode_uri }`. */
export function mapMfaEnrollment(body: unknown, endpoint: string): EzidMfaTotpEnrollment {
  const w = obj(body);
  const secret = str(w?.secret);
  const uri = str(w?.barcode_uri) ?? str(w?.otpauth_uri) ?? str(w?.uri);
  if (!secret || !uri) throw invalid(endpoint, 200, 'expected secret and barcode_uri');
  return { authenticatorId: str(w?.authenticator_id) ?? str(w?.id), secret, uri };
}

/** `{ challenge_type, oob_code }`. */
export function mapMfaChallenge(body: unknown, endpoint: string): EzidMfaChallenge {
  const w = obj(body);
  const oobCode = str(w?.oob_code) ?? str(w?.oobCode);
  if (!oobCode) throw invalid(endpoint, 200, 'no oob_code in the response');
  return { challengeType: str(w?.challenge_type) ?? 'otp', oobCode };
}

/** `{ qr_code: "data:image/png;base64,..." }` (or bare base64) -> PNG bytes. */
export function mapMfaQrCode(body: unknown, endpoint: string): { png: Buffer; dataUrl: string } {
  const w = obj(body);
  const raw = str(w?.qr_code) ?? str(w?.qrCode) ?? str(w?.image);
  if (!raw) throw invalid(endpoint, 200, 'no qr_code in the response');
  const b64 = raw.replace(/^data:image\/png;base64,/, '');
  const png = Buffer.from(b64, 'base64');
  if (png.length < 8 || png.readUInt32BE(0) !== 0x89504e47)
    throw invalid(endpoint, 200, 'qr_code is not a PNG');
  return { png, dataUrl: `data:image/png;base64,${png.toString('base64')}` };
}

/** `{ backup_codes: [...] }`. */
export function mapBackupCodes(body: unknown, endpoint: string): string[] {
  const codes = listOf(body, endpoint, 'backup_codes', 'recovery_codes', 'codes').filter(
    (c): c is string => typeof c === 'string' && c.length > 0,
  );
  if (codes.length === 0) throw invalid(endpoint, 200, 'no backup codes in the response');
  return codes;
}

export { obj as asObject, str as asString, bool as asBoolean };
