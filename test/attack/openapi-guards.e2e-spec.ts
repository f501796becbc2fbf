import { Controller, Get, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Public, applyEzidOpenApi } from '../../src';
import { EzidEmulator } from '../../src/testing';
import { PLATFORMS, type TestApp, startApp } from '../auth/auth-test-app';

class EzidPassportGuard extends AuthGuard('ezid-jwt') {}

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

  it.each(['/strategy', '/strategy-subclass'])(
    '%s answers 401 without a token, and the document says it needs one',
    async (path) => {
      expect((await t.get(path)).status).toBe(401);
      const doc = applyEzidOpenApi(t.app, SwaggerModule.createDocument(t.app, new DocumentBuilder().build()));
      const op = (doc.paths as unknown as Record<string, { get: Record<string, unknown> }>)[path].get;
      expect(op.security).toEqual([{ bearer: [] }]);
      expect(op['x-ezid']).toMatchObject({ public: false, authenticated: true });
    },
  );
});
