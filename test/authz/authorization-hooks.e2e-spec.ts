// `@EzidAuthorizationHook()` guards run wherever EzidRolesGuard runs, whatever the wiring: app-wide,
// listed in @UseGuards() with globalGuard: false, provided with useFactory / useValue; a hook that is
// not a singleton fails boot. Express and Fastify, real guards, the emulator's tokens over real HTTP.
import {
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  Module,
  Provider,
  Scope,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  CurrentTenant,
  EzidAuthGuard,
  EzidAuthorizationHook,
  EzidModule,
  EzidRolesGuard,
  EzidTenant,
  Roles,
  getEzidUser,
} from '../../src';
import { EzidHttpException } from '../../src/common/ezid-http.exception';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { AuthzApp, PLATFORMS, Platform, bearer, outcomeOf, startAuthzApp } from './authz-test-app';

const A = EMULATOR_IDS.tenant1; // demo: Admin; alice: Member

/** Refuses alice. */
@Injectable()
@EzidAuthorizationHook()
class BlockAliceGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return getEzidUser(context)?.id !== EMULATOR_IDS.alice;
  }
}

/** Refuses the ids it is given (so it can only be built by a factory). */
@Injectable()
@EzidAuthorizationHook()
class FactoryBlockList implements CanActivate {
  constructor(private readonly blocked: ReadonlySet<string>) {}
  canActivate(context: ExecutionContext): boolean {
    const user = getEzidUser(context);
    return !user || !this.blocked.has(user.id);
  }
}

@Controller('orgs/:tenantId/reports')
@UseGuards(EzidAuthGuard, EzidRolesGuard)
class ListedReportsController {
  @Get()
  @Roles('Admin', 'Member')
  list(@CurrentTenant() tenant?: EzidTenant) {
    return { tenant: tenant?.id ?? null };
  }

  @Get('free')
  free() {
    return { ok: true };
  }
}

@Controller('feature/:tenantId')
@UseGuards(EzidAuthGuard, EzidRolesGuard)
class FeatureController {
  @Get()
  @Roles('Admin', 'Member')
  get() {
    return { ok: true };
  }
}

/** A hook whose own lookup is down: the package's 503, or a plain Nest 503 without headers. */
@Injectable()
@EzidAuthorizationHook()
class UnavailableHook implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const mode = context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-hook'];
    if (mode === 'ezid') throw new EzidHttpException(503, 'idp_unavailable', 'down', { 'Retry-After': '7' });
    if (mode === 'plain') throw new ServiceUnavailableException();
    return true;
  }
}

@Controller('me')
class MeController {
  @Get()
  me() {
    return { ok: true };
  }
}

let emu: EzidEmulator;
let demo: string;
let alice: string;

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
  demo = emu.mintAccessToken('demo@example.com');
  alice = emu.mintAccessToken('alice@example.com');
});

afterAll(async () => {
  await emu?.stop();
});

