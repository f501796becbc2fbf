import { EzidApiError, EzidService } from '../../src/client';
import { EMULATOR_IDS, EzidEmulator, TestPasskeyAuthenticator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  decodeJwt,
  rejectionOf,
  serviceFor,
  verifiesAgainstJwks,
} from './client-test.helpers';

describe('EzidService authentication endpoints against the emulator', () => {
  let emulator: EzidEmulator;
  let ezid: EzidService;

  beforeAll(async () => {
    emulator = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    ezid = serviceFor(emulator);
  });
  afterAll(() => emulator.stop());
  beforeEach(() => {
    emulator.clearFaults();
    emulator.resetCounters();
    emulator.outbox.clear();
  });

  async function expectApiError(p: Promise<unknown>, endpoint: string, status: number, code?: string) {
    const err = await rejectionOf(p);
    expect(err).toBeInstanceOf(EzidApiError);
    expect(err).toMatchObject({ endpoint, status, ...(code && { code }) });
    return err as EzidApiError;
  }

  describe('magic link', () => {
    it('full round trip: send -> link from the outbox -> status -> tokens that verify against the JWKS', async () => {
      const { state } = await ezid.magicLink.send('demo@example.com');
      expect(state).toMatch(/^[0-9a-f]{24}$/);
      expect(await ezid.magicLink.status(state)).toEqual({ authenticated: false, profile: undefined });

      const message = emulator.outbox.last('demo@example.com')!;
      expect(message).toMatchObject({ kind: 'magic-link', channel: 'email', state });
      const magictext = new URL(message.link!).searchParams.get('magictext')!;
      expect(message.link).toBe(ezid.magicLink.verifyUrl(state, magictext));
      const click = await fetch(message.link!);
      expect(click.status).toBe(200);
      expect(await click.text()).toContain('Successfully verified');

      const result = await ezid.magicLink.status(state);
      expect(result.authenticated).toBe(true);
      expect(result.tokens).toMatchObject({ tokenType: 'Bearer' });
      expect(result.tokens!.expiresAt!.getTime()).toBeGreaterThan(Date.now());
      expect(result.profile).toMatchObject({
        id: EMULATOR_IDS.demoUser,
        email: 'demo@example.com',
        firstName: 'Demo',
        tenants: [
          { id: EMULATOR_IDS.tenant1, name: 'org1', status: 'Verified', roles: [{ name: 'Admin' }] },
          {
            id: EMULATOR_IDS.tenant2,
            name: 'org2',
            status: 'Verified',
            roles: [{ name: 'Member', permissions: ['Team View'] }],
          },
        ],
      });
      expect(await verifiesAgainstJwks(emulator, result.tokens!.accessToken)).toBe(true);
      expect(await verifiesAgainstJwks(emulator, result.tokens!.idToken!)).toBe(true);
      expect(decodeJwt(result.tokens!.accessToken).payload).toMatchObject({
        iss: emulator.issuer,
        sub: EMULATOR_IDS.demoUser,
        email: 'demo@example.com',
      });

      // The state is single use, and so is the link.
      await expectApiError(ezid.magicLink.status(state), 'magicLink.status', 400, 'invalid_state');
      expect((await fetch(message.link!)).status).toBe(400);
      expect(emulator.requestCount('magicLink.status')).toBe(3);
      expect(emulator.requestCount('magicLink.send')).toBe(1);
    });

    it('resend delivers the link again; a wrong magictext does not verify', async () => {
      const { state } = await ezid.magicLink.send('alice@example.com');
      await ezid.magicLink.resend(state);
      expect(emulator.outbox.all().filter((m) => m.to === 'alice@example.com')).toHaveLength(2);
      expect((await fetch(ezid.magicLink.verifyUrl(state, 'wrong'))).status).toBe(400);
      expect((await ezid.magicLink.status(state)).authenticated).toBe(false);
    });

    it('errors: invalid email on send, unknown state on resend and status', async () => {
      await expectApiError(ezid.magicLink.send('not-an-email'), 'magicLink.send', 400, 'invalid_email');
      await expectApiError(ezid.magicLink.resend('0'.repeat(24)), 'magicLink.resend', 400, 'invalid_state');
      await expectApiError(ezid.magicLink.status('0'.repeat(24)), 'magicLink.status', 400, 'invalid_state');
    });

    it('accepts the oauth{} / user{} status shape as well', async () => {
      const other = await EzidEmulator.start({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        statusShape: 'oauth',
      });
      try {
        const svc = serviceFor(other);
        const { state } = await svc.magicLink.send('demo@example.com');
        await fetch(other.outbox.last('demo@example.com')!.link!);
        const result = await svc.magicLink.status(state);
        expect(result.authenticated).toBe(true);
        expect(result.tokens!.refreshToken).toBeDefined();
        expect(result.profile).toMatchObject({
          id: EMULATOR_IDS.demoUser,
          email: 'demo@example.com',
          tenants: [],
        });
      } finally {
        await other.stop();
      }
    });

    it('expired states stop working', async () => {
      const other = await EzidEmulator.start({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        codeTtlSec: 0.05,
      });
      try {
        const svc = serviceFor(other);
        const { state } = await svc.magicLink.send('demo@example.com');
        await new Promise((r) => setTimeout(r, 80));
        expect((await fetch(other.outbox.last('demo@example.com')!.link!)).status).toBe(400);
        await expectApiError(svc.magicLink.status(state), 'magicLink.status', 400, 'invalid_state');
      } finally {
        await other.stop();
      }
    });
  });

  describe('email code', () => {
    it('send -> code from the outbox -> verify; single use; resend replaces the code', async () => {
      const { state } = await ezid.emailCode.send('demo@example.com');
      const first = emulator.outbox.last('demo@example.com')!.code!;
      expect(first).toMatch(/^\d{6}$/);
      await ezid.emailCode.resend(state);
      const second = emulator.outbox.last('demo@example.com')!.code!;
      if (first !== second) {
        await expectApiError(ezid.emailCode.verify(state, first), 'emailCode.verify', 400, 'invalid_otp');
      }
      const result = await ezid.emailCode.verify(state, second);
      expect(result.authenticated).toBe(true);
      expect(result.tokens!.refreshToken).toBeDefined();
      expect(result.profile!.id).toBe(EMULATOR_IDS.demoUser);
      expect(await verifiesAgainstJwks(emulator, result.tokens!.accessToken)).toBe(true);
      await expectApiError(ezid.emailCode.verify(state, second), 'emailCode.verify', 400, 'invalid_state');
    });

    it('errors: wrong code, too many attempts, bad email, unknown state', async () => {
      const { state } = await ezid.emailCode.send('alice@example.com');
      const code = emulator.outbox.last('alice@example.com')!.code!;
      const wrong = code === '000000' ? '000001' : '000000';
      for (let i = 0; i < 5; i++) {
        await expectApiError(ezid.emailCode.verify(state, wrong), 'emailCode.verify', 400, 'invalid_otp');
      }
      await expectApiError(ezid.emailCode.verify(state, code), 'emailCode.verify', 400, 'invalid_state');
      await expectApiError(ezid.emailCode.send('x'), 'emailCode.send', 400, 'invalid_email');
      await expectApiError(ezid.emailCode.resend('f'.repeat(24)), 'emailCode.resend', 400, 'invalid_state');
    });
  });

  describe('SMS code', () => {
    it('send -> SMS from the outbox -> verify', async () => {
      const { state } = await ezid.sms.send('+15550000001');
      await ezid.sms.resend(state);
      const sms = emulator.outbox.last('+15550000001')!;
      expect(sms).toMatchObject({ channel: 'sms', kind: 'sms-code', state });
      const result = await ezid.sms.verify(state, sms.code!);
      expect(result.profile!.id).toBe(EMULATOR_IDS.demoUser);
      expect(await verifiesAgainstJwks(emulator, result.tokens!.accessToken)).toBe(true);
    });

    it('errors: bad phone, wrong code, unknown state', async () => {
      await expectApiError(ezid.sms.send('call me'), 'sms.send', 400, 'invalid_phone');
      const { state } = await ezid.sms.send('+15550000002');
      const code = emulator.outbox.last('+15550000002')!.code!;
      await expectApiError(
        ezid.sms.verify(state, code === '123456' ? '654321' : '123456'),
        'sms.verify',
        400,
        'invalid_otp',
      );
      await expectApiError(ezid.sms.resend('a'.repeat(24)), 'sms.resend', 400, 'invalid_state');
    });
  });

  describe('passkeys', () => {
    it('register, list, rename, status, log in with the passkey, delete', async () => {
      const authenticator = new TestPasskeyAuthenticator();
      const userToken = emulator.mintAccessToken('bob@example.com');

      const reg = await ezid.passkeys.registerStart(userToken);
      expect(reg.authCode).toMatch(/^[0-9a-f]{24}$/);
      expect(reg.publicKey).toMatchObject({ rp: { id: 'localhost' }, attestation: 'none' });
      const credential = await ezid.passkeys.registerFinish(
        userToken,
        reg.authCode,
        authenticator.create(reg.publicKey),
      );
      expect(credential).toMatchObject({ name: null, signCount: 0, transports: ['internal'] });

      expect(await ezid.passkeys.status('bob@example.com')).toEqual({ status: true, expiresAt: undefined });
      await expect(ezid.passkeys.rename(userToken, credential.id, 'Laptop')).resolves.toEqual({
        status: 'success',
        message: 'Passkey name updated',
      });
      expect(await ezid.passkeys.list(userToken)).toEqual([
        expect.objectContaining({ id: credential.id, name: 'Laptop' }),
      ]);

      const login = await ezid.passkeys.loginStart('bob@example.com');
      const result = await ezid.passkeys.loginFinish(
        login.authCode,
        'bob@example.com',
        authenticator.get(login.publicKey),
      );
      expect(result.authenticated).toBe(true);
      expect(result.profile!.id).toBe(EMULATOR_IDS.bob);
      expect(await verifiesAgainstJwks(emulator, result.tokens!.accessToken)).toBe(true);
      // The auth_code is single use.
      await expectApiError(
        ezid.passkeys.loginFinish(login.authCode, 'bob@example.com', authenticator.get(login.publicKey)),
        'passkeys.loginFinish',
        400,
        'invalid_auth_code',
      );

      await ezid.passkeys.delete(userToken, credential.id);
      expect(await ezid.passkeys.list(userToken)).toEqual([]);
      expect((await ezid.passkeys.status('bob@example.com')).status).toBe(false);
    });

    it('errors: forged assertion, no or bad user token, unknown passkey, unknown user', async () => {
      const authenticator = new TestPasskeyAuthenticator();
      const forger = new TestPasskeyAuthenticator();
      const userToken = emulator.mintAccessToken('alice@example.com');
      const reg = await ezid.passkeys.registerStart(userToken);
      const created = authenticator.create(reg.publicKey);
      await ezid.passkeys.registerFinish(userToken, reg.authCode, created);
      // Same credential id, signed by another key.
      forger.create({ challenge: 'x' });
      const login = await ezid.passkeys.loginStart('alice@example.com');
      const forged = { ...forger.get(login.publicKey), id: created.id };
      await expectApiError(
        ezid.passkeys.loginFinish(login.authCode, 'alice@example.com', forged),
        'passkeys.loginFinish',
        401,
        'invalid_passkey',
      );
      const bad = emulator.mintAccessToken('alice@example.com', { signWith: 'wrong-key' });
      await expectApiError(
        ezid.passkeys.registerStart(bad),
        'passkeys.registerStart',
        401,
        'access_token_required',
      );
      await expectApiError(
        ezid.passkeys.registerFinish(userToken, 'f'.repeat(24), created),
        'passkeys.registerFinish',
        400,
        'invalid_auth_code',
      );
      await expectApiError(ezid.passkeys.list(bad), 'passkeys.list', 401);
      await expectApiError(ezid.passkeys.rename(userToken, 'nope', 'x'), 'passkeys.rename', 404, 'not_found');
      await expectApiError(ezid.passkeys.delete(userToken, 'nope'), 'passkeys.delete', 404, 'not_found');
      await expectApiError(
        ezid.passkeys.loginStart('ghost@example.com'),
        'passkeys.loginStart',
        404,
        'user_not_found',
      );
      await expectApiError(
        ezid.passkeys.status('ghost@example.com'),
        'passkeys.status',
        404,
        'user_not_found',
      );
    });
  });

  describe('auth status', () => {
    it('reports a known and an unknown identifier; error without identifier', async () => {
      expect(await ezid.auth.status('demo@example.com')).toMatchObject({
        identifier: 'demo@example.com',
        exists: true,
        userId: EMULATOR_IDS.demoUser,
      });
      expect((await ezid.auth.status('ghost@example.com')).exists).toBe(false);
      await expectApiError(ezid.auth.status(''), 'auth.status', 400, 'malformed_request');
    });
  });

  describe('tokens', () => {
    it('refresh rotates the refresh token; the old one is spent', async () => {
      const { state } = await ezid.emailCode.send('demo@example.com');
      const login = await ezid.emailCode.verify(state, emulator.outbox.last('demo@example.com')!.code!);
      const first = login.tokens!.refreshToken!;
      const refreshed = await ezid.tokens.refresh(first);
      expect(refreshed.authenticated).toBe(true);
      expect(refreshed.tokens!.refreshToken).not.toBe(first);
      expect(refreshed.profile).toMatchObject({ id: EMULATOR_IDS.demoUser, email: 'demo@example.com' });
      expect(await verifiesAgainstJwks(emulator, refreshed.tokens!.accessToken)).toBe(true);
      await expectApiError(ezid.tokens.refresh(first), 'tokens.refresh', 401, 'invalid_refresh_token');
      await ezid.tokens.refresh(refreshed.tokens!.refreshToken!);
    });

    it('exchanges an SSO auth code once, with the matching state', async () => {
      const code = emulator.issueAuthCode('alice@example.com', 'st-1');
      await expectApiError(ezid.tokens.byAuthCode(code, 'other'), 'tokens.byAuthCode', 400, 'invalid_grant');
      const code2 = emulator.issueAuthCode('alice@example.com', 'st-1');
      const tokens = await ezid.tokens.byAuthCode(code2, 'st-1');
      expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 600, scope: 'openid profile email' });
      expect(decodeJwt(tokens.accessToken).payload.sub).toBe(EMULATOR_IDS.alice);
      await expectApiError(ezid.tokens.byAuthCode(code2, 'st-1'), 'tokens.byAuthCode', 400, 'invalid_grant');
    });
  });

  describe('legacy api.ezid.io endpoints', () => {
    it('seed 002 flow: email-link/send -> code -> email-link/verify with the secret -> refresh', async () => {
      const { emailLink } = await ezid.legacy.emailLinkSend({
        email: 'demo@example.com',
        baseUrlEmailLink: 'http://localhost:3000/auth',
        loginHint: 'demo',
        claims: { plan: 'pro' },
      });
      const link = new URL(emailLink);
      expect(link.origin + link.pathname).toBe('http://localhost:3000/auth');
      const code = link.searchParams.get('code')!;
      expect(decodeJwt(code).header.alg).toBe('HS256');
      expect(emulator.outbox.last('demo@example.com')).toMatchObject({ kind: 'legacy-email-link', code });

      const tokens = await ezid.legacy.emailLinkVerify(code);
      expect(await verifiesAgainstJwks(emulator, tokens.accessToken)).toBe(true);
      expect(await verifiesAgainstJwks(emulator, tokens.idToken!)).toBe(true);
      expect(decodeJwt(tokens.accessToken).payload).toMatchObject({
        custom_claims: { plan: 'pro' },
        email: 'demo@example.com',
      });
      await expectApiError(
        ezid.legacy.emailLinkVerify(code),
        'legacy.emailLinkVerify',
        400,
        'request_failed',
      );

      const refreshed = await ezid.legacy.emailLinkRefresh(tokens.refreshToken!);
      expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
      await expectApiError(
        ezid.legacy.emailLinkRefresh(tokens.refreshToken!),
        'legacy.emailLinkRefresh',
        400,
      );
    });

    it('push_email "No" returns the link without emailing it', async () => {
      await ezid.legacy.emailLinkSend({
        email: 'alice@example.com',
        baseUrlEmailLink: 'http://localhost:3000',
        pushEmail: false,
      });
      expect(emulator.outbox.last('alice@example.com')).toBeUndefined();
    });

    it('a wrong client secret gets {success:false, reason:"Invalid Client Secret"}', async () => {
      const wrong = serviceFor(emulator, { clientSecret: 'not-the-secret' });
      const err = await expectApiError(
        wrong.legacy.emailLinkSend({ email: 'demo@example.com', baseUrlEmailLink: 'http://localhost:3000' }),
        'legacy.emailLinkSend',
        400,
        'request_failed',
      );
      expect(err.reason).toBe('Invalid Client Secret');
      const raw = await fetch(`${emulator.url}/email-link/getusers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: CLIENT_ID, client_secret: 'nope' }),
      });
      expect(await raw.json()).toEqual({ success: false, reason: 'Invalid Client Secret' });
      const unknown = serviceFor(emulator, { clientId: 'cli_unknown' });
      expect(
        (await expectApiError(unknown.legacy.emailLinkGetUsers(), 'legacy.emailLinkGetUsers', 400)).reason,
      ).toBe('Client is not registered');
    });

    it('{success:false} with HTTP 200 is an error too', async () => {
      const other = await EzidEmulator.start({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        legacyErrorStatus: 200,
      });
      try {
        const err = await expectApiError(
          serviceFor(other).legacy.emailLinkVerify('garbage'),
          'legacy.emailLinkVerify',
          200,
        );
        expect(err).toMatchObject({ code: 'request_failed', reason: 'Invalid or expired auth_code' });
      } finally {
        await other.stop();
      }
    });

    it('lists created users', async () => {
      const users = await ezid.legacy.emailLinkGetUsers();
      expect(users).toEqual(expect.arrayContaining([{ email: 'demo@example.com', verifiedEmail: true }]));
    });

    it('SMS OTP: send/otp returns the otp, verify/otp exchanges it once', async () => {
      const sent = await ezid.legacy.otpSend({
        target: '+15550001234',
        digits: 4,
        expiryMinutes: 5,
        claims: { a: 1 },
      });
      expect(sent.otp).toMatch(/^\d{4}$/);
      expect(sent.loginId).toMatch(/^[0-9a-f-]{36}$/);
      const wrongOtp = sent.otp === '1000' ? '1001' : '1000';
      expect(
        (await expectApiError(ezid.legacy.otpVerify(sent.loginId, wrongOtp), 'legacy.otpVerify', 400)).reason,
      ).toBe('Invalid OTP');
      const tokens = await ezid.legacy.otpVerify(sent.loginId, sent.otp);
      expect(decodeJwt(tokens.accessToken).payload.custom_claims).toEqual({ a: 1 });
      expect(tokens.refreshToken).toBeDefined();
      await expectApiError(ezid.legacy.otpVerify(sent.loginId, sent.otp), 'legacy.otpVerify', 400);
      await expectApiError(ezid.legacy.otpSend({ target: '+15550001234', digits: 9 }), 'legacy.otpSend', 400);
    });

    it('refuses to call legacy endpoints without a clientSecret, before any request', async () => {
      const noSecret = serviceFor(emulator, { clientSecret: undefined });
      await expect(noSecret.legacy.emailLinkGetUsers()).rejects.toThrow(/needs the clientSecret option/);
      expect(emulator.requestCount('legacy.emailLinkGetUsers')).toBe(0);
    });
  });

  it('a wrong client id is rejected by the SSOJet-style endpoints', async () => {
    const wrong = serviceFor(emulator, { clientId: 'cli_other' });
    await expectApiError(wrong.magicLink.send('demo@example.com'), 'magicLink.send', 401, 'invalid_client');
    await expectApiError(wrong.passkeys.status('demo@example.com'), 'passkeys.status', 401, 'invalid_client');
  });
});
