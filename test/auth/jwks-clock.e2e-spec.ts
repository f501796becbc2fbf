/**
 * The JWKS cache on a monotonic clock (a wall clock stepped back must not freeze it) and
 * stale-while-revalidate (known kids never wait on a refetch; only an unknown kid may). Time is
 * stepped with an injected `EzidMonotonicClock`; a JWKS server on loopback that the test holds open
 * stands for a hanging IdP. No sleeps: ordering is asserted by events.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { EZID_MONOTONIC_CLOCK, EzidModule, type EzidJwksOptions } from '../../src';
import { EZID_KEY_SOURCE } from '../../src/auth/auth.constants';
import type { JwksKeySource } from '../../src/auth/jwks-key-source';
import { EzidEmulator } from '../../src/testing';
import { AuthTestController, PLATFORMS, type Platform, SteppedClock, bearer } from './auth-test-app';

/**
 * A JWKS endpoint on 127.0.0.1 serving the emulator's key set, with a mode: `ok`, `hang` (requests
 * are held open until `release()`), or `error` (HTTP 500). Counts requests, and the held requests
 * whose connection is still open (neither answered nor given up by the client).
 */
class JwksServer {
  mode: 'ok' | 'hang' | 'error' = 'ok';
  requests = 0;
  open = 0;
  readonly held: http.ServerResponse[] = [];
  private readonly waiters: { n: number; resolve: () => void }[] = [];
  private server!: http.Server;
  url = '';

