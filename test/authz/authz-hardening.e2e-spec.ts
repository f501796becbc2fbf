// Authorization that never fails open (security hardening III, items 1 to 5 and look-alike role
// names), on Express and Fastify, with the real guards (app-wide), the real Passport strategy and the
// emulator's RS256 tokens over real HTTP.
import {
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  Post,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import {
  CurrentTenant,
  CurrentUser,
  EzidAuthorizationHook,
  EzidRolesGuard,
  EzidTenant,
  EzidUser,
  Permissions,
  Public,
  Roles,
  getEzidTenant,
  getEzidUser,
} from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { CaptureLogger } from '../support/capture-logger';
import { AuthzApp, PLATFORMS, bearer, outcomeOf, send, startAuthzApp } from './authz-test-app';

const A = EMULATOR_IDS.tenant1; // demo: Admin; alice: Member
const B = EMULATOR_IDS.tenant2; // demo: Member; bob: Admin (bob's only tenant)

@Controller('orgs/:orgId/billing')
class OrgIdBillingController {
  @Post('refund')
  @Roles('Admin')
  refund(@CurrentTenant() tenant?: EzidTenant) {
    return { refunded: true, tenant: tenant?.id ?? null };
  }

  @Get('info')
  info(@CurrentTenant() tenant?: EzidTenant) {
    return { tenant: tenant?.id ?? null };
  }
}

@Controller('passport/orgs/:orgId')
class PassportOrgIdController {
  @Public()
  @UseGuards(AuthGuard('ezid-jwt'))
  @Roles('Admin')
  @Post('refund')
  refund() {
    return { refunded: true };
  }
}

@Controller('reports')
class ReportsController {
  @Get()
  @Permissions('Billing Manage')
  list(@CurrentTenant() tenant?: EzidTenant) {
    return { tenant: tenant?.id ?? null };
  }
}

@Controller('t/:tenantId/billing')
class TenantIdBillingController {
  @Post('refund')
  @Roles('Admin')
  refund(@CurrentTenant() tenant: EzidTenant) {
    return { tenant: tenant.id };
  }
}

@Controller('solo')
class SoloController {
  @Get()
  @Roles('Admin')
  solo(@CurrentTenant() tenant?: EzidTenant) {
    return { tenant: tenant?.id ?? null };
  }
}

@Public()
@Controller('pub-class/:tenantId')
class PublicClassController {
  @Get('admin')
  @Roles('Admin')
  admin(@CurrentTenant() tenant: EzidTenant) {
    return { tenant: tenant.id };
  }

  @Get('open')
  open(@CurrentUser() user?: EzidUser) {
    return { user: user?.id ?? null };
  }
}

@Public()
class PublicBaseController {
  @Get('admin')
  admin() {
    return { ok: true };
  }
}

@Controller('pub-base/:tenantId')
@Roles('Admin')
class AdminFromPublicBaseController extends PublicBaseController {}

@Controller('passport/:tenantId')
class PassportRecipeController {
  @Public()
  @UseGuards(AuthGuard('ezid-jwt'))
  @Roles('Admin')
  @Get('recipe')
  recipe(@CurrentUser('email') email: string) {
    return { email };
  }

  @Public()
  @UseGuards(AuthGuard('ezid-jwt'), EzidRolesGuard)
  @Roles('Admin')
  @Get('recipe-with-roles-guard')
  withRolesGuard(@CurrentUser('email') email: string) {
    return { email };
  }
}

type Outcome = string | number;

let emu: EzidEmulator;
let demo: string;
let alice: string;
let bob: string;

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
  demo = emu.mintAccessToken('demo@example.com');
  alice = emu.mintAccessToken('alice@example.com');
  bob = emu.mintAccessToken('bob@example.com');
});

afterAll(async () => {
  await emu?.stop();
});

