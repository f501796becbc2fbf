/**
 * Boot-time JWKS prefetch (`token.jwks.prefetch`, default on): started in the background when the app
 * boots, never awaited by boot; a success means the first request makes no fetch; a failure is one
 * warning naming the JWKS host and the reason class (never the path, the query or a secret) and does
 * not start the cooldown, so the first request tries again.
 */
import { EZID_KEY_SOURCE } from '../../src/auth/auth.constants';
import type { JwksKeySource } from '../../src/auth/jwks-key-source';
import { EzidEmulator } from '../../src/testing';
import { freePort } from '../callback/callback-test-app';
import { CaptureLogger } from '../support/capture-logger';
import { PLATFORMS, type Platform, type TestApp, bearer, startApp } from './auth-test-app';

const SECRET = 'auth-test-secret';

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe.each(PLATFORMS)('JWKS prefetch at boot on %s', (platform: Platform) => {
  let emu: EzidEmulator;
  let app: TestApp | undefined;
  let logger: CaptureLogger;

  beforeEach(async () => {
    logger = new CaptureLogger();
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

  const keys = (): JwksKeySource => app!.app.get<JwksKeySource>(EZID_KEY_SOURCE);
  const warnings = (): string[] => logger.lines.filter((l) => l.startsWith('warn'));

  it('boot does not wait for a held JWKS; once it answers, the first request makes no fetch', async () => {
    const held = gate();
    emu.fault('jwks', { holdResponse: held.promise });
    // The option left out (undefined): the default, on.
    app = await startApp(platform, emu, { jwks: { prefetch: undefined } }, {}, undefined, logger);
    // Booted and serving while the JWKS answer is still held.
    const inflight = keys().prefetched;
    expect(keys().refreshing).toBe(inflight);
    expect((await app.get('/public')).status).toBe(200);
    held.open();
    expect(await inflight).toBe(true);
    expect(emu.requestCount('jwks')).toBe(1);
    expect(await (await app.get('/protected', bearer(emu.mintAccessToken()))).status).toBe(200);
    expect(emu.requestCount('jwks')).toBe(1);
    expect(warnings()).toEqual([]);
  });

  it('a JWKS failing at boot: one warning with the host and the reason, no secret; boot succeeds; the first request fetches again', async () => {
    emu.fault('jwks', { status: 503, times: 1 });
    const jwksUri = `${emu.jwksUri}?access_token=${SECRET}-in-query`;
    app = await startApp(platform, emu, { jwksUri, jwks: { prefetch: true } }, {}, undefined, logger);
    expect(await keys().prefetched).toBe(false);
    expect((await app.get('/public')).status).toBe(200);
    const w = warnings();
    expect(w).toHaveLength(1);
    expect(w[0]).toContain(new URL(emu.jwksUri).host);
    expect(w[0]).toContain('HTTP 503');
    expect(w[0]).not.toContain(SECRET);
    expect(w[0]).not.toContain('access_token');
    expect(w[0]).not.toContain(new URL(emu.jwksUri).pathname);
    // The failed prefetch did not start the cooldown (30 s here): the first request fetches.
    expect((await app.get('/protected', bearer(emu.mintAccessToken()))).status).toBe(200);
    expect(emu.requestCount('jwks')).toBe(2);
    expect(warnings()).toHaveLength(1);
  });

  it('connection refused at boot: one warning naming the host and "connection refused"', async () => {
    const port = await freePort(); // nothing listens there
    app = await startApp(
      platform,
      emu,
      { jwksUri: `http://127.0.0.1:${port}/keys/jwks.json?k=v`, jwks: { prefetch: true } },
      {},
      undefined,
      logger,
    );
    expect(await keys().prefetched).toBe(false);
    expect((await app.get('/public')).status).toBe(200);
    const w = warnings();
    expect(w).toHaveLength(1);
    expect(w[0]).toContain(`host 127.0.0.1:${port},`);
    expect(w[0]).toContain('connection refused');
    expect(w[0]).not.toContain('/keys/jwks.json');
    expect(w[0]).not.toContain('k=v');
  });

  it('prefetch: false fetches nothing at boot', async () => {
    app = await startApp(platform, emu, { jwks: { prefetch: false } }, {}, undefined, logger);
    expect(keys().prefetched).toBeUndefined();
    expect((await app.get('/public')).status).toBe(200);
    expect(emu.requestCount('jwks')).toBe(0);
  });

  it('a static publicKey: nothing to prefetch, no JWKS request, no warning', async () => {
    app = await startApp(
      platform,
      emu,
      { jwksUri: undefined, publicKey: emu.publicKeyPem, jwks: { prefetch: true } },
      {},
      undefined,
      logger,
    );
    expect((await app.get('/protected', bearer(emu.mintAccessToken()))).status).toBe(200);
    expect(emu.requestCount('jwks')).toBe(0);
    expect(warnings()).toEqual([]);
  });
});
