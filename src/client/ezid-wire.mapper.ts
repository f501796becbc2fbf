import type { EzidRole, EzidTenant } from '../interfaces/ezid-user.interface';
import { EzidApiError } from './ezid-api.error';
import type {
  EzidAuthResult,
  EzidAuthStatus,
  EzidLegacyTokens,
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

export { obj as asObject, str as asString, bool as asBoolean };
