/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Checklist C3–C12: JWKS behaviour against the emulator's real JWKS endpoint, counting its requests.
 */
import * as crypto from 'node:crypto';
import type { EzidJwksOptions } from '../../src';
import { EZID_KEY_SOURCE } from '../../src/auth/auth.constants';
import type { JwksKeySource } from '../../src/auth/jwks-key-source';
import { EzidEmulator } from '../../src/testing';
import { PLATFORMS, type Platform, SteppedClock, type TestApp, bearer, startApp } from './auth-test-app';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each(PLATFORMS)('JWKS behaviour (checklist C) on %s', (platform: Platform) => {
  let emu: EzidEmulator;
  let app: TestApp | undefined;
  // Cache ages and cooldowns run on this clock: time moves only when a test advances it.
  let clock: SteppedClock;

  beforeEach(async () => {
    clock = new SteppedClock();
    emu = await EzidEmulator.start({
      clientId: 'cli_auth_test',
      clientSecret: 's',
      audience: 'api://ezid-test',
    });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await emu.stop();
  });
  const start = async (jwks: EzidJwksOptions = {}, token: Record<string, unknown> = {}): Promise<TestApp> =>
    (app = await startApp(platform, emu, { ...token, jwks }, {}, undefined, false, clock));
  const keys = (): JwksKeySource => app!.app.get<JwksKeySource>(EZID_KEY_SOURCE);
  const status = async (token: string): Promise<number> =>
    (await app!.get('/protected', bearer(token))).status;
  const junk = (): string =>
    emu.mintAccessToken(undefined, { header: { kid: crypto.randomBytes(12).toString('hex') } });

  it('C4 a flood of unknown kids (sequential and concurrent) causes no fetch within the cooldown; legit traffic unaffected', async () => {
    await start({ cooldownSec: 30 });
    expect(await status(emu.mintAccessToken())).toBe(200);
    expect(emu.requestCount('jwks')).toBe(1);
    for (let i = 0; i < 100; i++) expect(await status(junk())).toBe(401);
    const results = await Promise.all(Array.from({ length: 200 }, () => status(junk())));
    expect(results.every((s) => s === 401)).toBe(true);
    expect(await status(emu.mintAccessToken())).toBe(200);
    expect(emu.requestCount('jwks')).toBe(1);
  });

  it('C5 a junk-kid flood does not block a newly rotated kid for longer than the cooldown', async () => {
    await start({ cooldownSec: 1 });
    expect(await status(emu.mintAccessToken())).toBe(200);
    emu.rotateKeys({ keepOld: true });
    const fresh = emu.mintAccessToken();
    // Within the cooldown the junk flood and the new kid alike are answered without a fetch.
    const flood = await Promise.all(Array.from({ length: 50 }, () => status(junk())));
    expect(flood.every((s) => s === 401)).toBe(true);
    expect(await status(fresh)).toBe(401);
    expect(emu.requestCount('jwks')).toBe(1);
    // Once the cooldown has elapsed, the first unknown kid (junk or not) refetches and the new kid
    // is known: the flood delayed it by at most the cooldown, and cost one fetch.
    clock.advance(1000);
    const [afterFlood] = await Promise.all([status(junk()), status(junk())]);
    expect(afterFlood).toBe(401);
    expect(await status(fresh)).toBe(200);
    expect(emu.requestCount('jwks')).toBe(2);
  });

  it('C6 cold-start stampede: 100 concurrent requests, one fetch; slow JWKS waves, one fetch; two kids, one fetch', async () => {
    await start();
    const results = await Promise.all(Array.from({ length: 100 }, () => status(emu.mintAccessToken())));
    expect(results.every((s) => s === 200)).toBe(true);
    expect(emu.requestCount('jwks')).toBe(1);
  });

  it('C6 slow JWKS (1.5 s) and waves every 300 ms: one fetch; two distinct kids at once: one fetch', async () => {
    const other = emu.addKey({ kid: 'k-second' });
    await start({ timeoutMs: 5000 });
    emu.fault('jwks', { latencyMs: 1500 });
    const waves: Promise<number>[] = [];
    for (let w = 0; w < 4; w++) {
      waves.push(status(emu.mintAccessToken()));
      waves.push(
        status(
          emu.mintAccessToken(undefined, { signWith: { kid: other.kid, privateKey: other.privateKey } }),
        ),
      );
      await sleep(300);
    }
    expect((await Promise.all(waves)).every((s) => s === 200)).toBe(true);
    expect(emu.requestCount('jwks')).toBe(1);
  });

  it('C7 key rotation: the first token with the new kid is accepted after one refetch', async () => {
    await start({ cooldownSec: 1 });
    expect(await status(emu.mintAccessToken())).toBe(200);
    clock.advance(1000);
    emu.rotateKeys({ keepOld: true });
    expect(await status(emu.mintAccessToken())).toBe(200);
    expect(emu.requestCount('jwks')).toBe(2);
  });

  it('C8 key removal: tokens of a removed key are rejected once the cache expires (cacheMaxAgeSec) and the background refresh completes', async () => {
    await start({ cacheMaxAgeSec: 1, cooldownSec: 1 });
    const oldKid = emu.currentKid;
    const old = emu.mintAccessToken();
    expect(await status(old)).toBe(200);
    emu.rotateKeys({ keepOld: true });
    emu.removeKey(oldKid);
    clock.advance(999);
    expect(await status(old)).toBe(200); // still within cacheMaxAge (documented revocation latency)
    expect(emu.requestCount('jwks')).toBe(1);
    clock.advance(1);
    // Stale-while-revalidate: the first request after cacheMaxAge is answered from the cached set
    // while one background refresh runs; the refresh removes the key (latency: max age + one fetch).
    expect(await status(old)).toBe(200);
    await keys().refreshing;
    expect(await status(old)).toBe(401);
    expect(await status(emu.mintAccessToken())).toBe(200);
    expect(emu.requestCount('jwks')).toBe(2);
  });

  it('C9 same kid, new key material: 401 until the cache expires and is refreshed, then accepted (no refetch on signature failure)', async () => {
    // Key generation happens before the clock starts: under load it can take most of a second.
    const next = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = next.publicKey.export({ format: 'jwk' });
    await start({ cacheMaxAgeSec: 3, cooldownSec: 1 });
    expect(await status(emu.mintAccessToken())).toBe(200);
    const kid = emu.currentKid;
    emu.setJwksDocument({ keys: [{ kty: 'RSA', kid, use: 'sig', alg: 'RS256', n: jwk.n, e: jwk.e }] });
    const token = emu.mintAccessToken(undefined, { signWith: { kid, privateKey: next.privateKey } });
    expect(await status(token)).toBe(401);
    expect(emu.requestCount('jwks')).toBe(1);
    clock.advance(3000);
    // Stale-while-revalidate: still verified with the cached (old) material while the background
    // refresh runs, then with the new material.
    expect(await status(token)).toBe(401);
    await keys().refreshing;
    expect(await status(token)).toBe(200);
    expect(emu.requestCount('jwks')).toBe(2);
  });

  it.each([
    ['HTTP 500', { status: 500 }],
    ['invalid JSON', { malformed: true }],
    ['an empty key set', { status: 200, body: '{"keys":[]}' }],
    ['a 302 redirect to the real JWKS (not followed)', { redirect: 'SELF', times: 1 }],
    ['a hang', { hang: true }],
    ['a dribble of 1 byte / 200 ms', { dribble: { intervalMs: 200, bytes: 1 } }],
  ])(
    'C10 cold cache, JWKS fault %s: 503 idp_unavailable + Retry-After within the deadline, never 401',
    async (_n, fault) => {
      await start({ timeoutMs: 1000, cooldownSec: 30 });
      emu.fault('jwks', ('redirect' in fault ? { ...fault, redirect: emu.jwksUri } : fault) as never);
      const t0 = Date.now();
      const res = await app!.get('/protected', bearer(emu.mintAccessToken()));
      expect(Date.now() - t0).toBeLessThan(2500);
      expect(res.status).toBe(503);
      expect((await res.json()) as any).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'idp_unavailable',
        message: expect.any(String),
      });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // a second request within the cooldown: 503 again, no new fetch
      expect(await status(emu.mintAccessToken())).toBe(503);
      expect(emu.requestCount('jwks')).toBe(1);
    },
  );

  it('C10 connection refused: 503', async () => {
    app = await startApp(platform, emu, {
      jwksUri: 'http://127.0.0.1:1/jwks.json',
      jwks: { timeoutMs: 1000 },
    });
    const res = await app.get('/protected', bearer(emu.mintAccessToken()));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBeTruthy();
  });

  it('C11 warm cache outage: 200 within maxAge (no fetch), 200 in the stale window, 503 after it', async () => {
    await start({ cacheMaxAgeSec: 1, cooldownSec: 1, staleIfErrorSec: 2, timeoutMs: 500 });
    const token = emu.mintAccessToken();
    expect(await status(token)).toBe(200);
    emu.fault('jwks', { status: 500 });
    expect(await status(emu.mintAccessToken())).toBe(200);
    expect(emu.requestCount('jwks')).toBe(1);
    clock.advance(1000);
    expect(await status(emu.mintAccessToken())).toBe(200); // stale: answered at once, refresh in the background
    await keys().refreshing;
    expect(await status(emu.mintAccessToken())).toBe(200); // stale-if-error
    expect(emu.requestCount('jwks')).toBe(2);
    clock.advance(2000);
    const res = await app!.get('/protected', bearer(emu.mintAccessToken()));
    expect(res.status).toBe(503);
    expect(emu.requestCount('jwks')).toBe(3);
    emu.clearFaults();
    clock.advance(1000);
    expect(await status(emu.mintAccessToken())).toBe(200);
  });

  it('C3 kid absent: accepted with a single key in the JWKS, rejected with several', async () => {
    await start({ cooldownSec: 30 });
    const noKid = emu.mintAccessToken(undefined, { header: { kid: undefined } });
    expect(await status(noKid)).toBe(200);
    await app!.close();
    emu.addKey({ kid: 'k-other' });
    await start({ cooldownSec: 30 });
    expect(await status(noKid)).toBe(401);
  });

  it('C12 JWKS hygiene: enc keys, oct keys, private members, unsupported kty, duplicate kids are never used', async () => {
    const mk = () => crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const good = mk();
    const pair = (p: crypto.KeyPairKeyObjectResult) =>
      p.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    const enc = mk();
    const priv = mk();
    const dup1 = mk();
    const dup2 = mk();
    const privJwk = priv.privateKey.export({ format: 'jwk' });
    emu.setJwksDocument({
      keys: [
        { kty: 'RSA', kid: 'good', use: 'sig', ...pair(good) },
        { kty: 'RSA', kid: 'enc', use: 'enc', ...pair(enc) },
        { kty: 'oct', kid: 'oct', k: 'c2VjcmV0' },
        { ...privJwk, kid: 'priv' },
        { kty: 'EC', kid: 'ec', crv: 'P-256', x: 'x', y: 'y' },
        { kty: 'RSA', kid: 'dup', ...pair(dup1) },
        { kty: 'RSA', kid: 'dup', ...pair(dup2) },
      ],
    });
    await start({ cooldownSec: 30 });
    const as = (kid: string, key: crypto.KeyObject) =>
      emu.mintAccessToken(undefined, { signWith: { kid, privateKey: key } });
    expect(await status(as('good', good.privateKey))).toBe(200);
    expect(await status(as('enc', enc.privateKey))).toBe(401);
    expect(await status(as('priv', priv.privateKey))).toBe(401);
    expect(await status(as('dup', dup1.privateKey))).toBe(401);
    expect(await status(as('dup', dup2.privateKey))).toBe(401);
    const hs = emu.mintAccessToken(undefined, {
      algorithm: 'HS256',
      hmacSecret: 'secret',
      header: { kid: 'oct' },
    });
    expect(await status(hs)).toBe(401);
    expect(emu.requestCount('jwks')).toBe(1);
  });

  it('steady state: distinct tokens, no fetch and no key parsing per request', async () => {
    await start();
    expect(await status(emu.mintAccessToken())).toBe(200);
    const tokens = Array.from({ length: 30 }, (_, i) => emu.mintAccessToken(undefined, { claims: { n: i } }));
    const spy = jest.spyOn(crypto, 'createPublicKey');
    try {
      for (const t of tokens) expect(await status(t)).toBe(200);
      for (const t of tokens) expect(await status(t)).toBe(200); // verified-token cache hits
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
    expect(emu.requestCount('jwks')).toBe(1);
  });

  it('static PEM (token.publicKey): no JWKS at all', async () => {
    app = await startApp(platform, emu, { jwksUri: undefined, publicKey: emu.publicKeyPem });
    expect(await status(emu.mintAccessToken())).toBe(200);
    expect(await status(emu.mintAccessToken(undefined, { signWith: 'wrong-key' }))).toBe(401);
    expect(emu.requestCount('jwks')).toBe(0);
  });
});