describe.each(PLATFORMS)('authorization hooks on %s', (platform) => {
  describe('globalGuard: false, @UseGuards(EzidAuthGuard, EzidRolesGuard) in the root and in a feature module', () => {
    let app: AuthzApp;
    beforeAll(async () => {
      @Module({ controllers: [FeatureController] }) // EzidModule is global here
      class FeatureModule {}
      app = await startAuthzApp(
        platform,
        emu,
        [ListedReportsController],
        { globalGuard: false, isGlobal: true },
        (b) => b,
        { providers: [BlockAliceGuard], imports: [FeatureModule] },
      );
    });
    afterAll(async () => {
      await app?.close();
    });

    it('the hook refuses the blocked user on a rule-bearing route and on a route without a rule', async () => {
      expect(await outcomeOf(await app.get(`/orgs/${A}/reports`, bearer(alice)))).toBe('403 access_denied');
      expect(await outcomeOf(await app.get(`/orgs/${A}/reports/free`, bearer(alice)))).toBe(
        '403 access_denied',
      );
      expect(await outcomeOf(await app.get(`/orgs/${A}/reports`, bearer(demo)))).toBe(200);
    });

    it('the guard instance of another module runs the same hooks', async () => {
      expect(await outcomeOf(await app.get(`/feature/${A}`, bearer(alice)))).toBe('403 access_denied');
      expect(await outcomeOf(await app.get(`/feature/${A}`, bearer(demo)))).toBe(200);
    });
  });

  describe.each([
    [
      'useFactory',
      { provide: FactoryBlockList, useFactory: () => new FactoryBlockList(new Set([EMULATOR_IDS.alice])) },
    ],
    ['useValue', { provide: 'BLOCK_LIST', useValue: new FactoryBlockList(new Set([EMULATOR_IDS.alice])) }],
    ['useExisting', { provide: 'ALIAS', useExisting: BlockAliceGuard }],
  ])('a hook provided with %s', (_kind, provider) => {
    let app: AuthzApp;
    beforeAll(async () => {
      app = await startAuthzApp(platform, emu, [MeController], {}, (b) => b, {
        providers: [provider, ...(provider.provide === 'ALIAS' ? [BlockAliceGuard] : [])],
      });
    });
    afterAll(async () => {
      await app?.close();
    });

    it('runs: the blocked user is refused, others pass', async () => {
      expect(await outcomeOf(await app.get('/me', bearer(alice)))).toBe('403 access_denied');
      expect(await outcomeOf(await app.get('/me', bearer(demo)))).toBe(200);
    });
  });

  describe('a hook that throws a 503', () => {
    let app: AuthzApp;
    beforeAll(async () => {
      app = await startAuthzApp(platform, emu, [MeController], {}, (b) => b, {
        providers: [UnavailableHook],
      });
    });
    afterAll(async () => {
      await app?.close();
    });

    it.each([
      ['an EzidHttpException: its own Retry-After', 'ezid', '7'],
      ['a plain ServiceUnavailableException: the default Retry-After', 'plain', '5'],
    ])('%s', async (_label, mode, retryAfter) => {
      const res = await app.get('/me', { ...bearer(demo), 'x-hook': mode });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe(retryAfter);
      await res.body?.cancel();
    });
  });

  it.each([
    ['transient', Scope.TRANSIENT],
    ['request-scoped', Scope.REQUEST],
  ])('a %s hook fails boot with a clear error (never a 500, never skipped)', async (_kind, scope) => {
    @Injectable({ scope })
    @EzidAuthorizationHook()
    class ScopedHook implements CanActivate {
      canActivate(): boolean {
        return false;
      }
    }
    await expect(initApp(platform, ScopedHook)).rejects.toThrow(
      /@EzidAuthorizationHook\(\) ScopedHook must be a singleton provider/,
    );
  });
});

/** Compiles and initializes an app with `provider`; closes it whether or not init succeeds. */
async function initApp(platform: Platform, provider: Provider): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      EzidModule.forRoot({
        clientId: 'cli_authz_test',
        callback: false,
        token: { jwksUri: emu.jwksUri, issuer: emu.issuer, audience: emu.audience },
      }),
    ],
    controllers: [MeController],
    providers: [provider],
  }).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  try {
    await app.init();
  } finally {
    await app.close().catch(() => undefined);
  }
}

describe('a guard whose hooks were never discovered', () => {
  it('denies instead of skipping the hooks (the app was compiled but not initialized)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        EzidModule.forRoot({
          clientId: 'cli_authz_test',
          callback: false,
          token: { jwksUri: emu.jwksUri, issuer: emu.issuer, audience: emu.audience },
        }),
      ],
      providers: [BlockAliceGuard],
    }).compile();
    const guard = moduleRef.get(EzidRolesGuard);
    const request = { method: 'GET', url: '/me', headers: {}, params: {}, query: {} };
    const context = {
      getType: () => 'http',
      getHandler: () => MeController.prototype.me,
      getClass: () => MeController,
      switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({}) }),
    } as unknown as ExecutionContext;
    expect(await guard.canActivate(context)).toBe(false);
    await moduleRef.close();
  });
});
