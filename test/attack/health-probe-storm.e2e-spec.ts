// Attack: a storm of health probes mixed with requests (known kids, unknown kids) while the JWKS fails
// on a stale key set. The probes must not fetch the JWKS more than the requests' cooldown allows, must
// agree with what requests get, and the body must name no URL, host, port, client id or token.
import { Controller, Get } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import type { INestApplication } from '@nestjs/common';
import { CurrentUser, EZID_MONOTONIC_CLOCK, EzidHealthIndicator, EzidModule, Public } from '../../src';
import { EzidEmulator } from '../../src/testing';
import { PLATFORMS } from '../authz/authz-test-app';

@Controller()
class Routes {
  constructor(
    private readonly health: HealthCheckService,
    private readonly ezid: EzidHealthIndicator,
  ) {}

  @Public()
  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.ezid.isHealthy('ezid')]);
  }

  @Get('me')
  me(@CurrentUser('email') email: string): string {
    return email;
  }
}

const COOLDOWN_MS = 30_000;
const MAX_AGE_MS = 600_000;

let emu: EzidEmulator;
beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_storm', clientSecret: 'storm-secret-value' });
});
afterAll(async () => {
  await emu?.stop();
});

describe.each(PLATFORMS)('a health probe storm on %s', (platform) => {
  let nest: INestApplication;
  let url: string;
  let t = 1_000_000;
  const clock = { now: () => t };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TerminusModule,
        EzidModule.forRoot({
          clientId: 'cli_storm',
          clientSecret: 'storm-secret-value',
          apiBaseUrl: emu.url,
          callback: false,
          health: { api: true, apiIntervalSec: 30 },
          token: {
            jwksUri: emu.jwksUri,
            issuer: emu.issuer,
            audience: emu.audience,
            jwks: {
              cacheMaxAgeSec: MAX_AGE_MS / 1000,
              cooldownSec: COOLDOWN_MS / 1000,
              staleIfErrorSec: 3000,
              prefetch: false,
            },
          },
        }),
      ],
      controllers: [Routes],
    })
      .overrideProvider(EZID_MONOTONIC_CLOCK)
      .useValue(clock)
      .compile();
    nest =
      platform === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
        : moduleRef.createNestApplication({ logger: false });
    await nest.listen(0, '127.0.0.1');
    url = (await nest.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  });
  afterAll(async () => {
    emu.clearFaults();
    await nest?.close();
  });

  const me = (token: string) =>
    fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
  const probe = () => fetch(`${url}/health`).then(async (r) => ({ status: r.status, text: await r.text() }));

  it('fetches the JWKS at most once per cooldown, whatever the mix of probes and requests', async () => {
    emu.resetCounters();
    const good = emu.mintAccessToken('demo@example.com');
    const unknownKid = emu.mintAccessToken('demo@example.com', { header: { kid: 'not-a-published-kid' } });
    expect(await me(good)).toBe(200);
    expect(emu.requestCount('jwks')).toBe(1);

    t += MAX_AGE_MS + 1; // stale
    emu.fault('jwks', { status: 503 });
    const storm = async () => {
      const results = await Promise.all([
        ...Array.from({ length: 20 }, probe),
        ...Array.from({ length: 10 }, () => me(good)),
        ...Array.from({ length: 10 }, () => me(unknownKid)),
      ]);
      return results;
    };
    const first = await storm();
    expect(emu.requestCount('jwks')).toBe(2);
    expect(first.slice(20, 30)).toEqual(Array(10).fill(200)); // stale keys still serve known kids
    expect(new Set(first.slice(30))).toEqual(new Set([503])); // an unknown kid while the JWKS fails: maybe a new key
    for (const p of first.slice(0, 20) as { status: number; text: string }[]) {
      expect(p.status).toBe(200); // degraded, not down: requests pass
      const body = JSON.parse(p.text) as {
        details: { ezid: { status: string; degraded?: boolean; jwks: { state: string } } };
      };
      // Terminus 12.1: 'degraded'; Terminus 11 (the Nest 11 pass): 'up' with degraded: true.
      expect(body.details.ezid.status === 'degraded' || body.details.ezid.degraded === true).toBe(true);
      expect(body.details.ezid.jwks.state).toBe('stale');
      for (const secret of [
        '127.0.0.1',
        emu.url,
        new URL(emu.url).port,
        'cli_storm',
        'storm-secret-value',
        good,
      ])
        expect(p.text).not.toContain(secret);
    }

    t += COOLDOWN_MS - 1; // still within the cooldown
    await storm();
    expect(emu.requestCount('jwks')).toBe(2);
    expect(emu.requestCount('auth.status')).toBe(1);

    t += 1; // the cooldown is over: one more, shared by everyone
    await storm();
    expect(emu.requestCount('jwks')).toBe(3);
    expect(emu.requestCount('auth.status')).toBe(2);
  });
});
