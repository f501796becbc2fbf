import { Controller, Get, INestApplication, Param } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, TestingModule } from '@nestjs/testing';
import request from 'supertest';
import { inspect } from 'node:util';
import {
  CurrentTenant,
  CurrentUser,
  EzidModule,
  EzidTenant,
  EzidUser,
  Permissions,
  Roles,
} from 'nestjs-ezid';
import {
  EMULATOR_IDS,
  EZID_EMULATOR_DEFAULT_CLIENT_ID,
  EZID_TEST_PERMISSIONS_ROLE,
  EzidEmulator,
  ezidRunAs,
} from 'nestjs-ezid/testing';

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

// The README's "Your first test", as written there (modulo the adapter and prettier's line breaks).
describe.each(['express', 'fastify'] as const)("the README's first test on %s", (platform) => {
  @Controller('orgs/:tenantId/settings')
  class SettingsController {
    @Get() @Roles('Admin') get() {
      return 'ok';
    }
  }
  let emu: EzidEmulator, app: INestApplication;
  beforeAll(async () => {
    emu = await EzidEmulator.start(); // default seed: bob@example.com is Admin in org2, not a member of org1
    const moduleRef = await Test.createTestingModule({
      imports: [EzidModule.forRoot(emu.moduleOptions())],
      controllers: [SettingsController],
    }).compile();
    app = await (
      platform === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter())
        : moduleRef.createNestApplication()
    ).init();
    if (platform === 'fastify') await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(async () => {
    await app.close();
    await emu.stop();
  });
  it.each([
    ['org2', 'bob@example.com', 200],
    ['org1', 'bob@example.com', 403],
    ['org2', '', 401],
  ])('GET /orgs/%s/settings as "%s": %i', async (org, user, status) => {
    await request(app.getHttpServer())
      .get(`/orgs/${emu.tenantId(org)}/settings`)
      .set(user ? emu.authHeader(user) : {})
      .expect(status);
  });
});

describe('testing kit', () => {
  let emu: EzidEmulator;
  beforeAll(async () => {
    emu = await EzidEmulator.start();
  });
  afterAll(() => emu.stop());

  describe('EzidEmulator.start()', () => {
    it('needs no options: a default client id and a random per-start secret, never printed', async () => {
      const other = await EzidEmulator.start();
      try {
        expect(emu.clientId).toBe(EZID_EMULATOR_DEFAULT_CLIENT_ID);
        const a = emu.moduleOptions().clientSecret!;
        const b = other.moduleOptions().clientSecret!;
        expect(a.length).toBeGreaterThanOrEqual(32);
        expect(a).not.toBe(b);
        expect(JSON.stringify(emu)).not.toContain(a);
        expect(inspect(emu, { depth: 5 })).not.toContain(a);
      } finally {
        await other.stop();
      }
    });

    it('keeps working with explicit credentials and refuses empty ones', async () => {
      const explicit = await EzidEmulator.start({ clientId: 'cli_test', clientSecret: 'test-secret' });
      try {
        expect(explicit.moduleOptions()).toMatchObject({ clientId: 'cli_test', clientSecret: 'test-secret' });
      } finally {
        await explicit.stop();
      }
      await expect(EzidEmulator.start({ clientId: '' })).rejects.toThrow(
        /clientId must be a non-empty string/,
      );
    });
  });

  describe('moduleOptions()', () => {
    it('wires the module to this emulator, callback off', () => {
      expect(emu.moduleOptions()).toEqual({
        clientId: emu.clientId,
        clientSecret: expect.any(String),
        apiBaseUrl: emu.url,
        legacyApiBaseUrl: emu.url,
        token: { jwksUri: emu.jwksUri, issuer: emu.issuer },
        callback: false,
      });
    });

    it('merges token and callback overrides key by key; undefined removes a key', async () => {
      const withAud = await EzidEmulator.start({ audience: 'my-api' });
      try {
        expect(withAud.moduleOptions().token.audience).toBe('my-api');
      } finally {
        await withAud.stop();
      }
      const o = emu.moduleOptions({
        token: { cookieName: 'at', jwksUri: undefined, publicKey: emu.publicKeyPem },
        callback: { mode: 'cookie' },
        globalGuard: false,
      });
      expect(o.token).toEqual({ issuer: emu.issuer, cookieName: 'at', publicKey: emu.publicKeyPem });
      expect(o.callback).toEqual({ mode: 'cookie' });
      expect(o.globalGuard).toBe(false);
      expect(emu.moduleOptions({ callback: false }).callback).toBe(false);
      const base = emu.moduleOptions({ callback: { path: '/auth' } });
      expect(base.callback).toEqual({ path: '/auth' });
    });
  });

  describe('tenantId()', () => {
    it('maps names to ids and accepts ids', () => {
      expect(emu.tenantId('org1')).toBe(EMULATOR_IDS.tenant1);
      expect(emu.tenantId('org2')).toBe(EMULATOR_IDS.tenant2);
      expect(emu.tenantId(EMULATOR_IDS.tenant1)).toBe(EMULATOR_IDS.tenant1);
    });

    it('names the known tenants when the tenant is unknown', () => {
      expect(() => emu.tenantId('org3')).toThrow(
        `EzidEmulator: unknown tenant "org3". Known tenants: org1 (${EMULATOR_IDS.tenant1}), org2 (${EMULATOR_IDS.tenant2}).`,
      );
    });
  });

  describe('tokenFor()', () => {
    it("carries the user's seeded memberships, exactly as a login token does", () => {
      const c = claims(emu.tokenFor('demo@example.com'));
      const login = claims(emu.mintAccessToken('demo@example.com'));
      expect(c.sub).toBe(EMULATOR_IDS.demoUser);
      expect(c.tenants).toEqual(login.tenants);
      expect(c.tenants).toEqual([
        {
          tenant_id: EMULATOR_IDS.tenant1,
          tenant_name: 'org1',
          roles: [
            {
              role_id: EMULATOR_IDS.adminRole,
              role_name: 'Admin',
              permissions: ['Team View', 'Team Manage', 'Billing Manage'],
            },
          ],
          status: 'Verified',
        },
        {
          tenant_id: EMULATOR_IDS.tenant2,
          tenant_name: 'org2',
          roles: [{ role_id: EMULATOR_IDS.memberRole, role_name: 'Member', permissions: ['Team View'] }],
          status: 'Verified',
        },
      ]);
      expect(claims(emu.tokenFor(EMULATOR_IDS.alice)).sub).toBe(EMULATOR_IDS.alice);
    });

    it('names the known users when the user is unknown', () => {
      expect(() => emu.tokenFor('nobody@example.com')).toThrow(
        'EzidEmulator.tokenFor(): unknown user "nobody@example.com". Known users: demo@example.com, alice@example.com, bob@example.com, outsider@example.com.',
      );
      expect(() => emu.tokenFor('bob@example.com', { tenants: { org9: ['Admin'] } })).toThrow(
        /unknown tenant "org9". Known tenants: org1/,
      );
    });

    it('merges tenants over the seeded ones by name or id, or replaces them', () => {
      const merged = claims(
        emu.tokenFor('alice@example.com', {
          tenants: {
            org2: ['Admin'],
            [EMULATOR_IDS.tenant1]: { roles: ['Billing'], permissions: ['Export'] },
          },
        }),
      ).tenants as { tenant_id: string; roles: { role_name: string; permissions: string[] | null }[] }[];
      expect(merged.map((t) => t.tenant_id)).toEqual([EMULATOR_IDS.tenant1, EMULATOR_IDS.tenant2]);
      expect(merged[0].roles).toEqual([
        { role_id: expect.stringMatching(/^[0-9a-f]{24}$/), role_name: 'Billing', permissions: null },
        {
          role_id: expect.stringMatching(/^[0-9a-f]{24}$/),
          role_name: EZID_TEST_PERMISSIONS_ROLE,
          permissions: ['Export'],
        },
      ]);
      expect(merged[1].roles.map((r) => r.role_name)).toEqual(['Admin']);
      const replaced = claims(
        emu.tokenFor('demo@example.com', { tenants: { org2: ['Member'] }, replaceTenants: true }),
      ).tenants as { tenant_id: string }[];
      expect(replaced.map((t) => t.tenant_id)).toEqual([EMULATOR_IDS.tenant2]);
      const none = claims(emu.tokenFor('demo@example.com', { replaceTenants: true }));
      expect(none.tenants).toEqual([]);
      const foreign = 'aaaaaaaaaaaaaaaaaaaaaaaa';
      const other = claims(emu.tokenFor('outsider@example.com', { tenants: { [foreign]: ['Admin'] } }))
        .tenants as { tenant_id: string; tenant_name: string }[];
      expect(other).toMatchObject([{ tenant_id: foreign, tenant_name: '' }]);
    });

    it('sets claims (undefined removes one) and the expiry', () => {
      const now = Math.floor(Date.now() / 1000);
      const c = claims(
        emu.tokenFor('bob@example.com', { claims: { isAdmin: true, email: undefined }, expiresInSec: 30 }),
      );
      expect(c.isAdmin).toBe(true);
      expect(c).not.toHaveProperty('email');
      expect(c.exp as number).toBeGreaterThanOrEqual(now + 29);
      expect(c.exp as number).toBeLessThanOrEqual(now + 31);
      expect(emu.authHeader('bob@example.com').authorization).toMatch(/^Bearer ey/);
    });
  });

  describe('tokens against the real guards (Express)', () => {
    @Controller('orgs/:tenantId')
    class OrgController {
      @Get('billing') @Permissions('Billing Manage') billing(@CurrentTenant() t: EzidTenant) {
        return { tenant: t.id };
      }
      @Get('export') @Permissions('Export') export() {
        return { ok: true };
      }
      @Get('me') me(@CurrentUser() u: EzidUser) {
        return { admin: u.claims.isAdmin ?? null };
      }
    }
    let app: INestApplication;
    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [EzidModule.forRoot(emu.moduleOptions())],
        controllers: [OrgController],
      }).compile();
      app = await moduleRef.createNestApplication().init();
    });
    afterAll(() => app.close());
    const get = (path: string, headers: Record<string, string>) =>
      request(app.getHttpServer()).get(path).set(headers);

    it('expired token: 401 token_expired; a short expiry still works', async () => {
      const me = `/orgs/${emu.tenantId('org2')}/me`;
      const res = await get(me, emu.authHeader('bob@example.com', { expiresInSec: -120 }));
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('token_expired');
      const expired = claims(emu.tokenFor('bob@example.com', { expiresInSec: -120 }));
      expect((expired.exp as number) - (expired.iat as number)).toBe(60);
      await get(me, emu.authHeader('bob@example.com', { expiresInSec: 5 })).expect(200);
    });

    it('extra tenant and permission grant exactly that tenant', async () => {
      const org1 = `/orgs/${emu.tenantId('org1')}`;
      await get(`${org1}/billing`, emu.authHeader('bob@example.com')).expect(403);
      await get(`${org1}/billing`, emu.authHeader('bob@example.com', { tenants: { org1: ['Admin'] } }))
        .expect(200)
        .expect({ tenant: EMULATOR_IDS.tenant1 });
      const exporter = emu.authHeader('alice@example.com', {
        tenants: { org1: { permissions: ['Export'] } },
      });
      await get(`${org1}/export`, exporter).expect(200);
      await get(`/orgs/${emu.tenantId('org2')}/export`, exporter).expect(403);
      const unverified = emu.authHeader('demo@example.com', {
        tenants: { org1: { roles: ['Admin'], status: 'Invited' } },
      });
      await get(`${org1}/billing`, unverified).expect(403);
      await get(`${org1}/me`, emu.authHeader('demo@example.com', { claims: { isAdmin: true } })).expect({
        admin: true,
      });
    });
  });

  describe('ezidRunAs()', () => {
    @Controller('orgs/:tenantId/settings')
    class SettingsController {
      @Get(':section')
      @Roles('Admin')
      get(
        @Param('section') section: string,
        @CurrentUser('email') email: string,
        @CurrentTenant() t: EzidTenant,
      ) {
        return { section, email, tenant: t.name };
      }
    }
    let moduleRef: TestingModule;
    beforeAll(async () => {
      moduleRef = await Test.createTestingModule({
        imports: [EzidModule.forRoot(emu.moduleOptions())],
        controllers: [SettingsController],
      }).compile();
      await moduleRef.init();
    });
    afterAll(() => moduleRef.close());

    it('runs the handler through the real guards as a seeded user in a tenant', async () => {
      await expect(
        ezidRunAs(moduleRef, { user: 'bob@example.com', tenant: 'org2' }, SettingsController, 'get', {
          params: { section: 'billing' },
        }),
      ).resolves.toEqual({ section: 'billing', email: 'bob@example.com', tenant: 'org2' });
    });

    it('rejects with the guard exception: 403 in another tenant, 401 without or with a bad token', async () => {
      await expect(
        ezidRunAs(moduleRef, { user: 'bob@example.com', tenant: 'org1' }, SettingsController, 'get'),
      ).rejects.toMatchObject({ status: 403, response: { code: 'tenant_forbidden' } });
      await expect(
        ezidRunAs(moduleRef, { user: 'alice@example.com', tenant: 'org1' }, SettingsController, 'get'),
      ).rejects.toMatchObject({ status: 403, response: { code: 'insufficient_role' } });
      await expect(
        ezidRunAs(moduleRef, { anonymous: true, tenant: 'org2' }, SettingsController, 'get'),
      ).rejects.toMatchObject({ status: 401 });
      await expect(
        ezidRunAs(moduleRef, { token: 'not-a-jwt', tenant: 'org2' }, SettingsController, 'get'),
      ).rejects.toMatchObject({ status: 401 });
    });

    it('takes a token, token options, and works on an application too', async () => {
      const token = emu.tokenFor('alice@example.com', { tenants: { org1: ['Admin'] } });
      await expect(
        ezidRunAs(moduleRef, { token, tenant: EMULATOR_IDS.tenant1 }, SettingsController, 'get'),
      ).resolves.toMatchObject({ tenant: 'org1' });
      await expect(
        ezidRunAs(
          moduleRef,
          { user: 'alice@example.com', tenant: 'org2', tokenOptions: { tenants: { org2: ['Admin'] } } },
          SettingsController,
          'get',
        ),
      ).resolves.toMatchObject({ tenant: 'org2' });
      const app = await moduleRef.createNestApplication().init();
      try {
        await expect(
          ezidRunAs(app, { user: 'bob@example.com', tenant: 'org2' }, SettingsController, 'get'),
        ).resolves.toMatchObject({ email: 'bob@example.com' });
      } finally {
        await app.close();
      }
    });
  });
});
