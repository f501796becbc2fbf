// EzidHealthIndicator behind a real Terminus endpoint (TerminusModule, HealthCheckService) on Express and
// Fastify, against the emulator: healthy, JWKS down with warm keys (degraded, still 200), cold (down, 503),
// back up; the EZiD API reachability cache under a burst of parallel probes (emulator calls counted); the
// shared store up and down (a real redis-server). Time is stepped with an injected monotonic clock.
import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import type { EzidModuleOptions } from '../../src';
import { EZID_MONOTONIC_CLOCK, EzidHealthIndicator, EzidStore, Public } from '../../src';
import { EzidEmulator } from '../../src/testing';
import { SteppedClock } from '../auth/auth-test-app';
import { AuthzApp, bearer, PLATFORMS, startAuthzApp } from '../authz/authz-test-app';
import { describeWithRedis, RedisServer } from '../support/redis-server';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly ezid: EzidHealthIndicator,
  ) {}

  @Public()
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.ezid.isHealthy('ezid')]);
  }
}

@Controller('api')
class ApiController {
  @Get('me')
  me() {
    return { ok: true };
  }
}

const JWKS = { cacheMaxAgeSec: 600, cooldownSec: 30, staleIfErrorSec: 3000 };

/**
 * Terminus 12.1 has a `degraded` status; Terminus 11 (CI's Nest 11 pass) has `up` and `down` only, so a
 * degraded report is `up` with `degraded: true` there.
 */
const TERMINUS_DEGRADED =
  typeof (new HealthIndicatorService().check('probe') as { degraded?: unknown }).degraded === 'function';
const DEGRADED_BODY = TERMINUS_DEGRADED ? 'degraded' : 'ok';
const degradedDetail = (detail: Record<string, unknown>) =>
  TERMINUS_DEGRADED ? { ...detail, status: 'degraded' } : { ...detail, status: 'up', degraded: true };

interface Health {
  status: number;
  body: {
    status: string;
    details: { ezid: Record<string, unknown> & { status: string; jwks: Record<string, unknown> } };
  };
  text: string;
}

let emu: EzidEmulator;

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
});

afterAll(async () => {
  await emu?.stop();
});

afterEach(() => {
  emu.clearFaults();
});

async function startHealthApp(
  platform: (typeof PLATFORMS)[number],
  clock: SteppedClock,
  extra: Partial<EzidModuleOptions> = {},
): Promise<AuthzApp> {
  return startAuthzApp(
    platform,
    emu,
    [HealthController, ApiController],
    { ...extra, token: { ...extra.token, jwks: { ...JWKS, prefetch: false } } } as Partial<EzidModuleOptions>,
    (b) => b.overrideProvider(EZID_MONOTONIC_CLOCK).useValue(clock),
    { imports: [TerminusModule] },
  );
}

async function probe(app: AuthzApp): Promise<Health> {
  const res = await app.get('/health');
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Health['body'], text };
}

/** Nothing secret or locating in a health body: no secret, token, URL, host or port of the IdP. */
function expectNothingSensitive(h: Health): void {
  expect(h.text).not.toContain('authz-test-secret');
  expect(h.text).not.toContain(emu.url);
  expect(h.text).not.toContain(new URL(emu.url).host);
  expect(h.text).not.toMatch(/https?:\/\/|client_id|cli_authz_test|eyJ/);
}

