import { Injectable, Optional } from '@nestjs/common';
import { EzidObserver } from '../observer/ezid-observer';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { InjectEzidOptions } from '../ezid.module-definition';
import { EzidHttpClient } from './ezid-http.client';
import {
  asBoolean,
  asObject,
  asString,
  date,
  invalid,
  mapAuthResult,
  mapAuthStatus,
  mapBackupCodes,
  mapConfig,
  mapDeletion,
  mapLegacyTokens,
  mapLoginLogs,
  mapMfaAuthenticators,
  mapMfaChallenge,
  mapMfaEnrollment,
  mapMfaQrCode,
  mapMfaToken,
  mapOrganization,
  mapPermission,
  mapRole,
  mapUserOrganizations,
  mapUserRecord,
  pickRole,
  slugify,
  toWireNewOrganization,
  toWireNewUser,
  toWireOrganizationUpdate,
  toWirePermission,
  toWireRole,
  toWireUserUpdate,
  listOf,
  mapPasskeyChallenge,
  mapPasskeyCredential,
  mapRequiredTokens,
  mapState,
} from './ezid-wire.mapper';
import { check } from './ezid-input.validation';
import type {
  EzidConfig,
  EzidCreateOrganizationInput,
  EzidCreateRoleInput,
  EzidCreateUserInput,
  EzidLoginLog,
  EzidMfaAuthenticator,
  EzidMfaChallenge,
  EzidMfaQrCode,
  EzidMfaToken,
  EzidMfaTotpEnrollment,
  EzidOrganization,
  EzidPageOptions,
  EzidPermissionDefinition,
  EzidRoleDefinition,
  EzidUpdateOrganizationInput,
  EzidUpdatePermissionInput,
  EzidUpdateRoleInput,
  EzidUpdateUserInput,
  EzidUserOrganizations,
  EzidUserRecord,
  EzidAuthResult,
  EzidAuthStatus,
  EzidFlowStart,
  EzidLegacyEmailLinkOptions,
  EzidLegacyOtp,
  EzidLegacyOtpOptions,
  EzidLegacyTokens,
  EzidLegacyUser,
  EzidOperationResult,
  EzidPasskeyChallenge,
  EzidPasskeyCredential,
  EzidPasskeyStatus,
  EzidTokenSet,
} from './ezid.types';

/** Magic link (ezid-api.md §2.1). */
export interface EzidMagicLinkApi {
  /** Emails a magic link; returns the `state` to poll. */
  send(email: string): Promise<EzidFlowStart>;
  /** Re-sends the link of a pending flow. */
  resend(state: string): Promise<void>;
  /** Polls the flow: `{ authenticated: false }` until the link is clicked, then tokens and profile (once). */
  status(state: string): Promise<EzidAuthResult>;
  /** The verify URL the emailed link points at (built from the endpoint table; no network). */
  verifyUrl(state: string, magictext: string): string;
}

/** Email magic auth code (ezid-api.md §2.2). */
export interface EzidEmailCodeApi {
  /** Emails a code; returns the `state`. */
  send(email: string): Promise<EzidFlowStart>;
  /** Sends a new code (the previous one stops working on the emulator). */
  resend(state: string): Promise<void>;
  /** Exchanges the code for tokens and profile. */
  verify(state: string, otp: string): Promise<EzidAuthResult>;
}

/** SMS code (ezid-api.md §2.3). */
export interface EzidSmsApi {
  /** Texts a code to `phone`; returns the `state` (`state` or `state_id` on the wire). */
  send(phone: string): Promise<EzidFlowStart>;
  resend(state: string): Promise<void>;
  /** Exchanges the code for tokens and profile (response shape INFERRED). */
  verify(state: string, otp: string): Promise<EzidAuthResult>;
}

