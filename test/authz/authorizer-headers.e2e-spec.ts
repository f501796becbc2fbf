// A 503 thrown by EzidAuthorizer inside a controller carries Retry-After, like the guard's: the module's
// interceptor applies the exception's headers, and the app's own exception filters still see it. The
// interceptor is registered with profile.source 'api' only: with the token profile nothing the module
// offers a handler throws one, and any app-wide interceptor puts every route through Nest's rxjs pipeline.
import { ArgumentsHost, Catch, Controller, ExceptionFilter, Get, HttpException } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import type { EzidUser } from '../../src';
import { CurrentUser, EzidAuthorizer } from '../../src';
import { EzidHttpHeadersInterceptor } from '../../src/common/ezid-http-headers.interceptor';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { type AuthzApp, PLATFORMS, bearer, startAuthzApp } from './authz-test-app';

@Controller('svc')
class AuthorizerController {
  constructor(private readonly authorizer: EzidAuthorizer) {}

  @Get('check')
  async check(@CurrentUser() user: EzidUser) {
    const decision = await this.authorizer.check(user, EMULATOR_IDS.tenant1, { roles: ['Admin'] });
    return { allowed: decision.allowed };
  }
}

/** An app-wide filter of the app's own: it must still receive the exception. */
@Catch(HttpException)
class AppFilter implements ExceptionFilter {
  static seen: unknown[] = [];
  catch(exception: HttpException, host: ArgumentsHost): void {
    AppFilter.seen.push(exception);
    const res = host.switchToHttp().getResponse<{ status?: unknown; code?: unknown }>();
    const body = JSON.stringify({ ...(exception.getResponse() as object), via: 'app-filter' });
    // Express `res.status().json()`, Fastify `reply.code().send()`.
    const r = res as unknown as Record<string, (...a: unknown[]) => unknown>;
    if (typeof r.code === 'function' && typeof r.send === 'function') {
      (r.code(exception.getStatus()) as typeof r).header('content-type', 'application/json');
      r.send(body);
    } else {
      (r.status(exception.getStatus()) as typeof r).type('json');
      r.send(body);
    }
  }
}

describe.each(PLATFORMS)('EzidAuthorizer 503 in a controller on %s', (platform) => {
  let emu: EzidEmulator;
  const apps: AuthzApp[] = [];
  const tokenFor = (email: string) => emu.mintAccessToken(email, { claims: { tenants: undefined } });

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
  });
  afterEach(async () => {
    emu.clearFaults();
    for (const a of apps.splice(0)) await a.close();
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it('has Retry-After and the stable body', async () => {
    const app = await startAuthzApp(platform, emu, [AuthorizerController], { profile: { source: 'api' } });
    apps.push(app);
    emu.fault('users.getOrganizations', { status: 500 });
    const res = await app.get('/svc/check', bearer(tokenFor('demo@example.com')));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'idp_unavailable',
      message: expect.any(String),
    });
    emu.clearFaults();
    const ok = await app.get('/svc/check', bearer(tokenFor('demo@example.com')));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('retry-after')).toBeNull();
  });

  it('the module registers an app-wide interceptor with the API profile only', async () => {
    const globalInterceptors = (a: AuthzApp) =>
      a.app.get(ApplicationConfig).getGlobalInterceptors().filter(Boolean);
    const tokenApp = await startAuthzApp(platform, emu, [AuthorizerController], {});
    apps.push(tokenApp);
    expect(globalInterceptors(tokenApp)).toEqual([]);
    const apiApp = await startAuthzApp(platform, emu, [AuthorizerController], { profile: { source: 'api' } });
    apps.push(apiApp);
    const registered = globalInterceptors(apiApp);
    expect(registered).toHaveLength(1);
    expect(registered[0]).toBeInstanceOf(EzidHttpHeadersInterceptor);
  });

  it("the app's own global filter still handles the exception, and the header is kept", async () => {
    AppFilter.seen = [];
    const app = await startAuthzApp(
      platform,
      emu,
      [AuthorizerController],
      { profile: { source: 'api' } },
      undefined,
      { setup: (a) => a.useGlobalFilters(new AppFilter()) },
    );
    apps.push(app);
    emu.fault('users.getOrganizations', { status: 500 });
    const res = await app.get('/svc/check', bearer(tokenFor('alice@example.com')));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as { via?: string }).via).toBe('app-filter');
    expect(AppFilter.seen).toHaveLength(1);
  });
});
