import type { EzidTenant } from '../interfaces/ezid-user.interface';

/** Tokens handed out by EZiD, whichever wire shape carried them. */
export interface EzidTokenSet {
  readonly accessToken: string;
  /** `'Bearer'` unless EZiD says otherwise. */
  readonly tokenType: string;
  /** Single use: always store the new one after a refresh. */
  readonly refreshToken?: string;
  readonly idToken?: string;
  /** Absolute expiry (`expires_at`), or computed from `expires_in`. */
  readonly expiresAt?: Date;
  /** `expires_in` seconds, when EZiD sends it (code exchange). */
  readonly expiresIn?: number;
  readonly scope?: string;
}

/** A user profile as EZiD returns it with a login (`profile{}` or `user{}`), in camelCase. */
export interface EzidProfile {
  readonly id: string;
  readonly email?: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly accountId?: string;
  /** E.g. `'MagicLink'`, `'ManualUser'`. */
  readonly connectionType?: string;
  readonly idpId?: string;
  readonly isActive?: boolean;
  readonly createdAt?: Date;
  readonly modifiedAt?: Date;
  readonly lastLoginAt?: Date;
  /** The upstream IdP's attributes (e.g. Google's), as sent. */
  readonly rawAttributes?: Readonly<Record<string, unknown>>;
  /** The user's tenants; `[]` when EZiD sends none. Role `permissions: null` becomes `[]`. */
  readonly tenants: readonly EzidTenant[];
}

/**
 * The result of a login step (magic-link status, code verify, passkey login, refresh). Accepts the
 * flat Status API shape (`access_token` + `profile`) and the `oauth{}` / `user{}` shape alike.
 */
export interface EzidAuthResult {
  /** `false` while a magic link has not been clicked yet. */
  readonly authenticated: boolean;
  /** Present when `authenticated`. */
  readonly tokens?: EzidTokenSet;
  readonly profile?: EzidProfile;
}

/** A started passwordless flow: the `state` used by resend, status and verify. */
export interface EzidFlowStart {
  readonly state: string;
}

/** A passkey ceremony challenge: pass `publicKey` to `navigator.credentials.get/create`, keep `authCode`. */
export interface EzidPasskeyChallenge {
  readonly authCode: string;
  /** WebAuthn `PublicKeyCredentialRequestOptions` / `CreationOptions`, as JSON (base64url fields). */
  readonly publicKey: Readonly<Record<string, unknown>>;
}

/** A registered passkey. */
export interface EzidPasskeyCredential {
  readonly id: string;
  readonly name: string | null;
  readonly signCount: number;
  readonly createdAt?: Date;
  readonly updatedAt?: Date;
  readonly lastUsedAt?: Date;
  /** base64url public key, as EZiD stores it. */
  readonly publicKey?: string;
  readonly attestationType?: string;
  readonly aaguid?: string;
  readonly transports: readonly string[];
  readonly backupEligible?: boolean;
  readonly backupState?: boolean;
}

/** `passkeys.status()`: EZiD documents only `{ status, expires_at }` (weakly). */
export interface EzidPasskeyStatus {
  /** `true`/`false`, or EZiD's status string. */
  readonly status: boolean | string | null;
  readonly expiresAt?: Date;
}

/** `{ status, message }` answers (passkey rename/delete). */
export interface EzidOperationResult {
  readonly status?: string;
  readonly message?: string;
}

