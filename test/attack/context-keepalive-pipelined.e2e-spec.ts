// Attack: HTTP/1.1 pipelining in two packets. Request 1 (user A) is in flight on a connection when request 2
// (no token) arrives on it. Code of request 2 that runs before its guard (a middleware, after an await)
// must not see A (Node 20/22: the guard's enterWith landed on the connection's parser resource).
import * as net from 'node:net';
import { Controller, Get, Injectable, MiddlewareConsumer, Module, NestMiddleware } from '@nestjs/common';
import { EzidContext, Public } from '../../src';
import { EzidEmulator } from '../../src/testing';
import { AuthzApp, PLATFORMS, startAuthzApp } from '../authz/authz-test-app';

let release: () => void = () => undefined;
let entered: () => void = () => undefined;
let seenByMiddleware: ((user: string) => void) | undefined;

@Injectable()
class SeenMiddleware implements NestMiddleware {
  async use(req: { headers: Record<string, unknown> }, _res: unknown, next: () => void): Promise<void> {
    if (req.headers['x-probe'] === undefined) return next();
    await Promise.resolve();
    seenByMiddleware?.(EzidContext.user?.email ?? 'nobody');
    next();
  }
}

@Controller()
class Routes {
  @Get('slow')
  async slow(): Promise<string> {
    const gate = new Promise<void>((r) => (release = r));
    entered();
    await gate;
    return EzidContext.user?.email ?? 'nobody';
  }

  @Public()
  @Get('open')
  open(): string {
    return 'open';
  }
}

@Module({ controllers: [Routes] })
class RoutesModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(SeenMiddleware).forRoutes('*path');
  }
}

let emu: EzidEmulator;
beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
});
afterAll(async () => {
  await emu?.stop();
});

describe.each(PLATFORMS)('pipelined requests in two packets on %s', (platform) => {
  let app: AuthzApp;
  beforeAll(async () => {
    app = await startAuthzApp(platform, emu, [], { context: true }, (b) => b, { imports: [RoutesModule] });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('the second request’s middleware does not see the first one’s user', async () => {
    const { hostname, port } = new URL(app.url);
    const socket = net.connect(Number(port), hostname);
    await new Promise((r) => socket.once('connect', r));
    const started = new Promise<void>((r) => (entered = r));
    const token = emu.mintAccessToken('demo@example.com');
    socket.write(`GET /slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    await started;
    const seen = new Promise<string>((r) => (seenByMiddleware = r));
    socket.write('GET /open HTTP/1.1\r\nHost: x\r\nX-Probe: 1\r\n\r\n');
    const user = await seen;
    release();
    socket.destroy();
    expect(user).toBe('nobody');
  });
});