/** Passkeys (ezid-api.md §2.4). `userAccessToken` is the signed-in user's EZiD access token. */
export interface EzidPasskeysApi {
  loginStart(identifier: string): Promise<EzidPasskeyChallenge>;
  /** `assertion`: the `navigator.credentials.get()` result serialised as JSON. */
  loginFinish(
    authCode: string,
    identifier: string,
    assertion: Record<string, unknown>,
  ): Promise<EzidAuthResult>;
  registerStart(userAccessToken: string): Promise<EzidPasskeyChallenge>;
  /** `attestation`: the `navigator.credentials.create()` result serialised as JSON. Path INFERRED. */
  registerFinish(
    userAccessToken: string,
    authCode: string,
    attestation: Record<string, unknown>,
  ): Promise<EzidPasskeyCredential>;
  status(identifier: string): Promise<EzidPasskeyStatus>;
  list(userAccessToken: string): Promise<EzidPasskeyCredential[]>;
  rename(userAccessToken: string, passkeyId: string, name: string): Promise<EzidOperationResult>;
  delete(userAccessToken: string, passkeyId: string): Promise<EzidOperationResult>;
}

/** `GET /api/v1/auth/status` (ezid-api.md §2.5). */
export interface EzidAuthApi {
  status(identifier: string): Promise<EzidAuthStatus>;
}

/** Tokens (ezid-api.md §2.6). */
export interface EzidTokensApi {
  /** Rotates tokens; the old refresh token is spent (single use). */
  refresh(refreshToken: string): Promise<EzidAuthResult>;
  /** SSO/OAuth code exchange. */
  byAuthCode(code: string, state: string): Promise<EzidTokenSet>;
}

/** The legacy `api.ezid.io` endpoints (ezid-api.md §3); they need the `clientSecret` option. */
export interface EzidLegacyApi {
  /** Returns the link (EZiD also emails it unless `pushEmail: false`). */
  emailLinkSend(options: EzidLegacyEmailLinkOptions): Promise<{ emailLink: string }>;
  /** Exchanges the link's `code` for tokens. */
  emailLinkVerify(authCode: string): Promise<EzidLegacyTokens>;
  /** Rotates tokens; the old refresh token is spent (single use). */
  emailLinkRefresh(refreshToken: string): Promise<EzidLegacyTokens>;
  emailLinkGetUsers(): Promise<EzidLegacyUser[]>;
  otpSend(options: EzidLegacyOtpOptions): Promise<EzidLegacyOtp>;
  otpVerify(loginId: string, otp: string): Promise<EzidLegacyTokens>;
}

/**
 * User management (ezid-api.md §2.9). Management calls authenticate with the `apiKey` option (Bearer).
 * Every argument is checked before the request: ids are 24-hex, emails and E.164 phones well formed,
 * names non-empty; a bad one rejects with `EzidValidationError` naming the field, and nothing is sent.
 */
export interface EzidUsersApi {
  /** One page of users (`page` is 1-based, `limit` 1..500, default 100; wire names NOT FOUND upstream). */
  list(page?: EzidPageOptions): Promise<EzidUserRecord[]>;
  /**
   * Every user, page after page (`pageSize` default 100), as an async iterator: `for await (const u of ...)`.
   * Stops at the first short page; a server that ignores paging (a page longer than asked, or the same
   * page twice) is read once.
   */
  iterate(options?: { pageSize?: number }): AsyncIterableIterator<EzidUserRecord>;
  get(userId: string): Promise<EzidUserRecord>;
  /** EZiD answers the lighter `UserProfileLite` here: record-only fields are undefined. */
  getByEmail(email: string): Promise<EzidUserRecord>;
  create(input: EzidCreateUserInput): Promise<EzidUserRecord>;
  /** EZiD requires `email`, `firstName` and `lastName` on every update. */
  update(userId: string, input: EzidUpdateUserInput): Promise<EzidUserRecord>;
  /** Sets `emailVerified` (`verification_status: "true" | "false"`, a string on the wire). */
  verify(userId: string, verified: boolean): Promise<EzidUserRecord>;
  /** Deletes the user; rejects if EZiD answers `is_deleted: false`. */
  delete(userId: string): Promise<void>;
  /**
   * Replaces the roles the user holds in one organization (joining it if needed). `organization_id` in
   * the body is INFERRED (the docs show only `role_id[]`). The next token's `tenants` claim reflects it.
   */
  setRoles(userId: string, organizationId: string, roleIds: string[]): Promise<EzidUserRecord>;
  /**
   * The user's organizations with the roles (and permission names) held in each. Used by the
   * authorization guard with `profile.source: 'api'`: keep this name and result shape.
   */
  getOrganizations(userId: string): Promise<EzidUserOrganizations>;
  getLoginLogs(userId: string): Promise<EzidLoginLog[]>;
}

