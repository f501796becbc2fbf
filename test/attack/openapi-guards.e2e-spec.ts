import { type ExecutionContext, Controller, Get, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { OptionalAuth, Public, Roles, applyEzidOpenApi } from '../../src';
import { PUBLIC_METADATA } from '../../src/common/ezid-metadata';
import { EzidEmulator } from '../../src/testing';
import { PLATFORMS, type TestApp, startApp } from '../auth/auth-test-app';

class EzidPassportGuard extends AuthGuard('ezid-jwt') {}

/** The usual global-guard pattern: a Passport guard that lets @Public() routes through. */
class PublicAwarePassportGuard extends AuthGuard('ezid-jwt') {
  private readonly reflector = new Reflector();
  override canActivate(context: ExecutionContext) {
    if (this.reflector.get(PUBLIC_METADATA, context.getHandler()) === true) return true;
    return super.canActivate(context);
  }
}

@Controller()
class PassportController {
  // The Passport recipe: `@Public()` keeps the global EzidAuthGuard off, Passport then requires a token.
  @Public()
  @UseGuards(AuthGuard('ezid-jwt'))
  @Get('strategy')
  strategy() {
    return { ok: true };
  }

  @Public()
  @UseGuards(EzidPassportGuard)
  @Get('strategy-subclass')
  subclass() {
    return { ok: true };
  }

  @Public()
  @UseGuards(PublicAwarePassportGuard)
  @Get('public-aware')
  publicAware() {
    return { ok: true };
  }

  // EzidRolesGuard answers 401 token_missing to an anonymous request on a route with a rule.
  @OptionalAuth()
  @Roles('Admin')
  @Get('optional-with-rule')
  optionalWithRule() {
    return { ok: true };
  }

  // A tenant named in the path with no user: 403 tenant_forbidden, anonymous never passes.
  @OptionalAuth()
  @Get('optional-orgs/:tenantId')
  optionalTenant() {
    return { ok: true };
  }
}

describe.each(PLATFORMS)('attack: OpenAPI of @Public() routes guarded by Passport (%s)', (platform) => {
  let emu: EzidEmulator;
  let t: TestApp;

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: 'cli_auth_test', clientSecret: 'auth-test-secret' });
    t = await startApp(platform, emu, {}, { telemetry: false }, [PassportController]);
  });
  afterAll(async () => {
    await t.close();
    await emu.stop();
  });

  it.each([
    ['/strategy', '/strategy', 401],
    ['/strategy-subclass', '/strategy-subclass', 401],
    ['/optional-with-rule', '/optional-with-rule', 401],
    ['/optional-orgs/{tenantId}', '/optional-orgs/664e2686a1b2c3d4e5f60001', 403],
  ])(
    '%s refuses a request without a token, and the document says it needs one',
    async (path, url, status) => {
      expect((await t.get(url)).status).toBe(status);
      const doc = applyEzidOpenApi(t.app, SwaggerModule.createDocument(t.app, new DocumentBuilder().build()));
      const op = (doc.paths as unknown as Record<string, { get: Record<string, unknown> }>)[path].get;
      expect(op.security).toEqual([{ bearer: [] }]);
      expect(op['x-ezid']).toMatchObject({ public: false, authenticated: true });
    },
  );

  it('a Passport subclass whose canActivate() honours @Public() stays documented as public', async () => {
    expect((await t.get('/public-aware')).status).toBe(200);
    const doc = applyEzidOpenApi(t.app, SwaggerModule.createDocument(t.app, new DocumentBuilder().build()));
    const op = (doc.paths as unknown as Record<string, { get: Record<string, unknown> }>)['/public-aware']
      .get;
    expect(op.security).toEqual([]);
  });
});
