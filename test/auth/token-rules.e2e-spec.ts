/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Checklist sections A, B, C1–C2, D and E against a real Nest app (Express and Fastify) and the
 * real EZiD emulator. The JWKS cache is warmed once; every rejection must cause zero JWKS fetches.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EzidEmulator } from '../../src/testing';
import { CaptureLogger } from '../support/capture-logger';
import { AuthTestController, PLATFORMS, type TestApp, b64, bearer, startApp } from './auth-test-app';

const S = 30; // clock tolerance (default)
const now = (): number => Math.floor(Date.now() / 1000);

describe.each(PLATFORMS)('token rules (checklist A–E) on %s', (platform) => {
  let emu: EzidEmulator;
  let app: TestApp;
  let crafted: { kid: string; privateKey: crypto.KeyObject; publicKey: crypto.KeyObject };
  let attacker: http.Server;
  let attackerHits = 0;
  let attackerUrl: string;
  const logger = new CaptureLogger();

  const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => {
    const base: Record<string, unknown> = {
      iss: emu.issuer,
      sub: 'user-1',
      aud: emu.audience,
      iat: now(),
      exp: now() + 600,
      email: 'u@example.com',
      tenants: [
        {
          tenant_id: 't1',
          tenant_name: 'Org 1',
          status: 'Verified',
          roles: [{ role_id: 'r1', role_name: 'Admin', permissions: null }],
        },
      ],
    };
    for (const [k, v] of Object.entries(over)) {
      if (v === undefined) delete base[k];
      else base[k] = v;
    }
    return base;
  };
  /** Hand-signed RS256 (or `alg`) token over raw segment texts. */
  const signRaw = (
    headerText: string,
    payloadText: string,
    key = crafted.privateKey,
    alg = 'RS256',
  ): string => {
    const input = `${b64(headerText)}.${b64(payloadText)}`;
    const hash = `sha${alg.slice(2)}`;
    const sig = alg.startsWith('PS')
      ? crypto.sign(hash, Buffer.from(input), {
          key,
          padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
          saltLength: 32,
        })
      : crypto.sign(hash, Buffer.from(input), key);
    return `${input}.${sig.toString('base64url')}`;
  };
  const sign = (
    header: Record<string, unknown>,
    payload: Record<string, unknown>,
    key = crafted.privateKey,
  ): string =>
    signRaw(
      JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: crafted.kid, ...header }),
      JSON.stringify(payload),
      key,
    );
  const good = (): string => sign({}, claims());

  beforeAll(async () => {
    attacker = http.createServer((_req, res) => {
      attackerHits++;
      res.end('{"keys":[]}');
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    emu = await EzidEmulator.start({
      clientId: 'cli_auth_test',
      clientSecret: 's',
      audience: 'api://ezid-test',
    });
    crafted = emu.addKey({ kid: 'k-crafted' });
    emu.addKey({ bits: 1024, kid: 'k-weak' });
    app = await startApp(platform, emu, {}, {}, [AuthTestController], logger);
    const warm = await app.get('/protected', bearer(emu.mintAccessToken()));
    expect(warm.status).toBe(200);
    expect(emu.requestCount('jwks')).toBe(1);
  });
  afterAll(async () => {
    await app?.close();
    await emu?.stop();
    await new Promise((r) => attacker.close(r));
  });
  beforeEach(() => emu.resetCounters());

  async function expectReject(
    headers: Record<string, string>,
    code: string,
    status = 401,
    path = '/protected',
  ): Promise<void> {
    const res = await app.get(path, headers);
    const text = await res.text();
    expect({ status: res.status, text }).toMatchObject({ status });
    const body = JSON.parse(text);
    expect(body).toEqual({
      statusCode: status,
      error: status === 400 ? 'Bad Request' : 'Unauthorized',
      code,
      message: expect.any(String),
    });
    const challenge = res.headers.get('www-authenticate');
    if (code === 'token_missing') expect(challenge).toBe('Bearer realm="api"');
    else if (code === 'invalid_request')
      expect(challenge).toMatch(/^Bearer realm="api", error="invalid_request"/);
    else expect(challenge).toMatch(/^Bearer realm="api", error="invalid_token", error_description="[^"]*"$/);
    // E2: no internals in the body.
    for (const secret of [
      emu.issuer,
      emu.audience!,
      crafted.kid,
      emu.currentKid,
      'jwt ',
      'expected',
      'Error',
      'at ',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(emu.requestCount('jwks')).toBe(0);
  }
  const expect401 = (token: string, code = 'token_invalid'): Promise<void> =>
    expectReject(bearer(token), code);

  it('a valid token passes (control), with the user built from the claim allow-list', async () => {
    const res = await app.get('/protected', bearer(good()));
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ id: 'user-1', email: 'u@example.com', frozen: true });
    expect(body.tenants[0]).toEqual({
      id: 't1',
      name: 'Org 1',
      status: 'Verified',
      roles: [{ id: 'r1', name: 'Admin', permissions: [] }],
    });
    expect(emu.requestCount('jwks')).toBe(0);
  });

  describe('A. transport and format', () => {
    it('A1 no Authorization header: 401 token_missing with a bare challenge', () =>
      expectReject({}, 'token_missing'));
    it.each([['Basic'], ['JWT'], ['x Bearer'], ['Bearer  Bearer'], ['bearer:']])(
      'A2 wrong scheme %s: 401',
      (scheme) => expectReject({ authorization: `${scheme} ${good()}` }, 'token_malformed'),
    );
    it('A2 an empty Bearer: 401', () => expectReject({ authorization: 'Bearer' }, 'token_malformed'));
    it('A3 trailing junk: 401', () =>
      expectReject({ authorization: `Bearer ${good()} trailing-junk` }, 'token_malformed'));
    it('A3 two schemes / two tokens: 401', async () => {
      await expectReject({ authorization: `Bearer ${good()}, Bearer ${good()}` }, 'token_malformed');
      await expectReject({ authorization: `Bearer ${good()},${good()}` }, 'token_malformed');
    });
    it('A4 header plus ?access_token=: 400 invalid_request', () =>
      expectReject(bearer(good()), 'invalid_request', 400, `/protected?access_token=${good()}`));
    it('A4 header plus a body access_token: 400 invalid_request', async () => {
      const res = await fetch(`${app.url}/protected`, {
        method: 'POST',
        headers: { ...bearer(good()), 'content-type': 'application/json' },
        body: JSON.stringify({ access_token: good() }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).code).toBe('invalid_request');
    });
    it('A4 a token only in the query string is not accepted: 401 token_missing', () =>
      expectReject({}, 'token_missing', 401, `/protected?access_token=${good()}`));
    it.each([
      ['two segments', (t: string) => t.split('.').slice(0, 2).join('.')],
      ['four segments', (t: string) => `${t}.${t.split('.')[2]}`],
      [
        'empty payload',
        (t: string) => {
          const [h, , s] = t.split('.');
          return `${h}..${s}`;
        },
      ],
      ['signature stripped', (t: string) => t.split('.').slice(0, 2).join('.') + '.'],
      ['.x.', () => '.x.'],
      ['five-part JWE', (t: string) => `${t}.abc.def`],
    ])('A5 %s: 401 token_malformed', (_n, f) => expect401(f(good()), 'token_malformed'));
    it.each([
      ['= padding', (t: string) => t.replace(/\.([^.]+)$/, '.$1==')],
      ['+ and /', (t: string) => t.replace(/-/g, '+').replace(/_/g, '/') + '+/'],
      ['a % character', (t: string) => `${t}%`],
      [
        'non-canonical last char of the header',
        (t: string) => {
          const [h, p, s] = t.split('.');
          return `${h.slice(0, -1)}${String.fromCharCode(h.charCodeAt(h.length - 1) + 1)}.${p}.${s}`;
        },
      ],
    ])('A6 %s: 401 token_malformed', async (_n, f) => {
      const token = f(good());
      expect(token).not.toBe(good());
      await expect401(token, 'token_malformed');
    });
    it('A7 flipping unused low bits of the signature gives a non-canonical string: rejected, the original still works', async () => {
      const token = good();
      const last = token[token.length - 1];
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      // 256-byte signature: 342 chars, last char carries 4 used bits + 2 unused bits.
      const mutated = token.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
      expect(Buffer.from(mutated.split('.')[2], 'base64url')).toEqual(
        Buffer.from(token.split('.')[2], 'base64url'),
      );
      await expect401(mutated, 'token_malformed');
      expect((await app.get('/protected', bearer(token))).status).toBe(200);
    });
    it('A8 a 9 KB token: 401 from our own length cap, no decode, no fetch', async () => {
      const big = sign({}, claims({ pad: 'x'.repeat(9 * 1024) }));
      expect(big.length).toBeGreaterThan(8192);
      await expect401(big, 'token_malformed');
    });
    it('A8 a 17 KB header: 431 from Node', async () => {
      const res = await app.get('/protected', { authorization: `Bearer ${'a'.repeat(17 * 1024)}` });
      expect(res.status).toBe(431);
    });
    it.each([['"admin"'], ['[1,2]'], ['null'], ['42']])('A9 payload %s: 401 token_malformed', (payload) =>
      expect401(signRaw(JSON.stringify({ alg: 'RS256', kid: crafted.kid }), payload), 'token_malformed'),
    );
    it('A9 payload with invalid UTF-8: 401 token_malformed', async () => {
      const input = `${b64({ alg: 'RS256', kid: crafted.kid })}.${Buffer.concat([Buffer.from('{"sub":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]).toString('base64url')}`;
      const sig = crypto.sign('sha256', Buffer.from(input), crafted.privateKey).toString('base64url');
      await expect401(`${input}.${sig}`, 'token_malformed');
    });
    it('A10 header JSON null: 401', () =>
      expect401(signRaw('null', JSON.stringify(claims())), 'token_malformed'));
    it('A10 duplicate header members ("alg" twice): 401', () =>
      expect401(
        signRaw(
          `{"alg":"RS256","typ":"at+jwt","kid":"${crafted.kid}","alg":"none"}`,
          JSON.stringify(claims()),
        ),
        'token_malformed',
      ));
    it('no token input of any kind gives a 5xx (random junk)', async () => {
      const rnd = crypto.randomBytes(4096);
      for (let i = 0; i < 40; i++) {
        const len = 1 + (rnd[i] % 120);
        const junk = rnd
          .subarray(i * 50, i * 50 + len)
          .toString('latin1')
          .replace(/[^\x21-\x7e]/g, 'A');
        const res = await app.get('/protected', { authorization: `Bearer ${junk}` });
        expect([401, 400]).toContain(res.status);
      }
      const res = await app.get(
        '/protected',
        bearer(`${b64('{"alg":"RS256"}')}.${b64('{}')}.${'A'.repeat(342)}`),
      );
      expect(res.status).toBe(401);
      expect(emu.requestCount('jwks')).toBe(0);
    });
  });

  describe('B. algorithm and signature', () => {
    it.each([['none'], ['None'], ['NONE'], ['nOnE']])(
      'B1 alg %s (garbage signature, real kid): 401, no fetch',
      (alg) => {
        const input = `${b64({ alg, kid: crafted.kid })}.${b64(claims())}`;
        return expect401(`${input}.${b64('garbage')}`);
      },
    );
    it('B1 alg none with an empty signature: 401', () =>
      expect401(emu.mintAccessToken(undefined, { algorithm: 'none' }), 'token_malformed'));
    it.each([
      ['the PEM SPKI', () => crafted.publicKey.export({ type: 'spki', format: 'pem' })],
      ['the DER bytes', () => crafted.publicKey.export({ type: 'spki', format: 'der' })],
      ['the raw JWK n', () => String((crafted.publicKey.export({ format: 'jwk' }) as { n: string }).n)],
    ])('B2 HS256 signed with %s and a real kid: 401', (_n, secret) => {
      const input = `${b64({ alg: 'HS256', kid: crafted.kid })}.${b64(claims())}`;
      const sig = crypto
        .createHmac('sha256', secret() as crypto.BinaryLike)
        .update(input)
        .digest('base64url');
      return expect401(`${input}.${sig}`);
    });
    it.each([['PS256'], ['RS512']])('B3 %s signed by the real key while the JWK says RS256: 401', (alg) =>
      expect401(
        signRaw(JSON.stringify({ alg, kid: crafted.kid }), JSON.stringify(claims()), crafted.privateKey, alg),
      ),
    );
    it('B4 one bit flipped in the signature: 401', () => {
      const t = good();
      const i = t.length - 20;
      return expect401(t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1));
    });
    it('B4 payload changed after signing: 401', () => {
      const [h, , s] = good().split('.');
      return expect401(`${h}.${b64(claims({ sub: 'admin' }))}.${s}`);
    });
    it('B4 attacker key with a legitimate kid: 401', () =>
      expect401(emu.mintAccessToken(undefined, { signWith: 'wrong-key' })));
    it('B5 a 1024-bit key in the JWKS is never used: 401 and no fetch (cooldown)', () => {
      const weak = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
      return expect401(sign({ kid: 'k-weak' }, claims(), weak.privateKey));
    });
  });

  describe('C. key resolution', () => {
    it('C1 jku / x5u / embedded jwk pointing at the attacker: 401, zero requests to the attacker', async () => {
      const evil = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwk = evil.publicKey.export({ format: 'jwk' });
      attackerHits = 0;
      await expect401(sign({ kid: 'evil', jku: `${attackerUrl}/jwks.json` }, claims(), evil.privateKey));
      await expect401(sign({ kid: 'evil', x5u: `${attackerUrl}/cert.pem` }, claims(), evil.privateKey));
      await expect401(sign({ kid: undefined, jwk }, claims(), evil.privateKey));
      await expect401(sign({ jwk: { ...jwk, kid: crafted.kid } }, claims(), evil.privateKey));
      expect(attackerHits).toBe(0);
    });
    it.each([
      ['path traversal', '../../dev/null', 'token_invalid'],
      ['SQL', "' OR '1'='1", 'token_malformed'],
      ['10 KB', 'k'.repeat(7000), 'token_malformed'],
      ['a number', 42, 'token_malformed'],
      ['an object', { a: 1 }, 'token_malformed'],
      ['__proto__', '__proto__', 'token_invalid'],
      ['constructor', 'constructor', 'token_invalid'],
      ['newline and ANSI', 'k\n\x1b[31mred', 'token_malformed'],
    ])('C2 hostile kid (%s): 401, no crash, no fetch', (_n, kid, code) =>
      expect401(sign({ kid }, claims()), code),
    );
  });

  describe('D. claims', () => {
    it('D1 missing exp: 401', () => expect401(sign({}, claims({ exp: undefined }))));
    it('D2 exp = now - S - 1: 401 token_expired', () =>
      expect401(sign({}, claims({ exp: now() - S - 1, iat: now() - 600 })), 'token_expired'));
    it('D2 exp = now - S + 5: 200 (within the tolerance)', async () => {
      expect(
        (await app.get('/protected', bearer(sign({}, claims({ exp: now() - S + 5, iat: now() - 600 })))))
          .status,
      ).toBe(200);
    });
    it('D2 exp as a string: 401', () => expect401(sign({}, claims({ exp: String(now() + 600) }))));
    it('D2 exp = 1e309 (Infinity): 401', () =>
      expect401(
        signRaw(
          JSON.stringify({ alg: 'RS256', kid: crafted.kid }),
          JSON.stringify(claims()).replace(/"exp":\d+/, '"exp":1e309'),
        ),
      ));
    it('D3 exp in 2100: 401', () => expect401(sign({}, claims({ exp: 4102444800 }))));
    it('D3 exp - iat above 24 h: 401', () =>
      expect401(sign({}, claims({ iat: now() - 10, exp: now() + 86400 }))));
    it('D4 nbf = now + S + 5: 401; nbf = now + S - 5: 200; nbf as a string: 401', async () => {
      await expect401(sign({}, claims({ nbf: now() + S + 5 })));
      expect((await app.get('/protected', bearer(sign({}, claims({ nbf: now() + S - 5 }))))).status).toBe(
        200,
      );
      await expect401(sign({}, claims({ nbf: 'soon' })));
    });
    it('D5 iat in the future, as a string, missing: 401', async () => {
      await expect401(sign({}, claims({ iat: now() + S + 5 })));
      await expect401(sign({}, claims({ iat: 4102444800, exp: 4102444900 })));
      await expect401(sign({}, claims({ iat: 'yesterday' })));
      await expect401(sign({}, claims({ iat: undefined })));
    });
    it('D6 wrong, missing, trailing-slash, case-variant and array iss: 401', async () => {
      for (const iss of [
        'https://evil.example',
        undefined,
        `${emu.issuer}/`,
        emu.issuer.toUpperCase(),
        [emu.issuer],
      ]) {
        await expect401(sign({}, claims({ iss })));
      }
    });
    it('D7 wrong aud, missing aud: 401; an aud array that contains ours: 200', async () => {
      await expect401(sign({}, claims({ aud: 'api://other' })));
      await expect401(sign({}, claims({ aud: undefined })));
      await expect401(sign({}, claims({ aud: [1, emu.audience] })));
      expect(
        (await app.get('/protected', bearer(sign({}, claims({ aud: ['api://other', emu.audience] })))))
          .status,
      ).toBe(200);
    });
    it('D7/D8 an ID token is not an access token: 401', () => expect401(emu.mintIdToken()));
    it('D8 header typ logout+jwt / secevent+jwt: 401; typ claim ID / Refresh: 401; nonce: 401', async () => {
      await expect401(sign({ typ: 'logout+jwt' }, claims()));
      await expect401(sign({ typ: 'secevent+jwt' }, claims()));
      await expect401(sign({}, claims({ typ: 'ID' })));
      await expect401(sign({}, claims({ typ: 'Refresh' })));
      await expect401(sign({}, claims({ nonce: 'n' })));
      expect(
        (await app.get('/protected', bearer(sign({ typ: 'application/at+JWT' }, claims())))).status,
      ).toBe(200);
    });
    it.each([
      ['a present extension', { crit: ['http://x/ext'], 'http://x/ext': true }],
      ['an absent parameter', { crit: ['exp'] }],
      ['crit: []', { crit: [] }],
      ['crit: "x"', { crit: 'x' }],
    ])('D9 crit with %s: 401', (_n, h) => expect401(sign(h, claims())));
    it('D10 missing sub, non-string sub, empty sub: 401', async () => {
      await expect401(sign({}, claims({ sub: undefined })));
      await expect401(sign({}, claims({ sub: 42 })));
      await expect401(sign({}, claims({ sub: '' })));
    });
    it('D11 __proto__ in the claims grants nothing', async () => {
      const payload = JSON.stringify(claims()).replace(
        /^\{/,
        '{"__proto__":{"isAdmin":true},"isAdmin":true,',
      );
      const res = await app.get(
        '/protected',
        bearer(signRaw(JSON.stringify({ alg: 'RS256', kid: crafted.kid }), payload)),
      );
      expect(res.status).toBe(200);
      expect(((await res.json()) as any).isAdmin).toBeNull();
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    });
    it("the emulator's own access tokens pass (typ at+jwt, tenants claim)", async () => {
      const res = await app.get('/protected', bearer(emu.mintAccessToken()));
      expect(res.status).toBe(200);
      expect(((await res.json()) as any).tenants.length).toBeGreaterThan(0);
    });
  });

  describe('EzidJwtStrategy (AuthGuard("ezid-jwt")) path', () => {
    it('accepts a valid token and rejects a wrong iss or aud', async () => {
      expect((await app.get('/strategy', bearer(good()))).status).toBe(200);
      expect(
        (await app.get('/strategy', bearer(sign({}, claims({ iss: 'https://evil.example' }))))).status,
      ).toBe(401);
      expect((await app.get('/strategy', bearer(sign({}, claims({ aud: 'api://other' }))))).status).toBe(401);
      expect((await app.get('/strategy', bearer(`${good()} junk`))).status).toBe(401);
      expect(emu.requestCount('jwks')).toBe(0);
    });
  });

  describe('routes', () => {
    it('@Public() skips the guard without reading the token (even a garbage one)', async () => {
      const res = await app.get('/public', { authorization: 'Bearer !!garbage!!' });
      expect(res.status).toBe(200);
      expect((await res.json()) as any).toEqual({ ok: true, user: null });
    });
    it('@OptionalAuth(): no token → no user; valid → user; invalid → 401', async () => {
      expect(await (await app.get('/optional')).json()).toEqual({ user: null });
      expect(await (await app.get('/optional', bearer(good()))).json()).toEqual({ user: 'user-1' });
      await expectReject(
        bearer(sign({}, claims({ exp: now() - 3600, iat: now() - 4000 }))),
        'token_expired',
        401,
        '/optional',
      );
      await expectReject({ authorization: 'Basic abc' }, 'token_malformed', 401, '/optional');
    });
  });

  describe('E. logs', () => {
    it('E4 every rejection is logged at debug level, redacted: no token, no Bearer, no CR/LF from a kid', () => {
      const all = logger.lines.join('\n');
      expect(logger.lines.some((l) => l.startsWith('debug') && l.includes('token_rejected'))).toBe(true);
      expect(all).not.toMatch(/eyJ/);
      expect(all).not.toMatch(/Bearer /);
      expect(all).not.toMatch(/authorization/i);
      expect(all).not.toContain('\x1b');
      expect(all).not.toContain('k\\n');
      expect(
        logger.lines.filter((l) => l.includes('token_rejected')).every((l) => /"code":"[a-z_]+"/.test(l)),
      ).toBe(true);
    });
  });
});