/** Organizations (ezid-api.md §2.10). Management calls (`apiKey`). */
export interface EzidOrganizationsApi {
  add(input: EzidCreateOrganizationInput): Promise<EzidOrganization>;
  get(organizationId: string): Promise<EzidOrganization>;
  list(): Promise<EzidOrganization[]>;
  update(organizationId: string, input: EzidUpdateOrganizationInput): Promise<EzidOrganization>;
  /** Path and response NOT FOUND upstream (`DELETE /api/v1/organization/{id}` guessed). */
  delete(organizationId: string): Promise<void>;
  /** The workspace configuration of this client id (login page branding, connections, texts). */
  configByClientId(): Promise<EzidConfig>;
  /** The workspace configuration of a custom login domain (`?domain=`). */
  configByDomain(domain: string): Promise<EzidConfig>;
}

/** Roles (ezid-api.md §2.8). Management calls (`apiKey`). */
export interface EzidRolesApi {
  list(): Promise<EzidRoleDefinition[]>;
  /** `slug` defaults to the slugified name, `description` to the name (EZiD requires all three). */
  create(input: EzidCreateRoleInput): Promise<EzidRoleDefinition>;
  /** `permissionIds` replaces the role's permissions: this is how a permission is attached to a role. */
  update(roleId: string, input: EzidUpdateRoleInput): Promise<EzidRoleDefinition>;
  /** Path and response NOT FOUND upstream (`DELETE /api/v1/roles/{id}` guessed). */
  remove(roleId: string): Promise<void>;
}

/** Permissions (ezid-api.md §2.8). Management calls (`apiKey`). */
export interface EzidPermissionsApi {
  list(): Promise<EzidPermissionDefinition[]>;
  update(permissionId: string, input: EzidUpdatePermissionInput): Promise<EzidPermissionDefinition>;
  /** Path and response NOT FOUND upstream (`DELETE /api/v1/permissions/{id}` guessed). */
  remove(permissionId: string): Promise<void>;
}

/**
 * MFA (ezid-api.md §2.7). Every response shape is NOT FOUND upstream (see docs/client.md). The flow:
 * `token(identifier)` (server side, `apiKey`) -> `enrollTotp` / `qrCode` / `authenticators` /
 * `backupCodes` with that MFA token -> `initiate` -> `validate(oobCode, code)` for tokens.
 */
export interface EzidMfaApi {
  /** An MFA token for one user (email or E.164 phone); authorises the user-scoped MFA calls. */
  token(identifier: string): Promise<EzidMfaToken>;
  authenticators(mfaToken: string): Promise<EzidMfaAuthenticator[]>;
  /** Starts a TOTP enrollment; the secret and otpauth URI go to the user's authenticator app. Path NOT FOUND. */
  enrollTotp(mfaToken: string): Promise<EzidMfaTotpEnrollment>;
  /** Starts a challenge; answer it with `validate()`. `'oob'` (SMS/email codes) is not in the emulator. */
  initiate(
    mfaToken: string,
    options?: { authenticatorType?: 'otp' | 'oob'; oobChannel?: 'sms' | 'email' },
  ): Promise<EzidMfaChallenge>;
  /** The QR code (PNG) of the pending or active TOTP enrollment's otpauth URI. */
  qrCode(mfaToken: string): Promise<EzidMfaQrCode>;
  /** Answers a challenge with a TOTP code or a backup code (each backup code works once): tokens. */
  validate(oobCode: string, code: string): Promise<EzidAuthResult>;
  /** A fresh set of backup codes (the previous set stops working). Treat them as secrets. */
  backupCodes(mfaToken: string): Promise<string[]>;
}

