// A hybrid app (HTTP + a TCP microservice through `connectMicroservice()`): the module's app-wide
// guards reach the microservice's handlers only with `{ inheritAppConfig: true }`, as the README and
// docs/auth.md say. Without it the handler runs with no authentication at all, which is why the docs
// require the option (or `@UseGuards(EzidAuthGuard, EzidRolesGuard)` on the controller).
import { Controller, INestApplication } from '@nestjs/common';
import {
  ClientProxy,
  ClientProxyFactory,
  MessagePattern,
  MicroserviceOptions,
  Transport,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { CurrentUser, EzidModule, EzidUser, Roles } from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { freePort } from '../callback/callback-test-app';

/** No `@UseGuards()`: only the app-wide guards can protect these handlers. */
@Controller()
class Handlers {
  @MessagePattern('whoami')
  whoami(@CurrentUser() user: EzidUser | undefined) {
    return { email: user?.email ?? null };
  }

  @MessagePattern('admin')
  @Roles('Admin')
  admin() {
    return { ok: true };
  }
}

let emu: EzidEmulator;

beforeAll(async () => {
  emu = await EzidEmulator.start();
});
afterAll(async () => {
  await emu?.stop();
});

async function hybrid(inheritAppConfig: boolean): Promise<{ app: INestApplication; client: ClientProxy }> {
  const moduleRef = await Test.createTestingModule({
    imports: [EzidModule.forRoot(emu.moduleOptions())],
    controllers: [Handlers],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  const port = await freePort();
  app.connectMicroservice<MicroserviceOptions>(
    { transport: Transport.TCP, options: { host: '127.0.0.1', port } },
    { inheritAppConfig },
  );
  await app.startAllMicroservices();
  await app.init();
  const client = ClientProxyFactory.create({
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
  });
  await client.connect();
  return { app, client };
}

const send = (client: ClientProxy, pattern: string, headers: Record<string, string> = {}) =>
  firstValueFrom(client.send<unknown>(pattern, { headers })).catch((e: unknown) => ({ error: e }));

describe('hybrid app: connectMicroservice() and the app-wide guards', () => {
  it('with { inheritAppConfig: true }: no token is 401 token_missing, a valid token is the user, @Roles is enforced', async () => {
    const { app, client } = await hybrid(true);
    try {
      expect(await send(client, 'whoami')).toEqual({
        error: expect.objectContaining({ statusCode: 401, code: 'token_missing' }),
      });
      const demo = emu.tokenFor('demo@example.com');
      expect(await send(client, 'whoami', { authorization: `Bearer ${demo}` })).toEqual({
        email: 'demo@example.com',
      });
      const alice = emu.tokenFor('alice@example.com'); // Member in org1
      const tenant = EMULATOR_IDS.tenant1;
      expect(
        await send(client, 'admin', { authorization: `Bearer ${alice}`, 'x-tenant-id': tenant }),
      ).toEqual({ error: expect.objectContaining({ statusCode: 403, code: 'insufficient_role' }) });
      expect(await send(client, 'admin', { authorization: `Bearer ${demo}`, 'x-tenant-id': tenant })).toEqual(
        { ok: true },
      );
    } finally {
      await client.close();
      await app.close();
    }
  });

  it('without it (Nest’s default): the handlers run with no guard at all, which the docs warn about', async () => {
    const { app, client } = await hybrid(false);
    try {
      expect(await send(client, 'whoami')).toEqual({ email: null });
      expect(await send(client, 'admin')).toEqual({ ok: true });
    } finally {
      await client.close();
      await app.close();
    }
  });
});
