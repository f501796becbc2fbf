/**
 * The verified-token cache behind the guard is bounded in bytes: large tokens over real HTTP keep the
 * accounted size under `token.verifiedCacheMaxBytes`, and cache hits still answer with the right user.
 */
import * as crypto from 'node:crypto';
import { EzidTokenVerifier } from '../../src';
import { VERIFIED_TOKEN_ENTRY_BYTES } from '../../src/auth/ezid-token-verifier';
import { EzidEmulator } from '../../src/testing';
import { PLATFORMS, type Platform, type TestApp, bearer, startApp } from './auth-test-app';

describe.each(PLATFORMS)('verified-token cache bound on %s', (platform: Platform) => {
  let emu: EzidEmulator;
  let app: TestApp;
  const max = 64 * 1024;

  beforeAll(async () => {
    emu = await EzidEmulator.start({
      clientId: 'cli_auth_test',
      clientSecret: 's',
      audience: 'api://ezid-test',
    });
    app = await startApp(platform, emu, { verifiedCacheMaxBytes: max });
  });
  afterAll(async () => {
    await app?.close();
    await emu?.stop();
  });

  it('large tokens: accounted bytes stay under the bound; hits answer with the right user', async () => {
    const cache = (app.app.get(EzidTokenVerifier) as unknown as { cache: { size: number; bytes: number } })
      .cache;
    emu.addUser({ id: 'aaaabbbbccccddddeeee0001', email: 'big@example.com' });
    const tokens = Array.from({ length: 60 }, (_, i) =>
      emu.mintAccessToken(i % 2 ? 'big@example.com' : undefined, {
        claims: {
          n: i,
          tenants: Array.from({ length: 28 }, (_, k) => ({
            tenant_id: crypto.randomBytes(12).toString('hex'),
            tenant_name: `org${k}`,
            status: 'Verified',
            roles: [{ role_id: 'r', role_name: 'Admin', permissions: ['Team View'] }],
          })),
        },
      }),
    );
    expect(tokens[0].length).toBeGreaterThan(6000);
    for (let pass = 0; pass < 2; pass++) {
      for (const [i, t] of tokens.entries()) {
        const res = await app.get('/protected', bearer(t));
        expect(res.status).toBe(200);
        const body = (await res.json()) as { id: string; tenants: unknown[] };
        expect(body.id).toBe(i % 2 ? 'aaaabbbbccccddddeeee0001' : emu.getUser('demo@example.com')!.id);
        expect(body.tenants).toHaveLength(28);
        expect(cache.bytes).toBeLessThanOrEqual(max);
      }
    }
    expect(cache.size).toBe(60);
    expect(cache.bytes).toBe(60 * VERIFIED_TOKEN_ENTRY_BYTES);
  });
});
