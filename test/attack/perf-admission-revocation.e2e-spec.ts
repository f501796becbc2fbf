// Attack pass on the verified-token cache's admission (a token is cached on its second full
// verification) and on the header scan it lets the guard skip: a revoked token is refused whether it
// was used 0, 1, 2 or 3 times before (not cached, recorded for admission, cached, hit), through the
// guard and through the Passport strategy, also when verifications that began before the revocation
// cache it afterwards; and a header holding a cached token with anything around
// it answers exactly as the strict rule `/^bearer +([^\s,]+)$/i` says.
import { accessTokenRevocationId, EzidRevocationList, EzidTokenVerifier } from '../../src';
import { EzidEmulator } from '../../src/testing';
import { PLATFORMS, type Platform, type TestApp, bearer, startApp } from '../auth/auth-test-app';

function revocationOf(token: string): { id: string; expMs: number } {
  const [, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  return {
    id: accessTokenRevocationId(claims, Buffer.from(signature, 'base64url')),
    expMs: (claims.exp as number) * 1000,
  };
}

describe.each(PLATFORMS)('attack: admission to the verified-token cache on %s', (platform: Platform) => {
  let emu: EzidEmulator;
  let app: TestApp;
  let verifier: EzidTokenVerifier;
  let revocations: EzidRevocationList;

  beforeAll(async () => {
    emu = await EzidEmulator.start({
      clientId: 'cli_auth_test',
      clientSecret: 's',
      audience: 'api://ezid-test',
    });
    app = await startApp(platform, emu);
    verifier = app.app.get(EzidTokenVerifier);
    revocations = app.app.get(EzidRevocationList);
  });
  afterAll(async () => {
    await app?.close();
    await emu?.stop();
  });

  const codeOf = async (res: Response) => ({
    status: res.status,
    code: ((await res.json()) as { code?: string }).code,
  });

  it.each([0, 1, 2, 3])(
    'a token used %i time(s) then revoked is refused on every later use (guard and Passport)',
    async (uses) => {
      const token = emu.mintAccessToken(undefined, { claims: { n: `uses-${uses}-${platform}` } });
      for (let i = 0; i < uses; i++) expect((await app.get('/protected', bearer(token))).status).toBe(200);
      expect(verifier.isCachedToken(token)).toBe(uses >= 2);
      const { id, expMs } = revocationOf(token);
      await revocations.revoke(id, expMs);
      for (let i = 0; i < 3; i++) {
        expect(await codeOf(await app.get('/protected', bearer(token)))).toEqual({
          status: 401,
          code: 'token_revoked',
        });
        expect((await app.get('/strategy', bearer(token))).status).toBe(401);
      }
    },
  );

  it('a token revoked while two verifications of it wait on a JWKS fetch is refused on every later use, though they cached it', async () => {
    // A fresh app, its key set cold: both verifications pass the revocation check, then wait on the fetch.
    const cold = await startApp(platform, emu);
    try {
      const v = cold.app.get(EzidTokenVerifier);
      const token = emu.mintAccessToken(undefined, { claims: { n: `in-flight-${platform}` } });
      let open!: () => void;
      emu.fault('jwks', { gate: new Promise<void>((resolve) => (open = resolve)), times: 1 });
      const inFlight = [v.verifyToken(token), v.verifyToken(token)];
      expect(inFlight.every((r) => r instanceof Promise)).toBe(true);
      const { id, expMs } = revocationOf(token);
      await cold.app.get(EzidRevocationList).revoke(id, expMs);
      open();
      // Started before the revocation: they answer, and the second one admits the token to the cache.
      await Promise.all(inFlight);
      expect(v.isCachedToken(token)).toBe(true);
      for (let i = 0; i < 3; i++) {
        expect(await codeOf(await cold.get('/protected', bearer(token)))).toEqual({
          status: 401,
          code: 'token_revoked',
        });
        expect((await cold.get('/strategy', bearer(token))).status).toBe(401);
      }
    } finally {
      emu.fault('jwks', null);
      await cold.close();
    }
  });

  it('a cached token with anything around it in the header answers as the strict rule', async () => {
    const token = emu.mintAccessToken(undefined, { claims: { n: `header-${platform}` } });
    for (let i = 0; i < 2; i++) expect((await app.get('/protected', bearer(token))).status).toBe(200);
    expect(verifier.isCachedToken(token)).toBe(true);
    const cases: Array<[string, number, string | undefined]> = [
      [`Bearer ${token}`, 200, undefined],
      [`bearer ${token}`, 200, undefined],
      [`BEARER   ${token}`, 200, undefined],
      [`Bearer ${token},`, 401, 'token_malformed'],
      [`Bearer ${token}, Bearer ${token}`, 401, 'token_malformed'],
      [`Bearer ${token}\t`, 401, 'token_malformed'], // the HTTP parser trims it: then 200 is right too
      [`Bearer ${token}x`, 401, 'token_malformed'], // not canonical base64url
      [`Bearer x${token}`, 401, 'token_malformed'],
      [`Bearer${token}`, 401, 'token_malformed'],
      [`Basic ${token}`, 401, 'token_malformed'],
      [token, 401, 'token_malformed'],
    ];
    for (const [authorization, status, code] of cases) {
      const res = await app.get('/protected', { authorization });
      const got = await codeOf(res);
      if (authorization.endsWith('\t') && got.status === 200) continue;
      expect({ authorization: authorization.slice(0, 12), ...got }).toEqual({
        authorization: authorization.slice(0, 12),
        status,
        code,
      });
    }
  });
});