  constructor(private readonly emu: EzidEmulator) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.requests++;
      for (const w of this.waiters.filter((x) => this.requests >= x.n)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
      if (this.mode === 'hang') {
        this.held.push(res);
        this.open++;
        res.on('close', () => this.open--);
        return;
      }
      if (this.mode === 'error') {
        res.writeHead(500).end();
        return;
      }
      this.answer(res);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks.json`;
  }

  /**
   * Resolves once `n` requests have arrived. A background refresh is started before the request
   * that triggered it is answered, but its request may reach this server after that answer (newer
   * Node versions schedule the socket later): wait on the arrival, never assume it.
   */
  arrivals(n: number): Promise<void> {
    if (this.requests >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Answers every held request with the current key set and leaves hang mode. */
  release(): void {
    this.mode = 'ok';
    for (const res of this.held.splice(0)) this.answer(res);
  }

  private answer(res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.emu.jwks()));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

interface ClockTestApp {
  app: INestApplication;
  url: string;
  keys: JwksKeySource;
}

const MAX_AGE_MS = 600_000;
const COOLDOWN_MS = 30_000;
const STALE_IF_ERROR_MS = 3_000_000;

describe.each(PLATFORMS)('JWKS cache clock and stale-while-revalidate on %s', (platform: Platform) => {
  let emu: EzidEmulator;
  let jwks: JwksServer;
  let clock: SteppedClock;
  let events: string[];
  let app: ClockTestApp | undefined;

  beforeEach(async () => {
    emu = await EzidEmulator.start({
      clientId: 'cli_auth_test',
      clientSecret: 's',
      audience: 'api://ezid-test',
    });
    events = [];
    jwks = new JwksServer(emu);
    await jwks.start();
    clock = new SteppedClock();
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await app?.app.close();
    app = undefined;
    await jwks.stop();
    await emu.stop();
  });

  async function start(options: EzidJwksOptions = {}): Promise<ClockTestApp> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        EzidModule.forRoot({
          clientId: 'cli_auth_test',
          clientSecret: 'auth-test-secret',
          apiBaseUrl: emu.url,
          callback: false,
          token: {
            jwksUri: jwks.url,
            issuer: emu.issuer,
            audience: emu.audience,
            jwks: {
              cacheMaxAgeSec: MAX_AGE_MS / 1000,
              cooldownSec: COOLDOWN_MS / 1000,
              staleIfErrorSec: STALE_IF_ERROR_MS / 1000,
              timeoutMs: 10_000,
              prefetch: false, // cold-cache behaviour is under test
              ...options,
            },
          },
        }),
      ],
      controllers: [AuthTestController],
    })
      .overrideProvider(EZID_MONOTONIC_CLOCK)
      .useValue(clock)
      .compile();
    const nest =
      platform === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
        : moduleRef.createNestApplication({ logger: false });
    await nest.listen(0, '127.0.0.1');
    const url = (await nest.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
    return (app = { app: nest, url, keys: nest.get<JwksKeySource>(EZID_KEY_SOURCE) });
  }
  /** Real time passing: both the monotonic clock and the wall clock move forward. */
  let wallOffset = 0;
  function elapse(ms: number): void {
    if (wallOffset === 0) {
      const wall = Date.now;
      jest.spyOn(Date, 'now').mockImplementation(() => wall() + wallOffset);
    }
    wallOffset += ms;
    clock.advance(ms);
  }
  beforeEach(() => (wallOffset = 0));
  const get = (token: string) => fetch(`${app!.url}/protected`, { headers: bearer(token) });
  const status = async (token: string): Promise<number> => (await get(token)).status;

  it('the wall clock stepped back an hour: a rotated-in key is fetched and accepted, a removed key is refused after max age', async () => {
    await start();
    const oldKid = emu.currentKid;
    expect(await status(emu.mintAccessToken())).toBe(200);
    expect(jwks.requests).toBe(1);

    // The wall clock (claims and the emulator's iat/exp) goes back an hour; monotonic time moves on.
    const wall = Date.now;
    jest.spyOn(Date, 'now').mockImplementation(() => wall() - 3_600_000);
    clock.advance(COOLDOWN_MS + 1);
    const oldToken = emu.mintAccessToken();
    expect(await status(oldToken)).toBe(200);

    emu.rotateKeys({ keepOld: true });
    expect(await status(emu.mintAccessToken())).toBe(200); // unknown kid: one fetch, accepted
    expect(jwks.requests).toBe(2);

    emu.removeKey(oldKid);
    expect(await status(oldToken)).toBe(200); // within max age: the documented revocation latency
    clock.advance(MAX_AGE_MS);
    // Stale: served once from the cached set while one background refresh runs...
    expect(await status(oldToken)).toBe(200);
    expect(await app!.keys.refreshing).toBe(true);
    expect(jwks.requests).toBe(3);
    // ...which removed the key.
    expect(await status(oldToken)).toBe(401);
    expect(await status(emu.mintAccessToken())).toBe(200);
    expect(jwks.requests).toBe(3);
  });

  it('the wall clock stepped forward a day: the set is not expired, no refetch', async () => {
    await start();
    expect(await status(emu.mintAccessToken())).toBe(200);
    const wall = Date.now;
    jest.spyOn(Date, 'now').mockImplementation(() => wall() + 86_400_000);
    for (let i = 0; i < 5; i++) expect(await status(emu.mintAccessToken())).toBe(200);
    expect(app!.keys.refreshing).toBeUndefined();
    expect(jwks.requests).toBe(1);
  });

  it('stale set and a hanging JWKS: requests with known kids complete while the one refresh is pending; an unknown kid waits for it', async () => {
    await start();
    const oldKid = emu.currentKid;
    expect(await status(emu.mintAccessToken())).toBe(200);
    jwks.mode = 'hang';
    elapse(MAX_AGE_MS + 1);

    const known = Array.from({ length: 20 }, (_, i) => emu.mintAccessToken(undefined, { claims: { n: i } }));
    const first = await status(known[0]); // starts the background refresh, answered at once
    expect(first).toBe(200);
    await jwks.arrivals(2);
    expect(jwks.requests).toBe(2);
    const refresh = app!.keys.refreshing!;
    expect(refresh).toBeDefined();
    void refresh.then(() => events.push('refresh-settled'));

    // A kid rotated in at the IdP: unknown here, so it waits for the pending fetch.
    emu.rotateKeys({ keepOld: true });
    const unknown = get(emu.mintAccessToken()).then((r) => {
      events.push('unknown-kid-answered');
      return r.status;
    });
    const results = await Promise.all(
      known.slice(1).map((t) =>
        status(t).then((s) => {
          events.push('known-kid-answered');
          return s;
        }),
      ),
    );
    expect(results.every((s) => s === 200)).toBe(true);
    // Every known-kid request was answered while the JWKS request was still held open.
    expect(jwks.open).toBe(1);
    expect(events).toEqual(Array(19).fill('known-kid-answered'));
    expect(jwks.requests).toBe(2); // single flight

    emu.removeKey(oldKid);
    events.push('released');
    jwks.release();
    expect(await unknown).toBe(200);
    await refresh;
    expect(events.slice(19)).toEqual(['released', 'refresh-settled', 'unknown-kid-answered']);
    // The successful refresh revoked the removed key.
    expect(await status(known[0])).toBe(401);
    expect(jwks.requests).toBe(2);
  });

  it('stale-if-error: known keys keep working while refreshes fail, then 503 with Retry-After after staleIfErrorSec', async () => {
    await start();
    const token = emu.mintAccessToken();
    expect(await status(token)).toBe(200);
    jwks.mode = 'error';
    elapse(MAX_AGE_MS + 1);
    expect(await status(emu.mintAccessToken())).toBe(200);
    expect(await app!.keys.refreshing).toBe(false);
    expect(jwks.requests).toBe(2);
    elapse(COOLDOWN_MS);
    expect(await status(emu.mintAccessToken())).toBe(200);
    await app!.keys.refreshing;
    expect(jwks.requests).toBe(3);

    elapse(STALE_IF_ERROR_MS);
    const res = await get(emu.mintAccessToken());
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe('idp_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(jwks.requests).toBe(4);

    jwks.mode = 'ok';
    elapse(COOLDOWN_MS);
    expect(await status(emu.mintAccessToken())).toBe(200);
    expect(jwks.requests).toBe(5);
  });
});
