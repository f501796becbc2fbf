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
