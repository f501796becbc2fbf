// The Passport recipe: `@Public() @UseGuards(AuthGuard('ezid-jwt'))`. Passport attaches the user after
// the app-wide EzidRolesGuard ran; the membership check and the authorization hooks must still see
// that user (the deferred authorization the module appends to the guards of @Public() handlers, or
// EzidRolesGuard listed after the Passport guard). Rules are never skipped. Express and Fastify, the emulator's tokens over real HTTP.
import {
  CallHandler,
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  NestInterceptor,
  UseGuards,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { Observable, of, tap } from 'rxjs';
import { AuthGuard } from '@nestjs/passport';
import {
  CurrentTenant,
  CurrentUser,
  EzidAuthorizationHook,
  EzidRolesGuard,
  EzidTenant,
  Public,
  Roles,
  getEzidUser,
} from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { CaptureLogger } from '../support/capture-logger';
import { AuthzApp, PLATFORMS, bearer, outcomeOf, startAuthzApp } from './authz-test-app';

const A = EMULATOR_IDS.tenant1; // demo: Admin; alice: Member
const B = EMULATOR_IDS.tenant2; // demo: Member; bob: Admin; alice: not a member

/** Refuses bob, wherever he is authenticated. */
@Injectable()
@EzidAuthorizationHook()
class BlockBobGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const user = getEzidUser(context) ?? context.switchToHttp().getRequest<{ user?: { id: string } }>().user;
    return user?.id !== EMULATOR_IDS.bob;
  }
}

/** An app's own app-wide interceptor that answers from a URL-keyed cache (interceptors run after every guard). */
@Injectable()
class UrlCacheInterceptor implements NestInterceptor {
  private readonly cache = new Map<string, unknown>();
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const url = context.switchToHttp().getRequest<{ url: string }>().url;
    if (this.cache.has(url)) return of(this.cache.get(url));
    return next.handle().pipe(tap((body) => this.cache.set(url, body)));
  }
}

@Controller('pp')
class PassportController {
  @Public()
  @UseGuards(AuthGuard('ezid-jwt'))
  @Get('me')
  me(@CurrentUser('email') email?: string) {
    return { email: email ?? null };
  }

  @Public()
  @UseGuards(AuthGuard('ezid-jwt'))
  @Get('orgs/:tenantId')
  org(@CurrentTenant() tenant?: EzidTenant) {
    return { tenant: tenant?.id ?? null };
  }

  @Public()
  @UseGuards(AuthGuard('ezid-jwt'), EzidRolesGuard)
  @Get('listed/orgs/:tenantId')
  listed(@CurrentTenant() tenant?: EzidTenant) {
    return { tenant: tenant?.id ?? null };
  }

  @Public()
  @UseGuards(AuthGuard('ezid-jwt'), EzidRolesGuard)
  @Roles('Admin')
  @Get('admin/orgs/:tenantId')
  admin(@CurrentTenant() tenant?: EzidTenant) {
    return { tenant: tenant?.id ?? null };
  }
}

@Controller('wrong-order')
class WrongOrderController {
  @Public()
  @UseGuards(EzidRolesGuard, AuthGuard('ezid-jwt'))
  @Roles('Admin')
  @Get(':tenantId')
  get() {
    return { ok: true };
  }
}

@Controller('open')
class OpenController {
  @Public()
  @Get()
  open() {
    return { ok: true };
  }
}

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