describe.each(PLATFORMS)('EzidHealthIndicator with Terminus on %s', (platform) => {
  let app: AuthzApp | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('cold with the JWKS down: down (503); back up once the JWKS answers; healthy; the JWKS down with warm keys: degraded but up (200); past the stale window: down; back up', async () => {
    const clock = new SteppedClock();
    emu.fault('jwks', { status: 500 });
    app = await startHealthApp(platform, clock);

    let h = await probe(app);
    expect(h.status).toBe(503);
    expect(h.body.status).toBe('error');
    expect(h.body.details.ezid).toMatchObject({
      status: 'down',
      jwks: { state: 'unavailable', keys: 0, lastFetch: 'failed' },
      store: { kind: 'memory', status: 'up' },
    });
    expect(h.body.details.ezid.jwks.ageSec).toBeUndefined();
    expectNothingSensitive(h);
    // Requests agree: 503, not 401.
    expect((await app.get('/api/me', bearer(emu.mintAccessToken('demo@example.com')))).status).toBe(503);

    // A probe storm during the cooldown makes no JWKS call.
    const before = emu.requestCount('jwks');
    await Promise.all(Array.from({ length: 10 }, () => probe(app!)));
    expect(emu.requestCount('jwks')).toBe(before);

    // The JWKS is back: the first probe after the cooldown fetches it, once.
    emu.clearFaults();
    clock.advance(JWKS.cooldownSec * 1000);
    const hs = await Promise.all(Array.from({ length: 5 }, () => probe(app!)));
    expect(emu.requestCount('jwks')).toBe(before + 1);
    for (const x of hs) expect(x.status).toBe(200);
    h = await probe(app);
    expect(h.status).toBe(200);
    expect(h.body.status).toBe('ok');
    expect(h.body.details.ezid).toMatchObject({
      status: 'up',
      jwks: { state: 'fresh', ageSec: 0, lastFetch: 'ok' },
    });
    expect(h.body.details.ezid.jwks.keys).toBeGreaterThanOrEqual(1);
    expect((await app.get('/api/me', bearer(emu.mintAccessToken('demo@example.com')))).status).toBe(200);

    // Warm keys, the JWKS goes down and the set goes stale: degraded, still 200; requests still pass.
    emu.fault('jwks', { status: 500 });
    clock.advance(JWKS.cacheMaxAgeSec * 1000 + 5000);
    h = await probe(app);
    expect(h.status).toBe(200);
    expect(h.body.status).toBe(DEGRADED_BODY);
    expect(h.body.details.ezid).toMatchObject(
      degradedDetail({
        jwks: { state: 'stale', ageSec: JWKS.cacheMaxAgeSec + 5, lastFetch: 'failed' },
      }),
    );
    expectNothingSensitive(h);
    expect((await app.get('/api/me', bearer(emu.mintAccessToken('demo@example.com')))).status).toBe(200);

    // Past the stale-if-error window: no usable key, down (503).
    clock.advance(JWKS.staleIfErrorSec * 1000);
    h = await probe(app);
    expect(h.status).toBe(503);
    expect(h.body.details.ezid).toMatchObject({ status: 'down', jwks: { state: 'unavailable' } });

    // Back up.
    emu.clearFaults();
    clock.advance(JWKS.cooldownSec * 1000);
    h = await probe(app);
    expect(h.status).toBe(200);
    expect(h.body.details.ezid).toMatchObject({ status: 'up', jwks: { state: 'fresh', lastFetch: 'ok' } });
  });

  it('EZiD API reachability (health.api): a burst of parallel probes makes one call per interval; an API answering 5xx or not at all is degraded, with a reason and no URL', async () => {
    const clock = new SteppedClock();
    app = await startHealthApp(platform, clock, {
      health: { api: true, apiIntervalSec: 30, apiTimeoutMs: 300 },
    });
    const calls = () => emu.requestCount('auth.status');
    const start = calls();

    let hs = await Promise.all(Array.from({ length: 25 }, () => probe(app!)));
    expect(calls()).toBe(start + 1);
    for (const h of hs) {
      expect(h.status).toBe(200);
      expect(h.body.details.ezid).toMatchObject({ status: 'up', api: { status: 'up' } });
    }
    clock.advance(10_000);
    expect((await probe(app)).body.details.ezid.api).toEqual({ status: 'up', checkedSecAgo: 10 });
    expect(calls()).toBe(start + 1);

    // The API fails: seen at the next interval, once for the whole burst.
    emu.fault('auth.status', { status: 503 });
    clock.advance(20_000);
    hs = await Promise.all(Array.from({ length: 25 }, () => probe(app!)));
    expect(calls()).toBe(start + 2);
    for (const h of hs) {
      expect(h.status).toBe(200);
      expect(h.body.status).toBe(DEGRADED_BODY);
      expect(h.body.details.ezid).toMatchObject(
        degradedDetail({
          jwks: { state: 'fresh' },
          api: { status: 'down', reason: 'HTTP 503' },
        }),
      );
      expectNothingSensitive(h);
    }

    // The API hangs: the short deadline answers the probe.
    emu.fault('auth.status', { hang: true });
    clock.advance(30_000);
    const h = await probe(app);
    expect(h.body.details.ezid).toMatchObject({ api: { status: 'down', reason: 'timeout' } });

    emu.clearFaults();
    clock.advance(30_000);
    expect((await probe(app)).body.details.ezid).toMatchObject({ status: 'up', api: { status: 'up' } });
  });

  it('without health.api the API is never called and not reported', async () => {
    const clock = new SteppedClock();
    app = await startHealthApp(platform, clock);
    const start = emu.requestCount('auth.status');
    const h = await probe(app);
    expect(h.body.details.ezid.api).toBeUndefined();
    expect(emu.requestCount('auth.status')).toBe(start);
  });
});

