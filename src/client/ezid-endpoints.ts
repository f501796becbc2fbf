import { check } from './ezid-input.validation';

/** HTTP methods used by the EZiD API. */
export type EzidHttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Which base URL an endpoint lives under: `'api'` = `apiBaseUrl` (the SSOJet-style `/api/v1/...` API),
 * `'legacy'` = `legacyApiBaseUrl` (the `api.ezid.io` `email-link/*` and OTP endpoints).
 */
export type EzidApiBase = 'api' | 'legacy';

/**
 * Where the client id travels: `'query'` (`?client_id=`), `'query+header'` (query and `x-client-id`),
 * `'body'` (`client_id` and `client_secret` in the JSON body, legacy endpoints only).
 */
export type EzidClientIdPlacement = 'query' | 'query+header' | 'body';

/** One row of the endpoint table: everything the client and the emulator need to agree on. */
export interface EzidEndpointDefinition {
  readonly method: EzidHttpMethod;
  /** Path below the base URL; `{name}` placeholders are path parameters. */
  readonly path: string;
  readonly base: EzidApiBase;
  readonly clientId: EzidClientIdPlacement;
  /** Section of shared/ezid-api.md the row comes from. */
  readonly ref: string;
}

/**
 * THE table of EZiD endpoints (method + path per named endpoint). `EzidService` builds every request
 * from it and `EzidEmulator` routes every request with it, so the two cannot drift apart.
 * Names are stable: the `endpoints` module option overrides rows by name.
 * Rows whose method or path is not stated by the public docs carry an INFERRED / NOT FOUND comment.
 */