describe.each(PLATFORMS)('the Passport recipe on %s', (platform) => {
  describe.each([
    ['globalGuard on', true],
    ['globalGuard: false', false],
  ])('%s', (_label, globalGuard) => {
    let app: AuthzApp;
    const logger = new CaptureLogger();
    beforeAll(async () => {
      app = await startAuthzApp(
        platform,
        emu,
        [PassportController, OpenController, WrongOrderController],
        { globalGuard },
        (b) => b,
        { providers: [BlockBobGuard], logger },
      );
    });
    afterAll(async () => {
      await app?.close();
    });

    const call = async (path: string, token?: string) =>
      outcomeOf(await app.get(path, token ? bearer(token) : {}));

    it('naming a tenant the Passport user is not a member of is 403 tenant_forbidden', async () => {
      for (const route of ['orgs', 'listed/orgs']) {
        if (!globalGuard && route === 'orgs') continue; // nothing of the module runs before the handler there
        expect(await call(`/pp/${route}/${B}`, alice)).toBe('403 tenant_forbidden');
        expect(await call(`/pp/${route}/${A}`, alice)).toBe(200);
        const res = await app.get(`/pp/${route}/${A}`, bearer(alice));
        expect(await res.json()).toEqual({ tenant: A });
      }
    });

    it('the authorization hooks see the Passport user', async () => {
      if (globalGuard) expect(await call('/pp/me', bob)).toBe('403 access_denied');
      expect(await call(`/pp/listed/orgs/${B}`, bob)).toBe('403 access_denied');
      expect(await call('/pp/me', demo)).toBe(200);
    });

    it('anonymous: Passport’s 401; with a rule: anonymous 401, Member 403, Admin 200', async () => {
      expect((await app.get(`/pp/orgs/${A}`)).status).toBe(401);
      expect((await app.get(`/pp/admin/orgs/${A}`)).status).toBe(401);
      expect(await call(`/pp/admin/orgs/${A}`, alice)).toBe('403 insufficient_role');
      expect(await call(`/pp/admin/orgs/${B}`, alice)).toBe('403 tenant_forbidden');
      expect(await call(`/pp/admin/orgs/${A}`, demo)).toBe(200);
    });

    it('EzidRolesGuard listed before the Passport guard on a rule-bearing route is named at boot (globalGuard: false)', async () => {
      const lines = logger.lines.filter((l) => l.startsWith('warn') && l.includes('before another guard'));
      expect(lines).toHaveLength(globalGuard ? 0 : 1);
      if (!globalGuard) {
        expect(lines[0]).toContain('GET /wrong-order/:tenantId');
        expect(await call(`/wrong-order/${A}`, demo)).toBe('401 token_missing'); // never fails open
      }
    });

    it('a @Public() route called anonymously stays public', async () => {
      expect(await call('/open')).toBe(200);
    });

    it('the short form (@UseGuards not ending with EzidRolesGuard) on a tenant route, or with hooks, is named at boot', async () => {
      const lines = logger.lines.filter(
        (l) => l.startsWith('warn') && l.includes('does not end with EzidRolesGuard'),
      );
      if (!globalGuard) {
        expect(lines).toHaveLength(0);
        return;
      }
      expect(lines.map((l) => /(GET \S+)/.exec(l)?.[1]).sort()).toEqual([
        'GET /pp/me',
        'GET /pp/orgs/:tenantId',
      ]);
      expect(lines.join('\n')).not.toContain('/pp/listed/');
    });
  });

  describe('with an app-wide interceptor of the app that answers from a cache', () => {
    let app: AuthzApp;
    beforeAll(async () => {
      app = await startAuthzApp(platform, emu, [PassportController], {}, (b) => b, {
        providers: [BlockBobGuard, { provide: APP_INTERCEPTOR, useClass: UrlCacheInterceptor }],
      });
    });
    afterAll(async () => {
      await app?.close();
    });

    it('the documented recipe authorizes in the guard phase, before any interceptor: a cached answer never reaches a non-member', async () => {
      const outsider = emu.mintAccessToken('outsider@example.com');
      expect(await outcomeOf(await app.get(`/pp/listed/orgs/${A}`, bearer(alice)))).toBe(200);
      expect(await outcomeOf(await app.get(`/pp/listed/orgs/${A}`, bearer(outsider)))).toBe(
        '403 tenant_forbidden',
      );
      expect(await outcomeOf(await app.get(`/pp/listed/orgs/${A}`, bearer(bob)))).toBe(
        '403 tenant_forbidden',
      );
    });

    it('the short form is authorized in the guard phase too, before any interceptor: a cached answer never reaches a non-member', async () => {
      const outsider = emu.mintAccessToken('outsider@example.com');
      expect(await outcomeOf(await app.get(`/pp/orgs/${A}`, bearer(alice)))).toBe(200);
      expect(await outcomeOf(await app.get(`/pp/orgs/${A}`, bearer(outsider)))).toBe('403 tenant_forbidden');
      expect(await outcomeOf(await app.get(`/pp/orgs/${A}`, bearer(bob)))).toBe('403 tenant_forbidden');
      expect(await outcomeOf(await app.get('/pp/me', bearer(demo)))).toBe(200);
      expect(await outcomeOf(await app.get('/pp/me', bearer(bob)))).toBe('403 access_denied');
    });
  });
});
