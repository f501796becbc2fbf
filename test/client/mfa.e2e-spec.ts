import jsQR from 'jsqr';
import { generateSync } from 'otplib';
import { PNG } from 'pngjs';
import { EzidApiError, EzidService, EzidValidationError } from '../../src/client';
import { EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  rejectionOf,
  serviceFor,
  verifiesAgainstJwks,
} from './client-test.helpers';

const API_KEY = 'ak_mfa_VGhpc0lzQW5BcGlLZXlGb3JNZmFUZXN0cw';

/** A 6-digit code that is valid in none of the steps the emulator accepts (now, one before, one after). */
function wrongCode(secret: string): string {
  const now = Math.floor(Date.now() / 1000);
  const valid = new Set([-30, 0, 30].map((d) => generateSync({ secret, epoch: now + d })));
  for (let i = 0; ; i++) {
    const c = String(i).padStart(6, '0');
    if (!valid.has(c)) return c;
  }
}

describe('EzidService MFA against the emulator', () => {
  let emulator: EzidEmulator;
  let ezid: EzidService;

  beforeAll(async () => {
    emulator = await EzidEmulator.start({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      apiKey: API_KEY,
    });
    ezid = serviceFor(emulator, { apiKey: API_KEY });
  });
  afterAll(() => emulator.stop());
  beforeEach(() => {
    emulator.clearFaults();
    emulator.resetCounters();
  });

  async function expectApiError(p: Promise<unknown>, endpoint: string, status: number, code?: string) {
    const err = await rejectionOf(p);
    expect(err).toBeInstanceOf(EzidApiError);
    expect(err).toMatchObject({ endpoint, status, ...(code && { code }) });
    return err as EzidApiError;
  }

  async function expectInvalid(p: Promise<unknown>, endpoint: string, field: string) {
    const err = await rejectionOf(p);
    expect(err).toBeInstanceOf(EzidValidationError);
    expect(err).toMatchObject({ endpoint, field });
    expect(emulator.requestCount(endpoint)).toBe(0);
  }

  it('scenario: enroll TOTP -> the QR PNG decodes to the otpauth URI -> a TOTP validates -> a wrong code is rejected -> a backup code works once', async () => {
    const { mfaToken, expiresAt } = await ezid.mfa.token('alice@example.com');
    expect(expiresAt!.getTime()).toBeGreaterThan(Date.now());

    const enrollment = await ezid.mfa.enrollTotp(mfaToken);
    expect(enrollment.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(enrollment.uri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/EZiD Emulator:alice@example.com');
    expect(uri.searchParams.get('secret')).toBe(enrollment.secret);
    expect(await ezid.mfa.authenticators(mfaToken)).toEqual([
      {
        id: enrollment.authenticatorId,
        authenticatorType: 'otp',
        active: false,
        oobChannel: undefined,
        createdAt: expect.any(Date),
      },
    ]);

    // The QR code is a real PNG whose content is the otpauth URI.
    const qr = await ezid.mfa.qrCode(mfaToken);
    expect(qr.png.subarray(1, 4).toString()).toBe('PNG');
    expect(qr.dataUrl).toBe(`data:image/png;base64,${qr.png.toString('base64')}`);
    const image = PNG.sync.read(qr.png);
    const decoded = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
    expect(decoded?.data).toBe(enrollment.uri);

    // A wrong code is rejected; the TOTP generated from the secret (RFC 6238) validates and activates.
    const challenge = await ezid.mfa.initiate(mfaToken);
    expect(challenge.challengeType).toBe('otp');
    const wrong = wrongCode(enrollment.secret);
    const err = await expectApiError(
      ezid.mfa.validate(challenge.oobCode, wrong),
      'mfa.validate',
      400,
      'invalid_otp',
    );
    expect(JSON.stringify(err) + err.message).not.toContain(challenge.oobCode);
    const code = generateSync({ secret: enrollment.secret });
    const result = await ezid.mfa.validate(challenge.oobCode, code);
    expect(result.authenticated).toBe(true);
    expect(result.profile).toMatchObject({ email: 'alice@example.com' });
    expect(await verifiesAgainstJwks(emulator, result.tokens!.accessToken)).toBe(true);
    expect((await ezid.mfa.authenticators(mfaToken))[0].active).toBe(true);

    // The challenge is spent; the same TOTP code (same time step) is not accepted twice.
    await expectApiError(ezid.mfa.validate(challenge.oobCode, code), 'mfa.validate', 400, 'invalid_oob_code');
    const again = await ezid.mfa.initiate(mfaToken);
    await expectApiError(ezid.mfa.validate(again.oobCode, code), 'mfa.validate', 400, 'invalid_otp');

    // Backup codes: each works once.
    const codes = await ezid.mfa.backupCodes(mfaToken);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    expect((await ezid.mfa.authenticators(mfaToken)).map((a) => a.authenticatorType)).toEqual([
      'otp',
      'recovery-code',
    ]);
    const viaBackup = await ezid.mfa.validate(again.oobCode, codes[0]);
    expect(viaBackup.authenticated).toBe(true);
    const third = await ezid.mfa.initiate(mfaToken);
    await expectApiError(ezid.mfa.validate(third.oobCode, codes[0]), 'mfa.validate', 400, 'invalid_otp');
    expect((await ezid.mfa.validate(third.oobCode, codes[1])).authenticated).toBe(true);

    // A new set replaces the old one.
    const fresh = await ezid.mfa.backupCodes(mfaToken);
    const fourth = await ezid.mfa.initiate(mfaToken);
    await expectApiError(ezid.mfa.validate(fourth.oobCode, codes[2]), 'mfa.validate', 400, 'invalid_otp');
    expect((await ezid.mfa.validate(fourth.oobCode, fresh[0])).authenticated).toBe(true);

    // An active authenticator cannot be enrolled again.
    await expectApiError(ezid.mfa.enrollTotp(mfaToken), 'mfa.enrollTotp', 409, 'mfa_already_enrolled');
  });

  it('token: unknown user 404, missing apiKey 401, bad identifier refused', async () => {
    await expectApiError(ezid.mfa.token('nobody@example.com'), 'mfa.token', 404, 'user_not_found');
    await expectApiError(
      serviceFor(emulator).mfa.token('bob@example.com'),
      'mfa.token',
      401,
      'invalid_api_key',
    );
    expect((await ezid.mfa.token('+15550000001')).mfaToken).toMatch(/^mfa_/);
    emulator.resetCounters();
    await expectInvalid(ezid.mfa.token('bob'), 'mfa.token', 'identifier');
    await expectInvalid(ezid.mfa.token('+1 555 000'), 'mfa.token', 'identifier');
  });

  it('user-scoped calls: 401 without a valid MFA or access token; the access token works too', async () => {
    const bogus = 'mfa_not-a-real-token';
    await expectApiError(ezid.mfa.authenticators(bogus), 'mfa.authenticators', 401, 'mfa_token_required');
    await expectApiError(ezid.mfa.enrollTotp(bogus), 'mfa.enrollTotp', 401);
    await expectApiError(ezid.mfa.initiate(bogus), 'mfa.initiate', 401);
    await expectApiError(ezid.mfa.qrCode(bogus), 'mfa.qrCode', 401);
    await expectApiError(ezid.mfa.backupCodes(bogus), 'mfa.backupCodes', 401);
    const accessToken = emulator.mintAccessToken('bob@example.com');
    expect(await ezid.mfa.authenticators(accessToken)).toEqual([]);
  });

  it('before enrollment: no QR code and no challenge (404); oob is not supported by the emulator (400)', async () => {
    const { mfaToken } = await ezid.mfa.token('bob@example.com');
    await expectApiError(ezid.mfa.qrCode(mfaToken), 'mfa.qrCode', 404, 'mfa_not_enrolled');
    await expectApiError(ezid.mfa.initiate(mfaToken), 'mfa.initiate', 404, 'mfa_not_enrolled');
    await ezid.mfa.enrollTotp(mfaToken);
    await expectApiError(
      ezid.mfa.initiate(mfaToken, { authenticatorType: 'oob', oobChannel: 'sms' }),
      'mfa.initiate',
      400,
      'unsupported_authenticator',
    );
  });

  it('validate: unknown oob_code 400; five wrong codes spend the challenge', async () => {
    await expectApiError(
      ezid.mfa.validate('0'.repeat(64), '123456'),
      'mfa.validate',
      400,
      'invalid_oob_code',
    );
    const { mfaToken } = await ezid.mfa.token('demo@example.com');
    const { secret } = await ezid.mfa.enrollTotp(mfaToken);
    const { oobCode } = await ezid.mfa.initiate(mfaToken);
    const wrong = wrongCode(secret);
    for (let i = 0; i < 5; i++)
      await expectApiError(ezid.mfa.validate(oobCode, wrong), 'mfa.validate', 400, 'invalid_otp');
    await expectApiError(
      ezid.mfa.validate(oobCode, generateSync({ secret })),
      'mfa.validate',
      400,
      'invalid_oob_code',
    );
  });

  it('validation: tokens, codes and options are refused before sending', async () => {
    await expectInvalid(ezid.mfa.authenticators(''), 'mfa.authenticators', 'mfaToken');
    await expectInvalid(ezid.mfa.enrollTotp('has space'), 'mfa.enrollTotp', 'mfaToken');
    await expectInvalid(ezid.mfa.qrCode('a\nb'), 'mfa.qrCode', 'mfaToken');
    await expectInvalid(ezid.mfa.backupCodes(''), 'mfa.backupCodes', 'mfaToken');
    await expectInvalid(
      ezid.mfa.initiate('mfa_x', { authenticatorType: 'push' as 'otp' }),
      'mfa.initiate',
      'authenticatorType',
    );
    await expectInvalid(
      ezid.mfa.initiate('mfa_x', { oobChannel: 'fax' as 'sms' }),
      'mfa.initiate',
      'oobChannel',
    );
    await expectInvalid(ezid.mfa.validate('', '123456'), 'mfa.validate', 'oobCode');
    await expectInvalid(ezid.mfa.validate('abc', '12'), 'mfa.validate', 'code');
    await expectInvalid(ezid.mfa.validate('abc', '12 34 56'), 'mfa.validate', 'code');
  });

  it('endpoint override of the NOT FOUND enroll path, in the client and the emulator', async () => {
    const endpoints = { 'mfa.enrollTotp': { path: '/api/v1/auth/mfa/enroll' } };
    const emu2 = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, endpoints });
    try {
      const fixed = serviceFor(emu2, { endpoints });
      const { mfaToken } = await fixed.mfa.token('alice@example.com');
      expect((await fixed.mfa.enrollTotp(mfaToken)).uri).toMatch(/^otpauth:\/\/totp\//);
      await expectApiError(serviceFor(emu2).mfa.enrollTotp(mfaToken), 'mfa.enrollTotp', 404, 'not_found');
    } finally {
      await emu2.stop();
    }
  });
});
