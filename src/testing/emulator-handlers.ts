import {
  createHash,
  createPublicKey,
  randomBytes,
  randomInt,
  randomUUID,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { EzidEndpointDefinition, EzidEndpointName } from '../client/ezid-endpoints';
import { objectId, signHs256, verifyHs256 } from './emulator-jwt';
import type { StoredFlow, StoredPasskey, StoredUser } from './emulator-store';
import type { EzidEmulator } from './ezid-emulator';

/** A parsed request, as an emulator handler sees it. */
export interface EmulatorRequest {
  readonly name: EzidEndpointName;
  readonly def: EzidEndpointDefinition;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

/** What a handler answers: a JSON value (or a string with `contentType`). */
export interface EmulatorResponse {
  status: number;
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

/** One endpoint's behaviour. Handlers never check client credentials: the router does, per the table. */
export type EmulatorHandler = (
  req: EmulatorRequest,
  emu: EzidEmulator,
) => EmulatorResponse | Promise<EmulatorResponse>;

/** The SSOJet-style error body the emulator uses (ezid-api.md §1 candidate (a); the real one is NOT FOUND). */
export function apiError(status: number, code: string, description: string): Record<string, unknown> {
  return { error: status, error_code: code, error_description: description };
}

/** EZiD's legacy error body. */
export function legacyError(reason: string): Record<string, unknown> {
  return { success: false, reason };
}

/** @internal A 200 JSON answer. */
export const ok = (body: unknown): EmulatorResponse => ({ status: 200, body });
/** @internal An API error answer. */
export const bad = (code: string, description: string, status = 400): EmulatorResponse => ({
  status,
  body: apiError(status, code, description),
});
const legacyBad = (emu: EzidEmulator, reason: string): EmulatorResponse => ({
  status: emu.options.legacyErrorStatus ?? 400,
  body: legacyError(reason),
});

/** @internal A non-empty string, or undefined. */
export const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v : undefined;
/** @internal */
export const EMAIL_RE = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;
/** @internal */
export const PHONE_RE = /^\+?[0-9]{6,15}$/;
/** @internal Wrong codes before a flow or challenge is spent. */
export const MAX_CODE_ATTEMPTS = 5;

/** @internal Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function numericCode(digits = 6): string {
  return String(randomInt(0, 10 ** digits)).padStart(digits, '0');
}

function endpointUrl(emu: EzidEmulator, name: EzidEndpointName, query: Record<string, string>): string {
  return `${emu.url}${emu.endpointPath(name)}?${new URLSearchParams(query).toString()}`;
}

function liveFlow(
  emu: EzidEmulator,
  state: string | undefined,
  kind: StoredFlow['kind'],
): StoredFlow | undefined {
  if (!state) return undefined;
  const flow = emu.store.flows.get(state);
  if (!flow || flow.kind !== kind || flow.consumed) return undefined;
  if (flow.expiresAt <= Date.now()) {
    emu.store.flows.delete(state);
    return undefined;
  }
  return flow;
}

function startFlow(
  emu: EzidEmulator,
  kind: StoredFlow['kind'],
  user: StoredUser,
  to: string,
): [string, StoredFlow] {
  const state = objectId();
  const flow: StoredFlow = {
    kind,
    userId: user.id,
    to,
    secret: kind === 'magic-link' ? randomBytes(24).toString('base64url') : numericCode(),
    expiresAt: Date.now() + emu.codeTtlSec * 1000,
    verified: false,
    consumed: false,
    attempts: 0,
  };
  emu.store.flows.set(state, flow);
  return [state, flow];
}

function deliverFlow(emu: EzidEmulator, state: string, flow: StoredFlow): void {
  if (flow.kind === 'magic-link') {
    const link = endpointUrl(emu, 'magicLink.verify', {
      client_id: emu.clientId,
      state,
      magictext: flow.secret,
    });
    emu.deliver({ to: flow.to, channel: 'email', kind: 'magic-link', link, state });
  } else {
    emu.deliver({
      to: flow.to,
      channel: flow.kind === 'sms-code' ? 'sms' : 'email',
      kind: flow.kind,
      code: flow.secret,
      state,
    });
  }
}

function resend(emu: EzidEmulator, req: EmulatorRequest, kind: StoredFlow['kind']): EmulatorResponse {
  const state = str(req.body.state);
  const flow = liveFlow(emu, state, kind);
  if (!flow || flow.verified) return bad('invalid_state', 'Invalid State ID');
  if (kind !== 'magic-link') flow.secret = numericCode(); // the previous code stops working
  flow.attempts = 0;
  flow.expiresAt = Date.now() + emu.codeTtlSec * 1000;
  deliverFlow(emu, state!, flow);
  return ok({});
}

/** `UserProfileLite` (ezid-api.md §1.1) plus `tenants`. */
/** @internal */
export function profileLite(emu: EzidEmulator, user: StoredUser): Record<string, unknown> {
  const full = emu.store.statusProfile(user);
  delete full.idp_id;
  delete full.raw_attributes;
  return full;
}

/** @internal Issues tokens and answers the flat login shape. */
export function tokenAndProfile(emu: EzidEmulator, user: StoredUser): EmulatorResponse {
  const t = emu.issueTokens(user, 'api');
  return ok({
    authenticated: true,
    access_token: t.accessToken,
    refresh_token: t.refreshToken,
    id_token: t.idToken,
    token_type: 'Bearer',
    expires_at: t.expiresAt.toISOString(),
    profile: profileLite(emu, user),
  });
}

function verifyCode(emu: EzidEmulator, req: EmulatorRequest, kind: StoredFlow['kind']): EmulatorResponse {
  const state = str(req.body.state) ?? str(req.body.state_id);
  const otp = req.body.otp === undefined ? undefined : String(req.body.otp);
  if (!state || !otp) return bad('malformed_request', 'state and otp are required');
  const flow = liveFlow(emu, state, kind);
  if (!flow) return bad('invalid_state', 'Invalid State ID');
  if (!safeEqual(otp, flow.secret)) {
    flow.attempts += 1;
    if (flow.attempts >= MAX_CODE_ATTEMPTS) flow.consumed = true;
    return bad('invalid_otp', 'Invalid OTP');
  }
  flow.consumed = true;
  const user = emu.store.users.get(flow.userId);
  if (!user) return bad('user_not_found', 'User not found', 404);
  return tokenAndProfile(emu, user);
}

/** @internal The user of a valid emulator access token in `Authorization: Bearer`. */
export function bearerUser(emu: EzidEmulator, req: EmulatorRequest): StoredUser | undefined {
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  if (!m) return undefined;
  const sub = emu.verifyOwnToken(m[1]);
  return sub ? emu.store.users.get(sub) : undefined;
}

function credentialJson(p: StoredPasskey): Record<string, unknown> {
  return {
    id: p.id,
    Name: p.name,
    SignCount: p.signCount,
    LastUsedAt: p.lastUsedAt?.toISOString() ?? '0001-01-01T00:00:00Z',
    CreatedAt: p.createdAt.toISOString(),
    UpdatedAt: p.updatedAt?.toISOString() ?? '0001-01-01T00:00:00Z',
    public_key: p.publicKey ?? '',
    attestation_type: 'none',
    aaguid: '00000000-0000-0000-0000-000000000000',
    transports: p.transports,
    backup_eligible: false,
    backup_state: false,
  };
}

function clientData(value: unknown): { type?: string; challenge?: string } | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as {
      type?: string;
      challenge?: string;
    };
  } catch {
    return undefined;
  }
}

function takeCeremony(emu: EzidEmulator, authCode: string | undefined, kind: 'login' | 'register') {
  if (!authCode) return undefined;
  const c = emu.store.ceremonies.get(authCode);
  emu.store.ceremonies.delete(authCode); // single use, whatever the outcome
  if (!c || c.kind !== kind || c.expiresAt <= Date.now()) return undefined;
  return c;
}

function legacyTokens(emu: EzidEmulator, user: StoredUser, claims: Record<string, unknown>) {
  return emu.issueTokens(user, 'legacy', { custom_claims: claims });
}

/** Handlers of the authentication half of the endpoint table. */
export const AUTH_HANDLERS: Partial<Record<EzidEndpointName, EmulatorHandler>> = {
  'magicLink.send': (req, emu) => {
    const email = str(req.body.email);
    if (!email || !EMAIL_RE.test(email)) return bad('invalid_email', 'Invalid Email Address');
    const user = emu.store.findOrCreateUser({ email }, 'MagicLink');
    const [state, flow] = startFlow(emu, 'magic-link', user, email);
    deliverFlow(emu, state, flow);
    return ok({ state });
  },
  'magicLink.resend': (req, emu) => resend(emu, req, 'magic-link'),
  'magicLink.verify': (req, emu) => {
    const state = req.query.get('state') ?? undefined;
    const magictext = req.query.get('magictext') ?? '';
    const flow = liveFlow(emu, state, 'magic-link');
    const html = (title: string) =>
      `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`;
    if (!flow || flow.verified || !safeEqual(magictext, flow.secret)) {
      return {
        status: 400,
        body: html('EZiD Emulator | Link invalid or expired'),
        contentType: 'text/html; charset=utf-8',
      };
    }
    flow.verified = true;
    return {
      status: 200,
      body: html('EZiD Emulator | Successfully verified'),
      contentType: 'text/html; charset=utf-8',
    };
  },
  'magicLink.status': (req, emu) => {
    const state = req.query.get('state') ?? undefined;
    const flow = liveFlow(emu, state, 'magic-link');
    if (!flow) return bad('invalid_state', 'Invalid State ID');
    if (!flow.verified) return ok({ authenticated: false });
    flow.consumed = true;
    const user = emu.store.users.get(flow.userId);
    if (!user) return bad('user_not_found', 'User not found', 404);
    const t = emu.issueTokens(user, 'api');
    if (emu.options.statusShape === 'oauth') {
      return ok({
        authenticated: true,
        oauth: {
          access_token: t.accessToken,
          refresh_token: t.refreshToken,
          expires_at: t.expiresAt.toISOString(),
          token_type: 'Bearer',
        },
        user: emu.store.legacyUser(user, emu.issuer),
      });
    }
    return ok({
      authenticated: true,
      access_token: t.accessToken,
      refresh_token: t.refreshToken,
      id_token: t.idToken,
      token_type: 'Bearer',
      expires_at: t.expiresAt.toISOString(),
      profile: emu.store.statusProfile(user),
    });
  },

  'emailCode.send': (req, emu) => {
    const email = str(req.body.email);
    if (!email || !EMAIL_RE.test(email)) return bad('invalid_email', 'Invalid Email Address');
    const user = emu.store.findOrCreateUser({ email }, 'MagicLink');
    const [state, flow] = startFlow(emu, 'email-code', user, email);
    deliverFlow(emu, state, flow);
    return ok({ state });
  },
  'emailCode.resend': (req, emu) => resend(emu, req, 'email-code'),
  'emailCode.verify': (req, emu) => verifyCode(emu, req, 'email-code'),

  'sms.send': (req, emu) => {
    const phone = str(req.body.phone_id) ?? str(req.body.phone);
    if (!phone || !PHONE_RE.test(phone)) return bad('invalid_phone', 'Invalid Phone Number');
    const user = emu.store.findOrCreateUser({ phone }, 'Phone');
    const [state, flow] = startFlow(emu, 'sms-code', user, phone);
    deliverFlow(emu, state, flow);
    return ok({ state, state_id: state });
  },
  'sms.resend': (req, emu) => resend(emu, req, 'sms-code'),
  'sms.verify': (req, emu) => verifyCode(emu, req, 'sms-code'),

  'passkeys.loginStart': (req, emu) => {
    const identifier = req.query.get('identifier');
    const user = identifier ? emu.store.findUser(identifier) : undefined;
    if (!user) return bad('user_not_found', 'User not found', 404);
    const authCode = objectId();
    const challenge = randomBytes(32).toString('base64url');
    emu.store.ceremonies.set(authCode, {
      kind: 'login',
      userId: user.id,
      challenge,
      expiresAt: Date.now() + emu.codeTtlSec * 1000,
    });
    const allow = [...emu.store.passkeys.values()].filter((p) => p.userId === user.id);
    return ok({
      auth_code: authCode,
      publicKey: {
        challenge,
        timeout: 300000,
        rpId: 'localhost',
        userVerification: 'preferred',
        allowCredentials: allow.map((p) => ({ type: 'public-key', id: p.id })),
      },
    });
  },
  'passkeys.loginFinish': (req, emu) => {
    const ceremony = takeCeremony(emu, req.query.get('auth_code') ?? undefined, 'login');
    if (!ceremony) return bad('invalid_auth_code', 'Invalid or expired auth_code');
    const user = emu.store.users.get(ceremony.userId);
    const identifier = req.query.get('identifier');
    if (!user || !identifier || emu.store.findUser(identifier)?.id !== user.id) {
      return bad('invalid_identifier', 'Identifier does not match the login');
    }
    const passkey = emu.store.passkeys.get(String(req.body.id ?? ''));
    if (!passkey || passkey.userId !== user.id) return bad('invalid_passkey', 'Unknown passkey', 401);
    const response = (req.body.response ?? {}) as Record<string, unknown>;
    const cd = clientData(response.clientDataJSON);
    if (!cd || cd.type !== 'webauthn.get' || cd.challenge !== ceremony.challenge) {
      return bad('invalid_passkey', 'Challenge mismatch', 401);
    }
    if (passkey.publicKey) {
      try {
        const key = createPublicKey({
          key: Buffer.from(passkey.publicKey, 'base64url'),
          format: 'der',
          type: 'spki',
        });
        const signed = Buffer.concat([
          Buffer.from(String(response.authenticatorData ?? ''), 'base64url'),
          createHash('sha256')
            .update(Buffer.from(String(response.clientDataJSON), 'base64url'))
            .digest(),
        ]);
        const valid = verify(
          'sha256',
          signed,
          key,
          Buffer.from(String(response.signature ?? ''), 'base64url'),
        );
        if (!valid) return bad('invalid_passkey', 'Invalid signature', 401);
      } catch {
        return bad('invalid_passkey', 'Invalid signature', 401);
      }
    }
    passkey.signCount += 1;
    passkey.lastUsedAt = new Date();
    return tokenAndProfile(emu, user);
  },
  'passkeys.registerStart': (req, emu) => {
    const user = bearerUser(emu, req);
    if (!user) return bad('access_token_required', 'Access Token Required', 401);
    const authCode = objectId();
    const challenge = randomBytes(32).toString('base64url');
    emu.store.ceremonies.set(authCode, {
      kind: 'register',
      userId: user.id,
      challenge,
      expiresAt: Date.now() + emu.codeTtlSec * 1000,
    });
    return ok({
      auth_code: authCode,
      publicKey: {
        rp: { name: 'EZiD Emulator', id: 'localhost' },
        user: {
          name: user.email,
          displayName: [user.firstName, user.lastName].filter(Boolean).join(' ') || user.email,
          id: Buffer.from(user.id).toString('base64url'),
        },
        challenge,
        pubKeyCredParams: [-7, -35, -36, -257, -258, -259, -37, -38, -39, -8].map((alg) => ({
          type: 'public-key',
          alg,
        })),
        timeout: 300000,
        authenticatorSelection: {
          authenticatorAttachment: 'platform',
          requireResidentKey: true,
          residentKey: 'required',
          userVerification: 'preferred',
        },
        attestation: 'none',
      },
    });
  },
  'passkeys.registerFinish': (req, emu) => {
    const user = bearerUser(emu, req);
    if (!user) return bad('access_token_required', 'Access Token Required', 401);
    const ceremony = takeCeremony(emu, req.query.get('auth_code') ?? undefined, 'register');
    if (!ceremony || ceremony.userId !== user.id)
      return bad('invalid_auth_code', 'Invalid or expired auth_code');
    const response = (req.body.response ?? {}) as Record<string, unknown>;
    const cd = clientData(response.clientDataJSON);
    const id = str(req.body.id);
    if (!id || !cd || cd.type !== 'webauthn.create' || cd.challenge !== ceremony.challenge) {
      return bad('invalid_passkey', 'Invalid attestation');
    }
    if (emu.store.passkeys.has(id)) return bad('passkey_exists', 'Passkey already registered', 409);
    const passkey: StoredPasskey = {
      id,
      userId: user.id,
      name: null,
      publicKey: str(response.publicKey),
      signCount: 0,
      createdAt: new Date(),
      updatedAt: null,
      lastUsedAt: null,
      transports: Array.isArray(response.transports) ? (response.transports as string[]) : ['internal'],
    };
    emu.store.passkeys.set(id, passkey);
    return ok(credentialJson(passkey));
  },
  'passkeys.status': (req, emu) => {
    const identifier = req.query.get('identifier');
    const user = identifier ? emu.store.findUser(identifier) : undefined;
    if (!user) return bad('user_not_found', 'User not found', 404);
    const has = [...emu.store.passkeys.values()].some((p) => p.userId === user.id);
    return ok({ status: has, expires_at: null });
  },
  'passkeys.list': (req, emu) => {
    const user = bearerUser(emu, req);
    if (!user) return bad('access_token_required', 'Access Token Required', 401);
    return ok([...emu.store.passkeys.values()].filter((p) => p.userId === user.id).map(credentialJson));
  },
  'passkeys.rename': (req, emu) => {
    const user = bearerUser(emu, req);
    if (!user) return bad('access_token_required', 'Access Token Required', 401);
    const passkey = emu.store.passkeys.get(req.params.passkeyId);
    if (!passkey || passkey.userId !== user.id) return bad('not_found', 'Resource Not Found', 404);
    const name = str(req.body.name);
    if (!name) return bad('malformed_request', 'name is required');
    passkey.name = name;
    passkey.updatedAt = new Date();
    return ok({ status: 'success', message: 'Passkey name updated' });
  },
  'passkeys.delete': (req, emu) => {
    const user = bearerUser(emu, req);
    if (!user) return bad('access_token_required', 'Access Token Required', 401);
    const passkey = emu.store.passkeys.get(req.params.passkeyId);
    if (!passkey || passkey.userId !== user.id) return bad('not_found', 'Resource Not Found', 404);
    emu.store.passkeys.delete(passkey.id);
    return ok({ status: 'success', message: 'Passkey deleted' });
  },

  // Response shape NOT FOUND upstream: the emulator answers `{ identifier, exists, user_id, last_login_at }`.
  'auth.status': (req, emu) => {
    const identifier = req.query.get('identifier');
    if (!identifier) return bad('malformed_request', 'identifier is required');
    const user = emu.store.findUser(identifier);
    return ok({
      identifier,
      exists: !!user,
      user_id: user?.id ?? null,
      last_login_at: user?.lastLoginAt?.toISOString() ?? null,
    });
  },

  'tokens.refresh': (req, emu) => {
    const token = req.query.get('refresh_token');
    const entry = token ? emu.store.refreshTokens.get(token) : undefined;
    if (token) emu.store.refreshTokens.delete(token); // single use
    if (!entry || entry.family !== 'api' || entry.expiresAt <= Date.now()) {
      return bad('invalid_refresh_token', 'Invalid Refresh Token', 401);
    }
    const user = emu.store.users.get(entry.userId);
    if (!user) return bad('user_not_found', 'User not found', 404);
    const t = emu.issueTokens(user, 'api');
    return ok({
      authenticated: true,
      oauth: {
        access_token: t.accessToken,
        refresh_token: t.refreshToken,
        expires_at: t.expiresAt.toISOString(),
        token_type: 'Bearer',
      },
      user: emu.store.legacyUser(user, emu.issuer),
    });
  },
  'tokens.byAuthCode': (req, emu) => {
    const code = req.query.get('code');
    const state = req.query.get('state');
    const entry = code ? emu.store.authCodes.get(code) : undefined;
    if (code) emu.store.authCodes.delete(code);
    if (!entry || entry.expiresAt <= Date.now() || !state || entry.state !== state) {
      return bad('invalid_grant', 'Invalid Auth Code', 400);
    }
    const user = emu.store.users.get(entry.userId);
    if (!user) return bad('user_not_found', 'User not found', 404);
    const t = emu.issueTokens(user, 'api');
    return ok({
      access_token: t.accessToken,
      token_type: 'Bearer',
      expires_in: emu.accessTokenTtlSec,
      refresh_token: t.refreshToken,
      scope: 'openid profile email',
    });
  },

  'legacy.emailLinkSend': (req, emu) => {
    const email = str(req.body.email);
    if (!email || !EMAIL_RE.test(email)) return legacyBad(emu, 'Invalid Email');
    const base = str(req.body.base_url_email_link) ?? 'http://localhost:3000';
    const expiryMs = Number(req.body.expiry ?? 300000);
    if (!Number.isFinite(expiryMs) || expiryMs <= 0) return legacyBad(emu, 'Invalid expiry');
    const claims = (req.body.claims && typeof req.body.claims === 'object' ? req.body.claims : {}) as Record<
      string,
      unknown
    >;
    const uuid = randomUUID();
    emu.store.legacyLinks.set(uuid, { email, claims, used: false });
    const iat = Math.floor(Date.now() / 1000);
    const code = signHs256({ uuid, iat, exp: iat + Math.floor(expiryMs / 1000) }, emu.store.linkSecret);
    const link = new URL(base);
    link.searchParams.set('code', code);
    link.searchParams.set('callback_url', str(req.body.callback_url) ?? base);
    const hint = str(req.body.login_hint);
    if (hint) link.searchParams.set('login_hint', hint);
    if (req.body.push_email !== 'No') {
      emu.deliver({ to: email, channel: 'email', kind: 'legacy-email-link', link: link.toString(), code });
    }
    return ok({ success: true, email_link: link.toString() });
  },
  'legacy.emailLinkVerify': (req, emu) => {
    const code = str(req.body.auth_code);
    const payload = code ? verifyHs256(code, emu.store.linkSecret, Math.floor(Date.now() / 1000)) : undefined;
    const pending = payload ? emu.store.legacyLinks.get(String(payload.uuid)) : undefined;
    if (!pending || pending.used) return legacyBad(emu, 'Invalid or expired auth_code');
    pending.used = true;
    const user = emu.store.findOrCreateUser({ email: pending.email }, 'MagicLink');
    const t = legacyTokens(emu, user, pending.claims);
    return ok({
      success: true,
      id_token: t.idToken,
      access_token: t.accessToken,
      refresh_token: t.refreshToken,
    });
  },
  'legacy.emailLinkRefresh': (req, emu) => {
    const token = str(req.body.refresh_token);
    const entry = token ? emu.store.refreshTokens.get(token) : undefined;
    if (token) emu.store.refreshTokens.delete(token);
    if (!entry || entry.family !== 'legacy' || entry.expiresAt <= Date.now()) {
      return legacyBad(emu, 'Invalid refresh token');
    }
    const user = emu.store.users.get(entry.userId);
    if (!user) return legacyBad(emu, 'User not found');
    const t = legacyTokens(emu, user, {});
    return ok({
      success: true,
      access_token: t.accessToken,
      id_token: t.idToken,
      refresh_token: t.refreshToken,
    });
  },
  'legacy.emailLinkGetUsers': (_req, emu) =>
    ok({
      users: [...emu.store.users.values()]
        .filter((u) => u.email)
        .map((u) => ({ email: u.email, verified_email: u.emailVerified ? 'Yes' : 'No' })),
    }),
  'legacy.otpSend': (req, emu) => {
    const digits = Number(req.body.digits ?? '6');
    if (!Number.isInteger(digits) || digits < 4 || digits > 6) return legacyBad(emu, 'digits must be 4 to 6');
    const target = str(req.body.target);
    if (!target || !PHONE_RE.test(target)) return legacyBad(emu, 'Invalid target');
    const expiryMin = Number(req.body.expiry ?? '5');
    if (!Number.isFinite(expiryMin) || expiryMin <= 0) return legacyBad(emu, 'Invalid expiry');
    const claims = (req.body.claims && typeof req.body.claims === 'object' ? req.body.claims : {}) as Record<
      string,
      unknown
    >;
    const otp = String(randomInt(10 ** (digits - 1), 10 ** digits));
    const loginId = randomUUID();
    emu.store.legacyOtps.set(loginId, {
      otp,
      target,
      claims,
      expiresAt: Date.now() + expiryMin * 60_000,
      used: false,
    });
    emu.deliver({ to: target, channel: 'sms', kind: 'sms-code', code: otp, state: loginId });
    return ok({ otp: Number(otp), login_id: loginId });
  },
  'legacy.otpVerify': (req, emu) => {
    const loginId = str(req.body.login_id);
    const otp = req.body.otp === undefined ? '' : String(req.body.otp);
    const pending = loginId ? emu.store.legacyOtps.get(loginId) : undefined;
    if (!pending || pending.used || pending.expiresAt <= Date.now())
      return legacyBad(emu, 'Invalid or expired login_id');
    if (!safeEqual(otp, pending.otp)) return legacyBad(emu, 'Invalid OTP');
    pending.used = true;
    const user = emu.store.findOrCreateUser({ phone: pending.target }, 'Phone');
    const t = legacyTokens(emu, user, pending.claims);
    // ezid-api.md §3.5: casing conflict, so both spellings.
    return ok({
      success: true,
      access_token: t.accessToken,
      id_token: t.idToken,
      refresh_token: t.refreshToken,
      accessToken: t.accessToken,
      idToken: t.idToken,
      refreshToken: t.refreshToken,
    });
  },
};