/**
 * Typed client for the EZiD API. Every call goes through one pipeline (endpoint table, credentials,
 * total deadline, no redirects, size cap, retries for idempotent GETs) and resolves to camelCase
 * domain types, or rejects with `EzidApiError` / `EzidUnavailableError`.
 */
@Injectable()
export class EzidService {
  private readonly http: EzidHttpClient;

  /** Magic link: send, resend, status, verify URL. */
  readonly magicLink: EzidMagicLinkApi;
  /** Email magic auth code: send, resend, verify. */
  readonly emailCode: EzidEmailCodeApi;
  /** SMS code: send, resend, verify. */
  readonly sms: EzidSmsApi;
  /** Passkey login, registration and credentials. */
  readonly passkeys: EzidPasskeysApi;
  /** Auth status by identifier. */
  readonly auth: EzidAuthApi;
  /** Refresh and code exchange. */
  readonly tokens: EzidTokensApi;
  /** The legacy `api.ezid.io` email-link and OTP endpoints. */
  readonly legacy: EzidLegacyApi;
  /** User management. */
  readonly users: EzidUsersApi;
  /** Organizations and the workspace configuration. */
  readonly organizations: EzidOrganizationsApi;
  /** Roles (permissions are attached with `roles.update`). */
  readonly roles: EzidRolesApi;
  /** Permissions. */
  readonly permissions: EzidPermissionsApi;
  /** Multi-factor authentication: TOTP enrollment, challenges, backup codes. */
  readonly mfa: EzidMfaApi;