export const EZID_ENDPOINTS = {
  // Magic link (§2.1)
  'magicLink.send': {
    method: 'POST',
    path: '/api/v1/auth/passwordless/magic-link/send',
    base: 'api',
    clientId: 'query',
    ref: '2.1.1',
  },
  'magicLink.resend': {
    method: 'POST',
    path: '/api/v1/auth/passwordless/magic-link/resend',
    base: 'api',
    clientId: 'query',
    ref: '2.1.2',
  },
  'magicLink.verify': {
    method: 'GET',
    path: '/api/v1/auth/passwordless/magic-link/verify',
    base: 'api',
    clientId: 'query',
    ref: '2.1.3',
  },
  'magicLink.status': {
    method: 'GET',
    path: '/api/v1/auth/passwordless/magic-link/status',
    base: 'api',
    clientId: 'query',
    ref: '2.1.4',
  },
  // Email magic auth code (§2.2)
  'emailCode.send': {
    method: 'POST',
    path: '/api/v1/auth/passwordless/magic-otp/send',
    base: 'api',
    clientId: 'query',
    ref: '2.2.1',
  },
  'emailCode.resend': {
    method: 'POST',
    path: '/api/v1/auth/passwordless/email-otp/resend',
    base: 'api',
    clientId: 'query',
    ref: '2.2.2',
  },
  'emailCode.verify': {
    method: 'POST',
    path: '/api/v1/auth/passwordless/email-otp/verify',
    base: 'api',
    clientId: 'query',
    ref: '2.2.3',
  },
  // SMS code (§2.3)
  'sms.send': {
    method: 'POST',
    path: '/api/v1/auth/passwordless/phone-otp/send',
    base: 'api',
    clientId: 'query',
    ref: '2.3.1',
  },
  'sms.resend': {
    method: 'POST',
    path: '/api/v1/auth/passwordless/phone-otp/resend',
    base: 'api',
    clientId: 'query',
    ref: '2.3.2',
  },
  // Response shape INFERRED (token + profile, like emailCode.verify).
  'sms.verify': {
    method: 'POST',
    path: '/api/v1/auth/passwordless/phone-otp/verify',
    base: 'api',
    clientId: 'query',
    ref: '2.3.3',
  },
  // Passkeys (§2.4)
  'passkeys.loginStart': {
    method: 'GET',
    path: '/api/v1/auth/passwordless/passkey/login',
    base: 'api',
    clientId: 'query',
    ref: '2.4.1',
  },
  'passkeys.registerStart': {
    method: 'GET',
    path: '/api/v1/auth/passwordless/passkey/register',
    base: 'api',
    clientId: 'query+header',
    ref: '2.4.2',
  },
  // Response shape INFERRED (token + profile, like emailCode.verify).
  'passkeys.loginFinish': {
    method: 'POST',
    path: '/api/v1/auth/passwordless/passkey/login',
    base: 'api',
    clientId: 'query',
    ref: '2.4.3',
  },
  // INFERRED: method and path (MojoAuth uses POST on the registration path).
  'passkeys.registerFinish': {
    method: 'POST',
    path: '/api/v1/auth/passwordless/passkey/register',
    base: 'api',
    clientId: 'query+header',
    ref: '2.4.4',
  },
  'passkeys.status': {
    method: 'GET',
    path: '/api/v1/auth/passwordless/passkey/status',
    base: 'api',
    clientId: 'query+header',
    ref: '2.4.5',
  },
  'passkeys.list': {
    method: 'GET',
    path: '/api/v1/auth/passwordless/passkey/credentials',
    base: 'api',
    clientId: 'query+header',
    ref: '2.4.6',
  },
  'passkeys.rename': {
    method: 'PATCH',
    path: '/api/v1/auth/passwordless/passkey/credentials/{passkeyId}',
    base: 'api',
    clientId: 'query+header',
    ref: '2.4.7',
  },
  // Response NOT FOUND: the emulator answers `{ status, message }`.
  'passkeys.delete': {
    method: 'DELETE',
    path: '/api/v1/auth/passwordless/passkey/credentials/{passkeyId}',
    base: 'api',
    clientId: 'query',
    ref: '2.4.8',
  },
  // Auth status (§2.5); response shape NOT FOUND.
  'auth.status': { method: 'GET', path: '/api/v1/auth/status', base: 'api', clientId: 'query', ref: '2.5' },
  // Tokens (§2.6)
  'tokens.refresh': {
    method: 'GET',
    path: '/api/v1/accesstoken/refresh',
    base: 'api',
    clientId: 'query',
    ref: '2.6.1',
  },
  'tokens.byAuthCode': {
    method: 'GET',
    path: '/api/v1/sso/oauth/accesstoken',
    base: 'api',
    clientId: 'query',
    ref: '2.6.2',
  },
  // MFA (§2.7). Every response body is NOT FOUND upstream (samples are `{}`): the shapes the client
  // reads (and the emulator answers) follow the Auth0-style vocabulary the requests use (oob_code, otp).
  'mfa.token': {
    method: 'POST',
    path: '/api/v1/auth/mfa/token',
    base: 'api',
    clientId: 'query+header',
    ref: '2.7.1',
  },
  'mfa.authenticators': {
    method: 'GET',
    path: '/api/v1/auth/mfa/authenticators',
    base: 'api',
    clientId: 'query+header',
    ref: '2.7.2',
  },
  // NOT FOUND: method, path, body and response (guess: Auth0's `associate`; `/auth/mfa/enroll` is the other candidate).
  'mfa.enrollTotp': {
    method: 'POST',
    path: '/api/v1/auth/mfa/associate',
    base: 'api',
    clientId: 'query+header',
    ref: '2.7.3',
  },
  'mfa.initiate': {
    method: 'POST',
    path: '/api/v1/auth/mfa/initiate',
    base: 'api',
    clientId: 'query+header',
    ref: '2.7.4',
  },
  // Response INFERRED: JSON `{ qr_code: "data:image/png;base64,..." }`, not a raw image.
  'mfa.qrCode': {
    method: 'GET',
    path: '/api/v1/auth/mfa/qr-code',
    base: 'api',
    clientId: 'query+header',
    ref: '2.7.5',
  },
  'mfa.validate': {
    method: 'POST',
    path: '/api/v1/auth/mfa/validate',
    base: 'api',
    clientId: 'query+header',
    ref: '2.7.6',
  },
  'mfa.backupCodes': {
    method: 'GET',
    path: '/api/v1/auth/mfa/backupcode',
    base: 'api',
    clientId: 'query+header',
    ref: '2.7.7',
  },
  // Roles and permissions (§2.8)
  // INFERRED: path (from create/update; the request line was not captured).
  'roles.list': { method: 'GET', path: '/api/v1/roles', base: 'api', clientId: 'query', ref: '2.8.1' },
  'roles.create': { method: 'POST', path: '/api/v1/roles', base: 'api', clientId: 'query', ref: '2.8.3' },
  'roles.update': {
    method: 'PUT',
    path: '/api/v1/roles/{roleId}',
    base: 'api',
    clientId: 'query',
    ref: '2.8.4',
  },
  // NOT FOUND: method and path (guess), response (emulator: `{ is_deleted: true }`, like delete user).
  'roles.remove': {
    method: 'DELETE',
    path: '/api/v1/roles/{roleId}',
    base: 'api',
    clientId: 'query',
    ref: '2.8.6',
  },
  'permissions.list': {
    method: 'GET',
    path: '/api/v1/permissions',
    base: 'api',
    clientId: 'query',
    ref: '2.8.2',
  },
  'permissions.update': {
    method: 'PUT',
    path: '/api/v1/permissions/{permissionId}',
    base: 'api',
    clientId: 'query',
    ref: '2.8.5',
  },
  // NOT FOUND: method and path (guess), response (emulator: `{ is_deleted: true }`).
  'permissions.remove': {
    method: 'DELETE',
    path: '/api/v1/permissions/{permissionId}',
    base: 'api',
    clientId: 'query',
    ref: '2.8.7',
  },
  // Users (§2.9)
  // Pagination parameter NOT FOUND: the client sends `page` (1-based) and `limit` (guess).
  'users.list': { method: 'GET', path: '/api/v1/users', base: 'api', clientId: 'query', ref: '2.9.1' },
  'users.get': {
    method: 'GET',
    path: '/api/v1/users/{userId}',
    base: 'api',
    clientId: 'query',
    ref: '2.9.2',
  },
  'users.getByEmail': {
    method: 'GET',
    path: '/api/v1/users/{email}/email',
    base: 'api',
    clientId: 'query',
    ref: '2.9.3',
  },
  'users.create': { method: 'POST', path: '/api/v1/users', base: 'api', clientId: 'query', ref: '2.9.4' },
  'users.update': {
    method: 'PUT',
    path: '/api/v1/users/{userId}',
    base: 'api',
    clientId: 'query',
    ref: '2.9.5',
  },
  'users.verify': {
    method: 'POST',
    path: '/api/v1/users/{userId}/verify',
    base: 'api',
    clientId: 'query',
    ref: '2.9.6',
  },
  'users.delete': {
    method: 'DELETE',
    path: '/api/v1/users/{userId}',
    base: 'api',
    clientId: 'query',
    ref: '2.9.7',
  },
  // INFERRED: `organization_id` in the body (the docs show only `role_id[]`, but roles are held per organization).
  'users.setRoles': {
    method: 'PUT',
    path: '/api/v1/users/{userId}/roles',
    base: 'api',
    clientId: 'query',
    ref: '2.9.8',
  },
  // No `/v1` in this path (FOUND).
  'users.getOrganizations': {
    method: 'GET',
    path: '/api/account/identity/users/{userId}/organizations',
    base: 'api',
    clientId: 'query',
    ref: '2.9.9',
  },
  'users.getLoginLogs': {
    method: 'GET',
    path: '/api/v1/users/{userId}/loginlogs',
    base: 'api',
    clientId: 'query',
    ref: '2.9.10',
  },
  // Organizations (§2.10)
  'organizations.add': {
    method: 'POST',
    path: '/api/v1/organization',
    base: 'api',
    clientId: 'query',
    ref: '2.10.1',
  },
  // INFERRED: the slash before the id (the docs print `/organization{organizationid}`).
  'organizations.get': {
    method: 'GET',
    path: '/api/v1/organization/{organizationId}',
    base: 'api',
    clientId: 'query',
    ref: '2.10.2',
  },
  'organizations.list': {
    method: 'GET',
    path: '/api/v1/organizations',
    base: 'api',
    clientId: 'query',
    ref: '2.10.3',
  },
  // FOUND (conflict): `/api/account/organization/{id}` (no `/v1`) is the path of the sample; the prose has `/api/v1/organization{id}`.
  'organizations.update': {
    method: 'PUT',
    path: '/api/account/organization/{organizationId}',
    base: 'api',
    clientId: 'query',
    ref: '2.10.4',
  },
  // NOT FOUND: method and path (guess), response (emulator: `{ is_deleted: true }`).
  'organizations.delete': {
    method: 'DELETE',
    path: '/api/v1/organization/{organizationId}',
    base: 'api',
    clientId: 'query',
    ref: '2.10.5',
  },
  // One row for both configuration calls (§2.10.6 `?client_id=`, §2.10.7 `?domain=`): same method and path.
  'organizations.config': {
    method: 'GET',
    path: '/api/v1/config',
    base: 'api',
    clientId: 'query',
    ref: '2.10.6',
  },
  // Legacy api.ezid.io (§3): client_id + client_secret in the body.
  'legacy.emailLinkSend': {
    method: 'POST',
    path: '/email-link/send',
    base: 'legacy',
    clientId: 'body',
    ref: '3.1',
  },
  'legacy.emailLinkVerify': {
    method: 'POST',
    path: '/email-link/verify',
    base: 'legacy',
    clientId: 'body',
    ref: '3.2',
  },
  'legacy.emailLinkRefresh': {
    method: 'POST',
    path: '/email-link/refresh',
    base: 'legacy',
    clientId: 'body',
    ref: '3.3',
  },
  'legacy.emailLinkGetUsers': {
    method: 'POST',
    path: '/email-link/getusers',
    base: 'legacy',
    clientId: 'body',
    ref: '3.6',
  },
  'legacy.otpSend': { method: 'POST', path: '/send/otp', base: 'legacy', clientId: 'body', ref: '3.4' },
  'legacy.otpVerify': { method: 'POST', path: '/verify/otp', base: 'legacy', clientId: 'body', ref: '3.5' },
} as const satisfies Record<string, EzidEndpointDefinition>;

