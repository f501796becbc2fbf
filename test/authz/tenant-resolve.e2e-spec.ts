// `tenant.resolve` that misbehaves: a result whose `then` getter throws, a promise that never
// settles (the deadline, `tenant.resolveTimeoutMs`). Express and Fastify, real guards, real HTTP.
import { Controller, Get } from '@nestjs/common';
import { CurrentTenant, EzidTenant, Roles } from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { AuthzApp, PLATFORMS, bearer, outcomeOf, startAuthzApp } from './authz-test-app';

const A = EMULATOR_IDS.tenant1; // demo: Admin

@Controller('r')
class ResolvedController {
  @Get('admin')
  @Roles('Admin')
  admin(@CurrentTenant() tenant?: EzidTenant) {
    return { tenant: tenant?.id ?? null };
  }

  @Get('free')
  free() {
    return { ok: true };
  }
}

const resolve = (request: unknown): unknown => {
  const mode = (request as { headers: Record<string, string | undefined> }).headers['x-mode'];
  if (mode === 'then-getter') {
    return Object.defineProperty({}, 'then', {
      get() {
        throw new Error('then getter');
      },
    });
  }
  if (mode === 'hang') return new Promise<never>(() => undefined);
  return mode === undefined ? undefined : Promise.resolve(mode);
};

let emu: EzidEmulator;
let demo: string;

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
  demo = emu.mintAccessToken('demo@example.com');
});

afterAll(async () => {
  await emu?.stop();
});

describe.each(PLATFORMS)('tenant.resolve on %s', (platform) => {
  let app: AuthzApp;
  beforeAll(async () => {
    // A short deadline keeps the test fast; the default (5 s) is pinned by the guard's unit spec with fake timers.
    app = await startAuthzApp(platform, emu, [ResolvedController], {
      tenant: { resolve: resolve as never, resolveTimeoutMs: 50 },
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  const get = (path: string, mode?: string) =>
    fetch(app.url + path, {
      headers: { ...bearer(demo), ...(mode ? { 'x-mode': mode } : {}) },
      signal: AbortSignal.timeout(5000),
    });

  it('a result whose `then` getter throws is 403 tenant_forbidden, never a 500', async () => {
    expect(await outcomeOf(await get('/r/admin', 'then-getter'))).toBe('403 tenant_forbidden');
    expect(await outcomeOf(await get('/r/free', 'then-getter'))).toBe('403 tenant_forbidden');
    expect(await outcomeOf(await get('/r/admin', A))).toBe(200);
  });

  it('a promise that never settles is 503 tenant_unavailable with Retry-After once the deadline passes', async () => {
    for (const path of ['/r/admin', '/r/free']) {
      const res = await get(path, 'hang');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'tenant_unavailable',
        message: 'The tenant of this request could not be determined in time.',
      });
    }
    expect(await outcomeOf(await get('/r/admin', A))).toBe(200); // still serving
  });
});
