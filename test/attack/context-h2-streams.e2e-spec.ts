// Attack (Node 20/22, async_hooks AsyncLocalStorage): two HTTP/2 streams of one session carry requests of
// different users (an HTTP/2 upstream proxy multiplexes its clients onto one session). The module's guard
// of the first stream enters its context on the session's async resource; code of the second stream that
// runs before its own guard (a middleware, after one await) must not see the first stream's user.
import * as http2 from 'node:http2';
import { Controller, Get, Injectable, MiddlewareConsumer, Module, NestMiddleware, Req } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { EzidContext, EzidModule, Public } from '../../src';
import { EzidEmulator } from '../../src/testing';

let release: () => void = () => undefined;
let entered: () => void = () => undefined;

@Injectable()
class SeenMiddleware implements NestMiddleware {
  async use(
    req: { headers: Record<string, unknown>; seen?: string },
    _res: unknown,
    next: () => void,
  ): Promise<void> {
    if (req.headers['x-probe'] === undefined) return next(); // synchronous for the other routes
    await Promise.resolve();
    (req as { seen?: string }).seen = EzidContext.user?.email ?? 'nobody';
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
  @Get('seen')
  seen(@Req() req: { raw: { seen?: string } }): string {
    return req.raw.seen ?? 'unset';
  }
}

@Module({ controllers: [Routes] })
class RoutesModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(SeenMiddleware).forRoutes('*path');
  }
}

let emu: EzidEmulator;
let app: NestFastifyApplication;
let session: http2.ClientHttp2Session;

function get(path: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ...headers });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => resolve(body));
    stream.on('error', reject);
  });
}

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_h2', clientSecret: 'h2-secret' });
  const moduleRef = await Test.createTestingModule({
    imports: [
      EzidModule.forRoot({
        clientId: 'cli_h2',
        clientSecret: 'h2-secret',
        apiBaseUrl: emu.url,
        callback: false,
        context: true,
        token: { jwksUri: emu.jwksUri, issuer: emu.issuer, audience: emu.audience },
      }),
      RoutesModule,
    ],
  }).compile();
  app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ http2: true }), {
    logger: false,
  });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  session = http2.connect(`http://127.0.0.1:${port}`);
});

afterAll(async () => {
  session?.close();
  await app?.close();
  await emu?.stop();
});

it('a stream without a token does not see the user of a concurrent stream of the same session, before its guard', async () => {
  const started = new Promise<void>((r) => (entered = r));
  const slow = get('/slow', { authorization: `Bearer ${emu.mintAccessToken('demo@example.com')}` });
  await started;
  const seen = await get('/seen', { 'x-probe': '1' });
  release();
  expect(await slow).toBe('demo@example.com');
  expect(seen).toBe('nobody');
});
