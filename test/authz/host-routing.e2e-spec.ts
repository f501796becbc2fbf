// Host-routed controllers (`@Controller({ host: ':tenantId.example' })`): a host param named like the
// tenant param is a tenant carrier; any other host param names a tenant the guard does not read, so the
// single-tenant fallback never applies there and the route is named at boot. Express and Fastify.
import { Controller, Get, HostParam } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { CurrentTenant, EzidTenant, Roles } from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { CaptureLogger } from '../support/capture-logger';
import { AuthzApp, PLATFORMS, startAuthzApp } from './authz-test-app';

const A = EMULATOR_IDS.tenant1; // bob: not a member
const B = EMULATOR_IDS.tenant2; // bob: Admin (his only tenant)

@Controller({ host: ':tenantId.tenants.example', path: 'billing' })
@Roles('Admin')
class TenantHostController {
  @Get()
  list(@CurrentTenant() tenant?: EzidTenant, @HostParam('tenantId') host?: string) {
    return { tenant: tenant?.id ?? null, host: host ?? null };
  }
}

@Controller({ host: ':org.orgs.example', path: 'org-billing' })
@Roles('Admin')
class OrgHostController {
  @Get()
  list(@CurrentTenant() tenant?: EzidTenant) {
    return { tenant: tenant?.id ?? null };
  }
}

/** GET with an arbitrary Host header (fetch cannot set one). */
function get(
  app: AuthzApp,
  host: string,
  token: string,
  path = '/billing',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const { port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, headers: { host, authorization: `Bearer ${token}` } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

let emu: EzidEmulator;
let bob: string;

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
  bob = emu.mintAccessToken('bob@example.com');
});

afterAll(async () => {
  await emu?.stop();
});

describe.each(PLATFORMS)('host-routed controllers on %s', (platform) => {
  describe.each([
    ['fallback off', false],
    ['tenant.singleTenantFallback: true', true],
  ])('%s', (_label, fallback) => {
    let app: AuthzApp;
    const logger = new CaptureLogger();
    beforeAll(async () => {
      app = await startAuthzApp(
        platform,
        emu,
        [TenantHostController, OrgHostController],
        { tenant: { singleTenantFallback: fallback } },
        (b) => b,
        { logger },
      );
    });
    afterAll(async () => {
      await app?.close();
    });

    it('a host param named like tenant.param is a carrier: the rule is checked in the tenant the host names', async () => {
      const foreign = await get(app, `${A}.tenants.example`, bob);
      expect(foreign.status).toBe(403);
      expect(foreign.body.code).toBe('tenant_forbidden');
      const own = await get(app, `${B}.tenants.example`, bob);
      expect(own.status).toBe(200);
      expect(own.body).toEqual({ tenant: B, host: B });
    });

    it('any other host param: no fallback to the user’s only tenant (403 tenant_required)', async () => {
      for (const host of [`${A}.orgs.example`, `${B}.orgs.example`]) {
        const res = await get(app, host, bob, '/org-billing');
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('tenant_required');
      }
    });

    it('the route whose host param is not the tenant param is named at boot', () => {
      const warnings = logger.lines.filter((l) => l.startsWith('warn') && l.includes('host parameter'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('OrgHostController.list');
      expect(warnings[0]).toContain(':org');
    });
  });
});