describeWithRedis('EzidHealthIndicator with the Redis store', () => {
  let redis: RedisServer;
  let app: AuthzApp | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  it('the shared store up, then down (degraded, still 200, no URL in the body), then up again', async () => {
    const clock = new SteppedClock();
    app = await startHealthApp('express', clock, {
      store: { redis: `redis://:store-password@127.0.0.1:${redis.port}`, keyPrefix: 'health:' },
    });
    let h = await probe(app);
    expect(h.body.details.ezid).toMatchObject({ status: 'up', store: { kind: 'redis', status: 'up' } });

    const store = app.app.get(EzidStore);
    const down = waitFor(() => store.health().status === 'down');
    await redis.kill();
    await down;
    h = await probe(app);
    expect(h.status).toBe(200);
    expect(h.body.details.ezid).toMatchObject(
      degradedDetail({
        store: { kind: 'redis', status: 'down' },
      }),
    );
    expect(h.text).not.toContain('store-password');
    expect(h.text).not.toContain(String(redis.port));

    const up = waitFor(() => store.health().status === 'up');
    await redis.restart();
    await up;
    expect((await probe(app)).body.details.ezid).toMatchObject({
      status: 'up',
      store: { status: 'up' },
    });
  });
});

/** Resolves when `condition` holds, checked on every turn of the event loop (the store changes state on its own events). */
function waitFor(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (condition() ? resolve() : setImmediate(check));
    check();
  });
}

describe('EzidHealthIndicator without @nestjs/terminus installed', () => {
  it('isHealthy() fails with an error naming the package to install; check() still reports (a static key: up)', async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock('@nestjs/terminus', () => {
        throw Object.assign(new Error("Cannot find module '@nestjs/terminus'"), { code: 'MODULE_NOT_FOUND' });
      });
      const { EzidHealthIndicator: Indicator } =
        require('../../src/health/ezid-health.indicator') as typeof import('../../src/health/ezid-health.indicator');
      const { StaticKeySource } =
        require('../../src/auth/jwks-key-source') as typeof import('../../src/auth/jwks-key-source');
      const { EzidMemoryStore } =
        require('../../src/store/memory-store') as typeof import('../../src/store/memory-store');
      const { resolveEzidOptions } =
        require('../../src/ezid-options.validation') as typeof import('../../src/ezid-options.validation');
      const options = resolveEzidOptions({
        clientId: 'cli_authz_test',
        apiBaseUrl: emu.url,
        token: { publicKey: emu.publicKeyPem, issuer: emu.issuer },
      });
      const indicator = new Indicator(
        new StaticKeySource(emu.publicKeyPem),
        new EzidMemoryStore(),
        options,
        new SteppedClock(),
      );
      await expect(indicator.isHealthy()).rejects.toThrow(/npm install @nestjs\/terminus/);
      expect(await indicator.check()).toEqual({
        status: 'up',
        jwks: { state: 'static', keys: 1, lastFetch: 'ok' },
        store: { kind: 'memory', status: 'up', since: expect.any(String) },
      });
    });
  });
});
