import { Body, Controller, Get, INestApplication, LoggerService, Post, Req, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { EzidModuleOptions, EzidMonotonicClock, EzidTokenOptions, EzidUser } from '../../src';
import { EZID_MONOTONIC_CLOCK, EzidModule, OptionalAuth, Public } from '../../src';
import type { EzidEmulator } from '../../src/testing';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

type Req = { user?: EzidUser & Record<string, unknown> };

@Controller()
export class AuthTestController {
  @Get('protected')
  protected(@Req() req: Req) {
    const u = req.user!;
    return {
      id: u.id,
      email: u.email,
      tenants: u.tenants,
      isAdmin: u.isAdmin ?? null,
      frozen: Object.isFrozen(u),
    };
  }

  @Post('protected')
  protectedPost(@Req() req: Req, @Body() _body: unknown) {
    return { id: req.user!.id };
  }

  @Public()
  @Get('public')
  public(@Req() req: Req) {
    return { ok: true, user: req.user?.id ?? null };
  }

  @OptionalAuth()
  @Get('optional')
  optional(@Req() req: Req) {
    return { user: req.user?.id ?? null };
  }

  @Public()
  @UseGuards(AuthGuard('ezid-jwt'))
  @Get('strategy')
  strategy(@Req() req: Req) {
    return { id: req.user!.id };
  }
}

/** A monotonic clock that moves only when the test says so (JWKS cache ages and cooldowns). */
export class SteppedClock implements EzidMonotonicClock {
  private t = 1_000_000;
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface TestApp {
  app: INestApplication;
  url: string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** A real Nest app (Express or Fastify) on 127.0.0.1, verifying tokens of `emu`. */
export async function startApp(
  platform: Platform,
  emu: EzidEmulator,
  token: Partial<EzidTokenOptions> = {},
  extra: Partial<EzidModuleOptions> = {},
  controllers: unknown[] = [AuthTestController],
  logger: LoggerService | false = false,
  clock?: EzidMonotonicClock,
): Promise<TestApp> {
  const builder = Test.createTestingModule({
    imports: [
      EzidModule.forRoot({
        clientId: 'cli_auth_test',
        clientSecret: 'auth-test-secret',
        apiBaseUrl: emu.url,
        callback: false,
        ...extra,
        token: {
          jwksUri: emu.jwksUri,
          issuer: emu.issuer,
          audience: emu.audience,
          ...token,
          // These suites test cold-cache behaviour: the boot prefetch is off unless a test turns it on.
          jwks: { cooldownSec: 30, timeoutMs: 1000, prefetch: false, ...token.jwks },
        },
      }),
    ],
    controllers: controllers as never[],
  });
  if (clock) builder.overrideProvider(EZID_MONOTONIC_CLOCK).useValue(clock);
  const moduleRef = await builder.compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger })
      : moduleRef.createNestApplication({ logger });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  return {
    app,
    url,
    get: (path, headers = {}) => fetch(url + path, { headers }),
    close: () => app.close(),
  };
}

export const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });

/** Signs a compact JWS by hand (header and payload as given), for shapes the emulator does not mint. */
export function b64(v: unknown): string {
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
}
