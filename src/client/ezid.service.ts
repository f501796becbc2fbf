import { Injectable } from '@nestjs/common';
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
  mapLegacyTokens,
  mapPasskeyChallenge,
  mapPasskeyCredential,
  mapRequiredTokens,
  mapState,
} from './ezid-wire.mapper';
import type {
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

  constructor(@InjectEzidOptions() options: ResolvedEzidOptions) {
    const http = (this.http = new EzidHttpClient(options));

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
        const body = await http.request('passkeys.list', { bearer: userAccessToken });
        const list = Array.isArray(body) ? body : asObject(body)?.credentials;
        if (!Array.isArray(list)) throw invalid('passkeys.list', 200, 'expected an array of credentials');
        return list.map((c) => mapPasskeyCredential(c, 'passkeys.list'));
      },
      rename: async (userAccessToken, passkeyId, name) =>
        operation(
          await http.request('passkeys.rename', {
            bearer: userAccessToken,
            params: { passkeyId },
            body: { name },
          }),
        ),
      delete: async (userAccessToken, passkeyId) =>
        operation(await http.request('passkeys.delete', { bearer: userAccessToken, params: { passkeyId } })),
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
  }
}

function operation(body: unknown): EzidOperationResult {
  const w = asObject(body) ?? {};
  return { status: asString(w.status), message: asString(w.message) };
}