/** Name of a row of the endpoint table, e.g. `'magicLink.send'` or `'legacy.emailLinkVerify'`. */
export type EzidEndpointName = keyof typeof EZID_ENDPOINTS;

/** Per-name overrides of method and/or path (the `endpoints` module option). */
export type EzidEndpointOverrides = Readonly<
  Record<string, { readonly method?: string; readonly path?: string } | undefined>
>;

/**
 * The endpoint table with overrides applied. Unknown names in `overrides` are ignored here
 * (the module's option validation reports them).
 */
export function resolveEndpointTable(
  overrides: EzidEndpointOverrides = {},
): Readonly<Record<EzidEndpointName, EzidEndpointDefinition>> {
  const table = {} as Record<EzidEndpointName, EzidEndpointDefinition>;
  for (const [name, def] of Object.entries(EZID_ENDPOINTS) as [EzidEndpointName, EzidEndpointDefinition][]) {
    const o = overrides[name];
    table[name] = Object.freeze({
      ...def,
      method: (o?.method?.toUpperCase() as EzidHttpMethod | undefined) ?? def.method,
      path: o?.path ?? def.path,
    });
  }
  return Object.freeze(table);
}

/**
 * Substitutes `{name}` placeholders with URL-encoded values. Every value is checked first
 * (`EzidValidationError` for a missing value, a dot segment or a segment-breaking character, in any
 * percent-encoded form), so no parameter can retarget a request.
 */