/** `auth.status()`: the response shape is NOT FOUND upstream; known fields are mapped, the rest kept in `raw`. */
export interface EzidAuthStatus {
  readonly identifier?: string;
  readonly exists?: boolean;
  readonly userId?: string;
  readonly lastLoginAt?: Date;
  /** The body as received. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Tokens of the legacy `api.ezid.io` endpoints (`access_token` or `accessToken` on the wire). */
export interface EzidLegacyTokens {
  readonly accessToken: string;
  readonly idToken?: string;
  /** Single use: always store the new one after a refresh. */
  readonly refreshToken?: string;
}

/** Options of `legacy.emailLinkSend()`. */
export interface EzidLegacyEmailLinkOptions {
  email: string;
  /** The page the link opens. */
  baseUrlEmailLink: string;
  /** Link lifetime in ms. EZiD's default is 300000. */
  expiryMs?: number;
  /** `false`: EZiD does not email the link, it only returns it. Default `true`. */
  pushEmail?: boolean;
  callbackUrl?: string;
  loginHint?: string;
  /** Copied into `access_token.custom_claims`. */
  claims?: Record<string, unknown>;
}

/** Options of `legacy.otpSend()`. */
export interface EzidLegacyOtpOptions {
  /** Phone number. */
  target: string;
  /** 4 to 6. Default 6. */
  digits?: number;
  /** OTP lifetime in minutes. EZiD's default is 5. */
  expiryMinutes?: number;
  /** Default `'phone'`. */
  channel?: string;
  claims?: Record<string, unknown>;
}

/** `legacy.otpSend()`: EZiD returns the OTP itself so the caller can deliver it. Treat `otp` as a secret. */
export interface EzidLegacyOtp {
  readonly otp: string;
  readonly loginId: string;
}

/** One user of `legacy.emailLinkGetUsers()`. */
export interface EzidLegacyUser {
  readonly email: string;
  readonly verifiedEmail: boolean;
}

/**
 * A user of the management API (`UserRecord`, or the lighter `UserProfileLite` of `users.getByEmail()`,
 * which leaves the record-only fields undefined).
 */
export interface EzidUserRecord {
  readonly id: string;
  readonly email?: string;
  readonly firstName?: string;
  readonly lastName?: string;
  /** E.164 phone number (`phone_id` on the wire), when set. */
  readonly phone?: string;
  readonly accountId?: string;
  /** The organization the user was created in; EZiD's "none" (`000000000000000000000000`) becomes undefined. */
  readonly organizationId?: string;
  readonly connectionId?: string;
  /** E.g. `'ManualUser'`, `'MagicLink'` (profile-lite only). */
  readonly connectionType?: string;
  readonly emailVerified?: boolean;
  readonly isActive?: boolean;
  readonly createdAt?: Date;
  readonly modifiedAt?: Date;
  readonly lastLoginAt?: Date;
  /** Ids of the roles the record lists (`roles`, ids or role objects on the wire); `[]` for `null`. */
  readonly roleIds: readonly string[];
  /** Free-form groups, as sent; `[]` for `null`. */
  readonly groups: readonly unknown[];
  /** The user's free-form attributes, as sent (keys are the user's own, not re-cased). */
  readonly rawAttributes?: Readonly<Record<string, unknown>>;
  /** The user's tenants when the record carries them; `[]` otherwise. */
  readonly tenants: readonly EzidTenant[];
}

/** Input of `users.create()`. */
export interface EzidCreateUserInput {
  email: string;
  firstName: string;
  lastName: string;
  /** E.164, e.g. `'+15551234567'`. Sent as `phone_id` (INFERRED). */
  phone?: string;
}

/** Input of `users.update()`: EZiD requires email, first and last name on every update. */
export interface EzidUpdateUserInput {
  email: string;
  firstName: string;
  lastName: string;
  /** E.164. Sent as `phone_id` (INFERRED). */
  phone?: string;
  groups?: Record<string, unknown>;
  /** Replaces the user's free-form attributes. */
  rawAttributes?: Record<string, unknown>;
}

/** Paging of `users.list()` (the wire parameter names are NOT FOUND upstream: `page`, `limit`). */
export interface EzidPageOptions {
  /** 1-based. Default 1. */
  page?: number;
  /** Items per page, 1 to 500. Default 100. */
  limit?: number;
}

/** A role held in one organization, in `users.getOrganizations()`: permissions by name. */
export interface EzidOrganizationRole {
  readonly id: string;
  readonly name: string;
  /** Permission names; `[]` for EZiD's `null`. */
  readonly permissions: readonly string[];
}

/** One organization of `users.getOrganizations()` with the roles the user holds there. */
export interface EzidUserOrganization {
  readonly id: string;
  readonly name: string;
  readonly whiteListDomains: readonly string[];
  readonly allowProfilesOutsideOrganization: boolean;
  readonly domain?: string;
  readonly workspaceName?: string;
  /** `is_active` parsed strictly: `true` only for JSON `true`; absent when EZiD omits it. */
  readonly isActive?: boolean;
  /** Membership status as EZiD sends it here (`'active'`); `'Verified'` in tokens. */
  readonly status: string;
  readonly roles: readonly EzidOrganizationRole[];
}

/**
 * `users.getOrganizations()`: the user's organizations and roles. This is what the authorization guard
 * reads with `profile.source: 'api'` (each organization becomes an `EzidTenant`; `status: 'active'` with
 * `isActive: true` counts as verified, and `isActive` other than `true` never does).
 */
export interface EzidUserOrganizations {
  readonly userId: string;
  readonly email?: string;
  readonly organizations: readonly EzidUserOrganization[];
}

/** One login of `users.getLoginLogs()`. */
export interface EzidLoginLog {
  readonly ipAddress?: string;
  readonly country?: string;
  readonly city?: string;
  readonly userAgent?: string;
  /** The network or client name EZiD attributes the login to (e.g. `'Amazon CloudFront'`). */
  readonly name?: string;
  readonly os?: string;
  readonly device?: string;
  readonly createdAt?: Date;
}

/** An organization (tenant) of the management API. */
export interface EzidOrganization {
  readonly id: string;
  readonly name: string;
  /** `WhiteListDomains` (or `WhiteListDomain`, the docs conflict) on the wire. */
  readonly whiteListDomains: readonly string[];
  readonly allowProfilesOutsideOrganization: boolean;
  /** A secret-like token for the organization's SSO connection; do not log it. */
  readonly ssoConnectionToken?: string;
  readonly domain?: string;
  readonly workspaceName?: string;
  readonly isActive?: boolean;
  readonly address?: string;
  readonly website?: string;
  readonly timeZone?: string;
  readonly currency?: string;
}

/** Input of `organizations.add()`. */
export interface EzidCreateOrganizationInput {
  name: string;
  /** Email domains whose users may join, e.g. `['example.com']`. */
  whiteListDomains?: string[];
  allowProfilesOutsideOrganization?: boolean;
}

/** Input of `organizations.update()` (`Name` is required by EZiD). */
export interface EzidUpdateOrganizationInput {
  name: string;
  whiteListDomains?: string[];
  address?: string;
  website?: string;
  timeZone?: string;
  currency?: string;
}

/** A login-page connection of the workspace configuration. */
export interface EzidConfigConnection {
  readonly provider: string;
  readonly connectionId?: string;
  readonly isSsoConnection: boolean;
  readonly isOauthConnection: boolean;
}

/** Branding of the workspace configuration (known fields camelCased; free-form styles deep-camelCased). */
export interface EzidConfigBranding {
  /** Parsed when EZiD sends it as a JSON-encoded string (configuration by domain); deep-camelCased. */
  readonly brandingSchema?: Readonly<Record<string, unknown>>;
  readonly brand?: string;
  readonly signature?: string;
  readonly btnColor?: string;
  readonly textColor?: string;
  readonly background?: string;
  readonly backgroundImage?: string;
  readonly loginBoxColor?: string;
  readonly brandLogo?: string;
  readonly favicon?: string;
  readonly font?: { readonly url?: string; readonly family?: string };
  readonly lang?: string;
  readonly whiteLabel?: boolean;
  readonly pageTitle?: string;
}

/** The workspace configuration (`organizations.configByClientId()` / `configByDomain()`). */
export interface EzidConfig {
  readonly id: string;
  readonly name?: string;
  readonly clientId?: string;
  readonly branding: EzidConfigBranding;
  readonly connections: readonly EzidConfigConnection[];
  readonly defaultRedirectUrl?: string;
  readonly authConfig: { readonly webauthn: boolean; readonly passkeyAuth: boolean };
  /** Login-page texts, deep-camelCased (`isoCode`, `subHeading`, `magicOtp.titleText`...). */
  readonly localization?: Readonly<Record<string, unknown>>;
}

/** A role of the roles API. */
export interface EzidRoleDefinition {
  readonly id: string;
  readonly name: string;
  readonly slug?: string;
  readonly description?: string;
  /** Ids of the role's permissions; `[]` for EZiD's `null`. */
  readonly permissionIds: readonly string[];
  readonly isActive?: boolean;
  readonly isDeleted?: boolean;
}

/** Input of `roles.create()` (all three are required by EZiD; `slug` defaults to the slugified name). */
export interface EzidCreateRoleInput {
  name: string;
  slug?: string;
  description?: string;
}

/** Input of `roles.update()`: `permissionIds` replaces the role's permissions (how permissions are attached). */
export interface EzidUpdateRoleInput {
  name: string;
  slug?: string;
  description?: string;
  permissionIds?: string[];
}

/** A permission of the permissions API. */
export interface EzidPermissionDefinition {
  readonly id: string;
  readonly name: string;
  readonly slug?: string;
  readonly description?: string;
  readonly isActive?: boolean;
  readonly isDeleted?: boolean;
}

/** Input of `permissions.update()`. */
export interface EzidUpdatePermissionInput {
  name: string;
  slug?: string;
  description?: string;
}

/** `mfa.token()`: the MFA token that authorises the other MFA calls of one user. Treat as a secret. */
export interface EzidMfaToken {
  readonly mfaToken: string;
  readonly expiresAt?: Date;
}

/** One MFA authenticator of a user. */
export interface EzidMfaAuthenticator {
  readonly id: string;
  /** `'otp'` (TOTP app), `'oob'` (SMS/email), `'recovery-code'`. */
  readonly authenticatorType: string;
  /** `false` until a first code validates. */
  readonly active: boolean;
  readonly oobChannel?: string;
  readonly createdAt?: Date;
}

/** `mfa.enrollTotp()`: the TOTP secret for the user's authenticator app. Never log `secret` or `uri`. */
export interface EzidMfaTotpEnrollment {
  readonly authenticatorId?: string;
  /** Base32 secret (RFC 6238). */
  readonly secret: string;
  /** The `otpauth://totp/...` URI (the QR code's content). */
  readonly uri: string;
}

/** `mfa.initiate()`: the challenge to answer with `mfa.validate()`. */
export interface EzidMfaChallenge {
  readonly challengeType: string;
  /** Single-use reference of the challenge. Treat as a secret. */
  readonly oobCode: string;
}

/** `mfa.qrCode()`: a PNG of the otpauth URI. */
export interface EzidMfaQrCode {
  readonly png: Buffer;
  /** `data:image/png;base64,...`, ready for an `<img src>`. */
  readonly dataUrl: string;
}
