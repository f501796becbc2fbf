// Attack: one TCP connection (a gateway's ClientProxy) carries messages of different users. While a message
// of user A is in flight, a message without a token to a handler the module's guard does not run for
// (a hybrid app's microservice without inheritAppConfig, simulated by an app-wide guard that does nothing),
// or to a @Public() handler, must not see A, at once or after an await.
import { Controller, INestMicroservice, UseGuards } from '@nestjs/common';
import { ClientProxy, MessagePattern } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { EzidAuthGuard, EzidContext, EzidModule, Public } from '../../src';
import { EzidGlobalAuthGuard } from '../../src/auth/auth.providers';
import { EzidEmulator } from '../../src/testing';
import { startTcpService } from '../support/tcp-service';

let release: () => void = () => undefined;
let entered: () => void = () => undefined;

const peek = async () => {
  const now = EzidContext.user?.email ?? null;
  await Promise.resolve();
  await new Promise<void>((r) => setImmediate(r));
  return { now, later: EzidContext.user?.email ?? null };
};

@Controller()
class Handlers {
  @UseGuards(EzidAuthGuard)
  @MessagePattern('slow')
  async slow(): Promise<string | null> {
    const gate = new Promise<void>((r) => (release = r));
    entered();
    await gate;
    return EzidContext.user?.email ?? null;
  }

  @MessagePattern('peek')
  peek() {
    return peek();
  }

  @UseGuards(EzidAuthGuard)
  @Public()
  @MessagePattern('public')
  open() {
    return peek();
  }
}

let emu: EzidEmulator;
beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_rpc_test', clientSecret: 'rpc-test-secret' });
});
afterAll(async () => {
  await emu?.stop();
});

describe.each([false, true])('one TCP connection, several users (no app-wide guard: %s)', (none) => {
  let service: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    let builder = Test.createTestingModule({
      imports: [
        EzidModule.forRoot({
          clientId: 'cli_rpc_test',
          clientSecret: 'rpc-test-secret',
          apiBaseUrl: emu.url,
          callback: false,
          context: true,
          globalGuard: false,
          token: { jwksUri: emu.jwksUri, issuer: emu.issuer, audience: emu.audience },
        }),
      ],
      controllers: [Handlers],
    });
    if (none) builder = builder.overrideProvider(EzidGlobalAuthGuard).useValue({ canActivate: () => true });
    const moduleRef = await builder.compile();
    ({ service, client } = await startTcpService(moduleRef));
  });
  afterAll(async () => {
    await client?.close();
    await service?.close();
  });

  it.each(['peek', 'public'])(
    'a message to `%s` without a token sees no user while A’s is in flight',
    async (pattern) => {
      const started = new Promise<void>((r) => (entered = r));
      const headers = { authorization: `Bearer ${emu.mintAccessToken('demo@example.com')}` };
      const slow = firstValueFrom(client.send<string>('slow', { headers }));
      await started;
      const seen = await firstValueFrom(client.send<unknown>(pattern, {}));
      release();
      expect(await slow).toBe('demo@example.com');
      expect(seen).toEqual({ now: null, later: null });
    },
  );
});