  constructor(@InjectEzidOptions() options: ResolvedEzidOptions, @Optional() observer?: EzidObserver) {
    const http = (this.http = new EzidHttpClient(options, observer?.telemetry));

    this.magicLink = {
      send: async (email) =>
        mapState(await http.request('magicLink.send', { body: { email } }), 'magicLink.send'),
      resend: async (state) => void (await http.request('magicLink.resend', { body: { state } })),
      status: async (state) =>
        mapAuthResult(await http.request('magicLink.status', { query: { state } }), 'magicLink.status'),
      verifyUrl: (state, magictext) => http.url('magicLink.verify', { query: { state, magictext } }),
    };

    this.emailCode = {
      send: async (email) =>
        mapState(await http.request('emailCode.send', { body: { email } }), 'emailCode.send'),
      resend: async (state) => void (await http.request('emailCode.resend', { body: { state } })),
      verify: async (state, otp) =>
        mapAuthResult(await http.request('emailCode.verify', { body: { state, otp } }), 'emailCode.verify'),
    };

    this.sms = {
      // ezid-api.md §2.3.1: schema says phone_id, prose says phone.
      send: async (phone) =>
        mapState(await http.request('sms.send', { body: { phone_id: phone } }), 'sms.send'),
      resend: async (state) => void (await http.request('sms.resend', { body: { state } })),
      verify: async (state, otp) =>
        mapAuthResult(await http.request('sms.verify', { body: { state, otp } }), 'sms.verify'),
    };

    this.passkeys = {
      loginStart: async (identifier) =>
        mapPasskeyChallenge(
          await http.request('passkeys.loginStart', { query: { identifier } }),
          'passkeys.loginStart',
        ),
      loginFinish: async (authCode, identifier, assertion) =>
        mapAuthResult(
          await http.request('passkeys.loginFinish', {
            query: { auth_code: authCode, identifier },
            body: assertion,
          }),
          'passkeys.loginFinish',
        ),
      registerStart: async (userAccessToken) =>
        mapPasskeyChallenge(
          await http.request('passkeys.registerStart', { bearer: userAccessToken }),
          'passkeys.registerStart',
        ),
      registerFinish: async (userAccessToken, authCode, attestation) =>
        mapPasskeyCredential(
          await http.request('passkeys.registerFinish', {
            bearer: userAccessToken,
            query: { auth_code: authCode },
            body: attestation,
          }),
          'passkeys.registerFinish',
        ),
      status: async (identifier) => {
        const w = asObject(await http.request('passkeys.status', { query: { identifier } })) ?? {};
        const s = w.status;
        return {
          status: typeof s === 'boolean' || typeof s === 'string' ? s : null,
          expiresAt: date(w.expires_at),
        };
      },
      list: async (userAccessToken) => {
        check('passkeys.list').token('userAccessToken', userAccessToken, 16384);
        const body = await http.request('passkeys.list', { bearer: userAccessToken });
        const list = Array.isArray(body) ? body : asObject(body)?.credentials;
        if (!Array.isArray(list)) throw invalid('passkeys.list', 200, 'expected an array of credentials');
        return list.map((c) => mapPasskeyCredential(c, 'passkeys.list'));
      },
      rename: async (userAccessToken, passkeyId, name) => {
        const c = check('passkeys.rename');
        c.token('userAccessToken', userAccessToken, 16384);
        c.token('passkeyId', passkeyId, 1024);
        c.name('name', name, 100);
        return operation(
          await http.request('passkeys.rename', {
            bearer: userAccessToken,
            params: { passkeyId },
            body: { name },
          }),
        );
      },
      delete: async (userAccessToken, passkeyId) => {
        const c = check('passkeys.delete');
        c.token('userAccessToken', userAccessToken, 16384);
        c.token('passkeyId', passkeyId, 1024);
        return operation(
          await http.request('passkeys.delete', { bearer: userAccessToken, params: { passkeyId } }),
        );
      },
    };

    this.auth = {
      status: async (identifier) =>
        mapAuthStatus(await http.request('auth.status', { query: { identifier } })),
    };

    this.tokens = {
      refresh: async (refreshToken) =>
        mapAuthResult(
          await http.request('tokens.refresh', { query: { refresh_token: refreshToken } }),
          'tokens.refresh',
        ),
      byAuthCode: async (code, state) =>
        mapRequiredTokens(
          await http.request('tokens.byAuthCode', { query: { code, state } }),
          'tokens.byAuthCode',
        ),
    };

    this.legacy = {
      emailLinkSend: async (o) => {
        const body = asObject(
          await http.request('legacy.emailLinkSend', {
            body: {
              email: o.email,
              base_url_email_link: o.baseUrlEmailLink,
              ...(o.expiryMs !== undefined && { expiry: String(o.expiryMs) }),
              ...(o.pushEmail !== undefined && { push_email: o.pushEmail ? 'Yes' : 'No' }),
              ...(o.callbackUrl !== undefined && { callback_url: o.callbackUrl }),
              ...(o.loginHint !== undefined && { login_hint: o.loginHint }),
              ...(o.claims !== undefined && { claims: o.claims }),
            },
          }),
        );
        const emailLink = asString(body?.email_link) ?? asString(body?.emailLink);
        if (!emailLink) throw invalid('legacy.emailLinkSend', 200, 'no email_link in the response');
        return { emailLink };
      },
      emailLinkVerify: async (authCode) =>
        mapLegacyTokens(
          await http.request('legacy.emailLinkVerify', { body: { auth_code: authCode } }),
          'legacy.emailLinkVerify',
        ),
      emailLinkRefresh: async (refreshToken) =>
        mapLegacyTokens(
          await http.request('legacy.emailLinkRefresh', { body: { refresh_token: refreshToken } }),
          'legacy.emailLinkRefresh',
        ),
      emailLinkGetUsers: async () => {
        const users = asObject(await http.request('legacy.emailLinkGetUsers'))?.users;
        if (!Array.isArray(users)) throw invalid('legacy.emailLinkGetUsers', 200, 'expected users[]');
        return users
          .map((u) => asObject(u))
          .filter((u): u is Record<string, unknown> => !!u && typeof u.email === 'string')
          .map((u) => ({
            email: u.email as string,
            verifiedEmail: u.verified_email === 'Yes' || asBoolean(u.verified_email) === true,
          }));
      },
      otpSend: async (o) => {
        const body = asObject(
          await http.request('legacy.otpSend', {
            body: {
              digits: String(o.digits ?? 6),
              channel: o.channel ?? 'phone',
              target: o.target,
              ...(o.expiryMinutes !== undefined && { expiry: String(o.expiryMinutes) }),
              ...(o.claims !== undefined && { claims: o.claims }),
            },
          }),
        );
        const otp = body?.otp;
        const loginId = asString(body?.login_id) ?? asString(body?.loginId);
        if ((typeof otp !== 'number' && typeof otp !== 'string') || !loginId) {
          throw invalid('legacy.otpSend', 200, 'expected otp and login_id');
        }
        return { otp: String(otp), loginId };
      },
      otpVerify: async (loginId, otp) =>
        mapLegacyTokens(
          await http.request('legacy.otpVerify', { body: { login_id: loginId, otp } }),
          'legacy.otpVerify',
        ),
    };

    this.users = {
      list: async (page = {}) => {
        const c = check('users.list');
        c.input('page', page);
        const p = c.int('page.page', page.page, 1, 1_000_000) ?? 1;
        const limit = c.int('page.limit', page.limit, 1, 500) ?? 100;
        const body = await http.request('users.list', { query: { page: String(p), limit: String(limit) } });
        return listOf(body, 'users.list', 'users', 'data').map((u) => mapUserRecord(u, 'users.list'));
      },
      iterate: (options = {}) => {
        const pageSize = check('users.list').int('pageSize', options?.pageSize, 1, 500) ?? 100;
        const users = this.users;
        return (async function* () {
          let previousFirst: string | undefined;
          for (let page = 1; ; page++) {
            const items = await users.list({ page, limit: pageSize });
            if (items.length > 0 && items[0].id === previousFirst) return; // paging ignored
            yield* items;
            if (items.length !== pageSize) return; // short page (or unpaged: longer than asked)
            previousFirst = items[0]?.id;
          }
        })();
      },
      get: async (userId) => {
        check('users.get').id('userId', userId);
        return mapUserRecord(await http.request('users.get', { params: { userId } }), 'users.get');
      },
      getByEmail: async (email) => {
        check('users.getByEmail').email('email', email);
        return mapUserRecord(
          await http.request('users.getByEmail', { params: { email } }),
          'users.getByEmail',
        );
      },
      create: async (input) => {
        const c = check('users.create');
        c.input('input', input);
        c.email('email', input.email);
        c.name('firstName', input.firstName);
        c.name('lastName', input.lastName);
        if (input.phone !== undefined) c.phone('phone', input.phone);
        return mapUserRecord(
          await http.request('users.create', { body: toWireNewUser(input) }),
          'users.create',
        );
      },
      update: async (userId, input) => {
        const c = check('users.update');
        c.id('userId', userId);
        c.input('input', input);
        c.email('email', input.email);
        c.name('firstName', input.firstName);
        c.name('lastName', input.lastName);
        if (input.phone !== undefined) c.phone('phone', input.phone);
        c.record('groups', input.groups);
        c.record('rawAttributes', input.rawAttributes);
        return mapUserRecord(
          await http.request('users.update', { params: { userId }, body: toWireUserUpdate(input) }),
          'users.update',
        );
      },
      verify: async (userId, verified) => {
        const c = check('users.verify');
        c.id('userId', userId);
        c.requiredBool('verified', verified);
        return mapUserRecord(
          await http.request('users.verify', {
            params: { userId },
            body: { verification_status: verified ? 'true' : 'false' },
          }),
          'users.verify',
        );
      },
      delete: async (userId) => {
        check('users.delete').id('userId', userId);
        mapDeletion(await http.request('users.delete', { params: { userId } }), 'users.delete');
      },
      setRoles: async (userId, organizationId, roleIds) => {
        const c = check('users.setRoles');
        c.id('userId', userId);
        c.id('organizationId', organizationId);
        c.ids('roleIds', roleIds);
        return mapUserRecord(
          await http.request('users.setRoles', {
            params: { userId },
            body: { organization_id: organizationId, role_id: roleIds },
          }),
          'users.setRoles',
        );
      },
      getOrganizations: async (userId) => {
        check('users.getOrganizations').id('userId', userId);
        return mapUserOrganizations(
          await http.request('users.getOrganizations', { params: { userId } }),
          'users.getOrganizations',
          userId,
        );
      },
      getLoginLogs: async (userId) => {
        check('users.getLoginLogs').id('userId', userId);
        return mapLoginLogs(
          await http.request('users.getLoginLogs', { params: { userId } }),
          'users.getLoginLogs',
        );
      },
    };

    this.organizations = {
      add: async (input) => {
        const c = check('organizations.add');
        c.input('input', input);
        c.name('name', input.name);
        c.domains('whiteListDomains', input.whiteListDomains);
        c.bool('allowProfilesOutsideOrganization', input.allowProfilesOutsideOrganization);
        return mapOrganization(
          await http.request('organizations.add', { body: toWireNewOrganization(input) }),
          'organizations.add',
        );
      },
      get: async (organizationId) => {
        check('organizations.get').id('organizationId', organizationId);
        return mapOrganization(
          await http.request('organizations.get', { params: { organizationId } }),
          'organizations.get',
        );
      },
      list: async () =>
        listOf(await http.request('organizations.list'), 'organizations.list', 'organizations').map((o) =>
          mapOrganization(o, 'organizations.list'),
        ),
      update: async (organizationId, input) => {
        const c = check('organizations.update');
        c.id('organizationId', organizationId);
        c.input('input', input);
        c.name('name', input.name);
        c.domains('whiteListDomains', input.whiteListDomains);
        for (const f of ['address', 'website', 'timeZone', 'currency'] as const) c.text(f, input[f]);
        return mapOrganization(
          await http.request('organizations.update', {
            params: { organizationId },
            body: toWireOrganizationUpdate(input),
          }),
          'organizations.update',
        );
      },
      delete: async (organizationId) => {
        check('organizations.delete').id('organizationId', organizationId);
        mapDeletion(
          await http.request('organizations.delete', { params: { organizationId } }),
          'organizations.delete',
        );
      },
      configByClientId: async () =>
        mapConfig(await http.request('organizations.config'), 'organizations.config'),
      configByDomain: async (domain) => {
        check('organizations.config').domain('domain', domain);
        return mapConfig(
          await http.request('organizations.config', { query: { domain } }),
          'organizations.config',
        );
      },
    };

    this.roles = {
      list: async () =>
        listOf(await http.request('roles.list'), 'roles.list', 'roles').map((r) => mapRole(r, 'roles.list')),
      create: async (input) => {
        const c = check('roles.create');
        c.input('input', input);
        c.name('name', input.name);
        const slug = c.optionalName('slug', input.slug) ?? slugify(input.name);
        if (!slug) c.name('slug', '');
        c.optionalName('description', input.description, 1000);
        return pickRole(
          await http.request('roles.create', { body: toWireRole(input, slug) }),
          'roles.create',
          { slug },
        );
      },
      update: async (roleId, input) => {
        const c = check('roles.update');
        c.id('roleId', roleId);
        c.input('input', input);
        c.name('name', input.name);
        const slug = c.optionalName('slug', input.slug) ?? slugify(input.name);
        if (!slug) c.name('slug', '');
        c.optionalName('description', input.description, 1000);
        if (input.permissionIds !== undefined) c.ids('permissionIds', input.permissionIds);
        return pickRole(
          await http.request('roles.update', { params: { roleId }, body: toWireRole(input, slug) }),
          'roles.update',
          { id: roleId, slug },
        );
      },
      remove: async (roleId) => {
        check('roles.remove').id('roleId', roleId);
        mapDeletion(await http.request('roles.remove', { params: { roleId } }), 'roles.remove');
      },
    };

    this.permissions = {
      list: async () =>
        listOf(await http.request('permissions.list'), 'permissions.list', 'permissions').map((p) =>
          mapPermission(p, 'permissions.list'),
        ),
      update: async (permissionId, input) => {
        const c = check('permissions.update');
        c.id('permissionId', permissionId);
        c.input('input', input);
        c.name('name', input.name);
        const slug = c.optionalName('slug', input.slug) ?? slugify(input.name);
        if (!slug) c.name('slug', '');
        c.optionalName('description', input.description, 1000);
        const body = await http.request('permissions.update', {
          params: { permissionId },
          body: toWirePermission(input, slug),
        });
        // The sample answers a list (copy-paste); the prose answers the permission.
        const one = Array.isArray(body)
          ? body.map((p) => mapPermission(p, 'permissions.update')).find((p) => p.id === permissionId)
          : mapPermission(body, 'permissions.update');
        if (!one) throw invalid('permissions.update', 200, 'the permission is not in the returned list');
        return one;
      },
      remove: async (permissionId) => {
        check('permissions.remove').id('permissionId', permissionId);
        mapDeletion(
          await http.request('permissions.remove', { params: { permissionId } }),
          'permissions.remove',
        );
      },
    };

    this.mfa = {
      token: async (id) => {
        check('mfa.token').identifier('identifier', id);
        return mapMfaToken(await http.request('mfa.token', { body: { identifier: id } }), 'mfa.token');
      },
      authenticators: async (mfaToken) => {
        check('mfa.authenticators').token('mfaToken', mfaToken);
        return mapMfaAuthenticators(
          await http.request('mfa.authenticators', { bearer: mfaToken }),
          'mfa.authenticators',
        );
      },
      enrollTotp: async (mfaToken) => {
        check('mfa.enrollTotp').token('mfaToken', mfaToken);
        return mapMfaEnrollment(
          await http.request('mfa.enrollTotp', { bearer: mfaToken, body: { authenticator_type: 'otp' } }),
          'mfa.enrollTotp',
        );
      },
      initiate: async (mfaToken, options = {}) => {
        const c = check('mfa.initiate');
        c.token('mfaToken', mfaToken);
        const type = c.oneOf('authenticatorType', options?.authenticatorType ?? 'otp', [
          'otp',
          'oob',
        ] as const);
        if (options?.oobChannel !== undefined)
          c.oneOf('oobChannel', options.oobChannel, ['sms', 'email'] as const);
        return mapMfaChallenge(
          await http.request('mfa.initiate', {
            bearer: mfaToken,
            body: {
              authenticator_type: type,
              ...(options?.oobChannel !== undefined && { oob_channels: options.oobChannel }),
            },
          }),
          'mfa.initiate',
        );
      },
      qrCode: async (mfaToken) => {
        check('mfa.qrCode').token('mfaToken', mfaToken);
        return mapMfaQrCode(await http.request('mfa.qrCode', { bearer: mfaToken }), 'mfa.qrCode');
      },
      validate: async (oobCode, code) => {
        const c = check('mfa.validate');
        c.token('oobCode', oobCode);
        c.code('code', code);
        return mapAuthResult(
          await http.request('mfa.validate', { body: { oob_code: oobCode, otp: code } }),
          'mfa.validate',
        );
      },
      backupCodes: async (mfaToken) => {
        check('mfa.backupCodes').token('mfaToken', mfaToken);
        return mapBackupCodes(await http.request('mfa.backupCodes', { bearer: mfaToken }), 'mfa.backupCodes');
      },
    };
  }
}

function operation(body: unknown): EzidOperationResult {
  const w = asObject(body) ?? {};
  return { status: asString(w.status), message: asString(w.message) };
}
