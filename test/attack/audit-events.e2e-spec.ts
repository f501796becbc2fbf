import {
  type CanActivate,
  Controller,
  ForbiddenException,
  Get,
  Injectable,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AuthGuard } from '@nestjs/passport';
import { type EzidAuditEvent, EzidAuthorizationHook, EzidModule, Public, Roles } from '../../src';
import { EzidEmulator } from '../../src/testing';
import { CaptureLogger } from '../support/capture-logger';
import { PLATFORMS, type TestApp, bearer, startApp } from '../auth/auth-test-app';

@Controller()
class AuditAttackController {
  @Roles('Admin')
  @Get('orgs/:tenantId/billing/:item')
  billing(@Param('item') item: string) {
    return { item };
  }

  @Get('plain/:secret')
  plain() {
    return { ok: true };
  }

  @Public()
  @UseGuards(AuthGuard('ezid-jwt'))
  @Get('passport')
  passport() {
    return { ok: true };
  }

  @Public()
  @UseGuards(AuthGuard('ezid-jwt'))
  @Post('passport')
  passportPost() {
    return { ok: true };
  }
}

/** An authorization hook that refuses by throwing its own 403. */
@Injectable()
@EzidAuthorizationHook()
class ThrowingHook implements CanActivate {
  canActivate(): boolean {
    throw new ForbiddenException('blocked by policy');
  }
}

/** The audit hook's events, with a promise for the next one (no sleeps). */
class Sink {
  readonly events: EzidAuditEvent[] = [];
  private waiters: Array<() => void> = [];
  behaviour: (e: EzidAuditEvent) => unknown = () => undefined;
  readonly onEvent = (e: EzidAuditEvent): void | Promise<void> => {
    this.events.push(e);
    for (const w of this.waiters.splice(0)) w();
    return this.behaviour(e) as void | Promise<void>;
  };
  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

describe.each(PLATFORMS)('attack: audit events (%s)', (platform) => {
  let emu: EzidEmulator;
  let t: TestApp | undefined;
  let sink: Sink;
  let logger: CaptureLogger;

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: 'cli_auth_test', clientSecret: 'auth-test-secret' });
  });
  afterAll(() => emu.stop());
  beforeEach(async () => {
    sink = new Sink();
    logger = new CaptureLogger();
    t = await startApp(
      platform,
      emu,
      {},
      { audit: { onEvent: sink.onEvent }, telemetry: false },
      [AuditAttackController],
      logger,
    );
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('a hook rejecting with an Error whose name is not a string is logged, and the app keeps serving', async () => {
    let seen = 0;
    sink.behaviour = () => {
      seen += 1;
      const err = new Error('hook failed');
      (err as { name: unknown }).name = seen === 1 ? undefined : 42;
      return seen === 1
        ? Promise.reject(err)
        : (() => {
            throw err;
          })();
    };
    const logged = new Promise<void>((resolve) => {
      const push = logger.error.bind(logger);
      logger.error = (m: unknown, ...r: unknown[]) => {
        push(m, ...r);
        resolve();
      };
    });
    expect((await t!.get('/plain/x')).status).toBe(401);
    await logged;
    expect(logger.lines.join('\n')).toContain('audit_sink_failed');
    expect((await t!.get('/plain/x')).status).toBe(401);
  });

  it('a tenant resolver that throws (403 tenant_forbidden) emits access_denied', async () => {
    await t!.close();
    t = await startApp(
      platform,
      emu,
      {},
      {
        audit: { onEvent: sink.onEvent },
        telemetry: false,
        tenant: {
          resolve: () => {
            throw new Error('no tenant in this host');
          },
        },
      },
      [AuditAttackController],
    );
    const next = sink.next();
    const res = await t!.get('/plain/x', bearer(emu.tokenFor('alice@example.com')));
    expect(res.status).toBe(403);
    await next;
    expect(sink.events).toEqual([
      expect.objectContaining({
        type: 'access_denied',
        code: 'tenant_forbidden',
        route: 'GET /plain/:secret',
      }),
    ]);
  });

  it('an authorization hook refusing by throwing a 403 emits access_denied', async () => {
    await t!.close();
    t = undefined;
    const moduleRef = await Test.createTestingModule({
      imports: [
        EzidModule.forRoot({
          ...emu.moduleOptions(),
          audit: { onEvent: sink.onEvent },
          telemetry: false,
        }),
      ],
      controllers: [AuditAttackController],
      providers: [ThrowingHook],
    }).compile();
    const app =
      platform === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
        : moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
      const next = sink.next();
      const res = await fetch(`${url}/plain/x`, { headers: bearer(emu.tokenFor('alice@example.com')) });
      expect(res.status).toBe(403);
      await next;
      expect(sink.events).toEqual([
        expect.objectContaining({
          type: 'access_denied',
          code: 'access_denied',
          handler: 'AuditAttackController.plain',
        }),
      ]);
    } finally {
      await app.close();
    }
  });

  it('an access_denied event is frozen through and through (a sink cannot rewrite what another sink sees)', async () => {
    const next = sink.next();
    const org1 = emu.tenantId('org1');
    const res = await t!.get(`/orgs/${org1}/billing/x`, bearer(emu.tokenFor('alice@example.com')));
    expect(res.status).toBe(403);
    await next;
    const [event] = sink.events;
    expect(event).toMatchObject({ type: 'access_denied', roles: ['Admin'], tenantId: org1 });
    expect(Object.isFrozen(event)).toBe(true);
    if (event.type !== 'access_denied') throw new Error(event.type);
    expect(Object.isFrozen(event.roles)).toBe(true);
    expect(Object.isFrozen(event.permissions)).toBe(true);
  });

  it('a token refused on the Passport path (AuthGuard("ezid-jwt")) emits token_rejected', async () => {
    const next = sink.next();
    expect((await t!.get('/passport', bearer('not.a.token'))).status).toBe(401);
    await next;
    expect(sink.events).toEqual([
      expect.objectContaining({ type: 'token_rejected', code: 'token_malformed', route: 'GET /passport' }),
    ]);
    expect(sink.events[0].userId).toBeUndefined();
  });

  it('a cross-origin cookie ignored by the Passport strategy emits csrf_rejected', async () => {
    await t!.close();
    t = await startApp(
      platform,
      emu,
      { cookieName: 'ezid_at' },
      { audit: { onEvent: sink.onEvent }, telemetry: false },
      [AuditAttackController],
    );
    const next = sink.next();
    const res = await fetch(`${t.url}/passport`, {
      method: 'POST',
      headers: { cookie: `ezid_at=${emu.tokenFor('alice@example.com')}`, origin: 'https://evil.example' },
    });
    expect(res.status).toBe(401);
    await next;
    expect(sink.events).toEqual([
      expect.objectContaining({ type: 'csrf_rejected', route: 'POST /passport' }),
    ]);
    expect(sink.events[0].userId).toBeUndefined();
  });
});