export function buildEndpointPath(
  path: string,
  params: Readonly<Record<string, string>> = {},
  endpoint = 'request',
): string {
  const c = check(endpoint);
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, key: string) =>
    encodeURIComponent(c.pathSegment(key, params[key])),
  );
}

/** Compiles a path template into a matcher returning the decoded path parameters, or `undefined`. */
export function compileEndpointPath(path: string): (pathname: string) => Record<string, string> | undefined {
  // A placeholder must be a whole segment: `([^/]+)` then stays unambiguous and matching is linear.
  if (path.split('/').some((seg) => /[{}]/.test(seg) && !/^\{[A-Za-z0-9_]+\}$/.test(seg))) {
    throw new TypeError(`Path parameters must be whole segments: "${path}"`);
  }
  const keys: string[] = [];
  const source = path
    .split(/(\{[A-Za-z0-9_]+\})/)
    .map((part) => {
      const m = /^\{([A-Za-z0-9_]+)\}$/.exec(part);
      if (m) {
        keys.push(m[1]);
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  const re = new RegExp(`^${source}/?$`);
  return (pathname) => {
    const m = re.exec(pathname);
    if (!m) return undefined;
    const params: Record<string, string> = {};
    keys.forEach((k, i) => {
      try {
        params[k] = decodeURIComponent(m[i + 1]);
      } catch {
        params[k] = m[i + 1];
      }
    });
    return params;
  };
}