describe.each(PLATFORMS)('authorization hardening on %s', (platform) => {
  describe('1. the single-tenant fallback never authorizes in the wrong tenant', () => {
    const controllers = [
      OrgIdBillingController,
      ReportsController,
      TenantIdBillingController,
      SoloController,
      PassportOrgIdController,
    ];

    describe.each([
      ['default (fallback off)', false],
      ['tenant.singleTenantFallback: true', true],
    ])('%s', (_label, fallback) => {
      let app: AuthzApp;
      const logger = new CaptureLogger();

      beforeAll(async () => {
        app = await startAuthzApp(
          platform,
          emu,
          controllers,
          fallback ? { tenant: { singleTenantFallback: true } } : {},
          undefined,
          { logger },
        );
      });
      afterAll(async () => {
        await app?.close();
      });

      const call = async (method: string, path: string, token: string): Promise<Outcome> =>
        outcomeOf(await send(app, method, path, bearer(token)));

      it('Admin in tenant B only: 403 on POST /orgs/<A>/billing/refund (param orgId)', async () => {
        expect(await call('POST', `/orgs/${A}/billing/refund`, bob)).toBe('403 tenant_required');
        // The same user, the same rule, the tenant in the param the guard reads: checked in that tenant.
        expect(await call('POST', `/t/${A}/billing/refund`, bob)).toBe('403 tenant_forbidden');
        expect((await send(app, 'POST', `/t/${B}/billing/refund`, bearer(bob))).status).toBe(201);
      });

      it('the same through the Passport recipe (@Public() @UseGuards(AuthGuard("ezid-jwt")) @Roles)', async () => {
        expect(await call('POST', `/passport/orgs/${A}/refund`, bob)).toBe('403 tenant_required');
      });

      it('Admin in tenant B only: 403 on GET /reports?tenant=<A> under @Permissions', async () => {
        expect(await call('GET', `/reports?tenant=${A}`, bob)).toBe('403 tenant_required');
      });

      it('@CurrentTenant() is never a tenant the request did not name on a route with path params', async () => {
        const res = await send(app, 'GET', `/orgs/${A}/billing/info`, bearer(bob));
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ tenant: null });
      });

      it(`a parameter-free route with no query string: ${fallback ? 'the only tenant' : 'tenant_required'}`, async () => {
        if (!fallback) {
          expect(await call('GET', '/solo', bob)).toBe('403 tenant_required');
          return;
        }
        const res = await send(app, 'GET', '/solo', bearer(bob));
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ tenant: B });
        expect(await call('GET', '/solo?x=1', bob)).toBe('403 tenant_required');
        expect(await call('GET', '/solo', alice)).toBe('403 insufficient_role'); // Member in A only
      });

      it('warns once at boot about each rule-bearing route whose path params do not include the tenant param', () => {
        const warnings = logger.lines.filter((l) => l.startsWith('warn') && l.includes('EzidRolesGuard'));
        const refund = warnings.filter((l) => l.includes('POST /orgs/:orgId/billing/refund'));
        expect(refund).toHaveLength(1);
        expect(refund[0]).toContain(':orgId');
        expect(refund[0]).toContain(':tenantId');
        // Routes without a rule, without params, or with the tenant param: no warning.
        expect(warnings.some((l) => l.includes('/billing/info'))).toBe(false);
        expect(warnings.some((l) => l.includes('/reports'))).toBe(false);
        expect(warnings.some((l) => l.includes('/t/:tenantId'))).toBe(false);
      });
    });
  });

  describe('2. @Public() never switches off @Roles / @Permissions or the tenant check', () => {
    let app: AuthzApp;
    beforeAll(async () => {
      app = await startAuthzApp(platform, emu, [
        PublicClassController,
        AdminFromPublicBaseController,
        PassportRecipeController,
      ]);
    });
    afterAll(async () => {
      await app?.close();
    });

    const call = async (path: string, token?: string): Promise<Outcome> =>
      outcomeOf(await app.get(path, token ? bearer(token) : {}));

    it.each([
      ['class @Public() + handler @Roles', 'pub-class/{t}/admin'],
      ['@Public() base controller + subclass @Roles', 'pub-base/{t}/admin'],
      ["Passport recipe @Public() @UseGuards(AuthGuard('ezid-jwt'))", 'passport/{t}/recipe'],
      ['Passport recipe with EzidRolesGuard listed', 'passport/{t}/recipe-with-roles-guard'],
    ])('%s: anonymous 401, Member 403, Admin 200', async (_shape, pattern) => {
      const path = (t: string) => `/${pattern.replace('{t}', t)}`;
      expect(await call(path(A))).toBe('401 token_missing');
      expect(await call(path(A), alice)).toBe('403 insufficient_role'); // Member in A
      expect(await call(path(B), demo)).toBe('403 insufficient_role'); // Admin in A, Member in B
      expect(await call(path(B), alice)).toBe('403 tenant_forbidden'); // not a member of B
      expect(await call(path(A), demo)).toBe(200);
      expect(await call(path(B), bob)).toBe(200);
    });

    it('a @Public() route without a rule stays public', async () => {
      const res = await app.get(`/pub-class/${A}/open`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ user: null });
    });
  });

  describe('2. the Passport recipe with globalGuard: false', () => {
    let app: AuthzApp;
    const logger = new CaptureLogger();
    beforeAll(async () => {
      app = await startAuthzApp(
        platform,
        emu,
        [PassportRecipeController],
        { globalGuard: false },
        undefined,
        {
          logger,
        },
      );
    });
    afterAll(async () => {
      await app?.close();
    });

    it('@UseGuards(AuthGuard("ezid-jwt"), EzidRolesGuard): the rule is enforced after Passport', async () => {
      const path = (t: string) => `/passport/${t}/recipe-with-roles-guard`;
      expect((await app.get(path(A))).status).toBe(401);
      expect(await outcomeOf(await app.get(path(A), bearer(alice)))).toBe('403 insufficient_role');
      expect(await outcomeOf(await app.get(path(A), bearer(demo)))).toBe(200);
    });

    it('a rule-bearing route without EzidRolesGuard is named at boot (nothing enforces its rule)', () => {
      const warnings = logger.lines.filter((l) => l.startsWith('warn') && l.includes('not enforced'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('GET /passport/:tenantId/recipe ');
    });
  });

  describe('4. async tenant.resolve', () => {
    const resolve = (request: unknown): string | undefined | Promise<string | undefined> => {
      const org = (request as { headers: Record<string, string | undefined> }).headers['x-org'];
      if (org === 'throw') throw new Error('resolver failed: SECRET-IN-MESSAGE');
      if (org === 'reject') return Promise.reject(new Error('lookup failed: SECRET-IN-MESSAGE'));
      if (org === 'reject-http') return Promise.reject(new ServiceUnavailableException());
      return new Promise((ok) => setImmediate(() => ok(org)));
    };
    let app: AuthzApp;
    const logger = new CaptureLogger();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);

    beforeAll(async () => {
      process.on('unhandledRejection', onUnhandled);
      app = await startAuthzApp(platform, emu, [SoloController], { tenant: { resolve } }, undefined, {
        logger,
      });
    });
    afterAll(async () => {
      process.off('unhandledRejection', onUnhandled);
      await app?.close();
    });

    const call = async (org: string | undefined, token = demo): Promise<Outcome> =>
      outcomeOf(await app.get('/solo', { ...bearer(token), ...(org === undefined ? {} : { 'x-org': org }) }));

    it('is awaited: its tenant is the one checked', async () => {
      expect(await call(A)).toBe(200);
      expect(await call(B)).toBe('403 insufficient_role');
      expect(await call(undefined)).toBe('403 tenant_required');
      const res = await app.get('/solo', { ...bearer(demo), 'x-org': A });
      expect(await res.json()).toEqual({ tenant: A });
    });

    it('is cross-checked against the header like a synchronous one', async () => {
      const res = await app.get('/solo', { ...bearer(demo), 'x-org': A, 'x-tenant-id': B });
      expect(await outcomeOf(res)).toBe('403 tenant_forbidden');
    });

    it('a rejection or a throw is a clean 403 (an HttpException as is), never a crash or an unhandled rejection', async () => {
      expect(await call('reject')).toBe('403 tenant_forbidden');
      expect(await call('throw')).toBe('403 tenant_forbidden');
      const res = await app.get('/solo', { ...bearer(demo), 'x-org': 'reject-http' });
      expect(res.status).toBe(503);
      await res.body?.cancel();
      expect(await call(A)).toBe(200); // the process and the app still serve
      await new Promise((ok) => setImmediate(ok));
      expect(unhandled).toEqual([]);
      expect(logger.lines.join('\n')).not.toContain('SECRET-IN-MESSAGE');
    });
  });

  describe('5. guards that need the user run after authentication (@EzidAuthorizationHook)', () => {
    const seen: { rootGuardSawUser: boolean[]; hookTenants: (string | null)[] } = {
      rootGuardSawUser: [],
      hookTenants: [],
    };

    /** An APP_GUARD of the app's root module: runs before the module's guards. */
    @Injectable()
    class RootAppGuard implements CanActivate {
      canActivate(context: ExecutionContext): boolean {
        seen.rootGuardSawUser.push(getEzidUser(context) !== undefined);
        return true;
      }
    }

    /** A block-list: refuses suspended users. */
    @Injectable()
    @EzidAuthorizationHook()
    class BlockListGuard implements CanActivate {
      canActivate(context: ExecutionContext): boolean {
        const user = getEzidUser(context);
        seen.hookTenants.push(getEzidTenant(context)?.id ?? null);
        return user?.id !== EMULATOR_IDS.bob;
      }
    }

    @Controller('h/:tenantId')
    class HookedController {
      @Get('member')
      member() {
        return { ok: true };
      }

      @Get('admin')
      @Roles('Admin')
      admin() {
        return { ok: true };
      }
    }

    let app: AuthzApp;
    beforeAll(async () => {
      app = await startAuthzApp(platform, emu, [HookedController, SoloController], {}, undefined, {
        providers: [{ provide: APP_GUARD, useClass: RootAppGuard }, BlockListGuard],
      });
    });
    afterAll(async () => {
      await app?.close();
    });

    it('an APP_GUARD of the root module runs before EzidAuthGuard and never sees the user (the documented order)', async () => {
      seen.rootGuardSawUser.length = 0;
      expect((await app.get(`/h/${B}/member`, bearer(demo))).status).toBe(200);
      expect(seen.rootGuardSawUser).toEqual([false]);
    });

    it('a block-list hook refuses the suspended user (403 access_denied), with the authorized tenant in view', async () => {
      seen.hookTenants.length = 0;
      expect(await outcomeOf(await app.get(`/h/${B}/admin`, bearer(bob)))).toBe('403 access_denied');
      expect(await outcomeOf(await app.get(`/h/${B}/member`, bearer(bob)))).toBe('403 access_denied');
      expect(await outcomeOf(await app.get(`/h/${A}/admin`, bearer(demo)))).toBe(200);
      expect(seen.hookTenants).toEqual([B, B, A]);
    });

    it('hooks run only after the module allowed: a token problem is still 401, a missing right 403', async () => {
      seen.hookTenants.length = 0;
      expect(await outcomeOf(await app.get(`/h/${B}/admin`))).toBe('401 token_missing');
      expect(await outcomeOf(await app.get(`/h/${B}/admin`, bearer(alice)))).toBe('403 tenant_forbidden');
      expect(seen.hookTenants).toEqual([]);
    });
  });

  describe('look-alike role names never escape a prohibited list', () => {
    @Controller('u/:tenantId')
    class ProhibitedController {
      @Get()
      @Roles('Member', { prohibited: ['Suspended'] })
      get() {
        return { ok: true };
      }
    }

    let app: AuthzApp;
    beforeAll(async () => {
      app = await startAuthzApp(platform, emu, [ProhibitedController]);
    });
    afterAll(async () => {
      await app?.close();
    });

    const withRoles = (names: string[]) =>
      emu.mintAccessToken('demo@example.com', {
        claims: {
          tenants: [
            {
              tenant_id: A,
              tenant_name: 'org1',
              status: 'Verified',
              roles: names.map((n, i) => ({ role_id: `r${i}`, role_name: n, permissions: [] })),
            },
          ],
        },
      });

    it.each([
      ['exact', 'Suspended'],
      ['trailing space', 'Suspended '],
      ['leading tab', '\tSuspended'],
      ['lower case', 'suspended'],
      ['upper case', 'SUSPENDED'],
      ['fullwidth', 'Ｓｕｓｐｅｎｄｅｄ'],
      ['zero-width space inside', 'Suspen\u200Bded'],
      ['soft hyphen inside', 'Sus\u00ADpended'],
    ])('held %s (%j) is prohibited', async (_label, name) => {
      expect(await outcomeOf(await app.get(`/u/${A}`, bearer(withRoles(['Member', name]))))).toBe(
        '403 insufficient_role',
      );
    });

    it('granting names stay exact: "Member " or "member" is not Member', async () => {
      expect(await outcomeOf(await app.get(`/u/${A}`, bearer(withRoles(['Member']))))).toBe(200);
      expect(await outcomeOf(await app.get(`/u/${A}`, bearer(withRoles(['Member ']))))).toBe(
        '403 insufficient_role',
      );
      expect(await outcomeOf(await app.get(`/u/${A}`, bearer(withRoles(['member']))))).toBe(
        '403 insufficient_role',
      );
    });
  });
});
