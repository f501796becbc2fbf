// Issue 13 defects 6 and 9 on a TCP microservice: the user is per message (the TcpContext and the data are
// per message; the TCP connection is shared), and a revoked token is refused with token_revoked.
import { Controller, INestApplication, UseGuards } from '@nestjs/common';
import {
  ClientProxy,
  ClientProxyFactory,
  Ctx,
  MessagePattern,
  MicroserviceOptions,
  Payload,
  TcpContext,
  Transport,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import {
  accessTokenRevocationId,
  CurrentUser,
  EzidAuthGuard,
  EzidModule,
  EzidRevocationList,
  EzidUser,
  OptionalAuth,
} from '../../src';
import { EzidEmulator } from '../../src/testing';
import { freePort } from '../callback/callback-test-app';

// Listed on the controller: microservices get no APP_GUARD unless `inheritAppConfig` (both Nest majors).
@Controller()
@UseGuards(EzidAuthGuard)
class IdentityHandlers {
  @MessagePattern('whoami')
  @OptionalAuth()
  whoami(@CurrentUser() user: EzidUser | undefined, @Payload() _p: unknown, @Ctx() _c: TcpContext) {
    return { email: user?.email ?? null };
  }
}

let emu: EzidEmulator;
let app: INestApplication;
let client: ClientProxy;

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_rpc_test', clientSecret: 'rpc-test-secret' });
  const moduleRef = await Test.createTestingModule({
    imports: [
      EzidModule.forRoot({
        clientId: 'cli_rpc_test',
        clientSecret: 'rpc-test-secret',
        apiBaseUrl: emu.url,
        callback: false,
        token: { jwksUri: emu.jwksUri, issuer: emu.issuer, audience: emu.audience },
      }),
    ],
    controllers: [IdentityHandlers],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  const port = await freePort();
  app.connectMicroservice<MicroserviceOptions>({
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
  });
  await app.startAllMicroservices();
  await app.init();
  client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
  await client.connect();
});

afterAll(async () => {
  await client?.close();
  await app?.close();
  await emu?.stop();
});

const ask = (headers: Record<string, string>) =>
  firstValueFrom(client.send<unknown>('whoami', { headers })).catch((e: unknown) => ({ error: e }));

it('RPC over one TCP connection: a message without a token after one with a token has no user', async () => {
  const demo = emu.mintAccessToken('demo@example.com');
  expect(await ask({ authorization: `Bearer ${demo}` })).toEqual({ email: 'demo@example.com' });
  expect(await ask({})).toEqual({ email: null });
});

it('RPC: a revoked access token is refused with token_revoked, also after it was cached as verified', async () => {
  const token = emu.mintAccessToken('demo@example.com');
  expect(await ask({ authorization: `Bearer ${token}` })).toEqual({ email: 'demo@example.com' });
  const [, payload, sig] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  app
    .get(EzidRevocationList)
    .revoke(accessTokenRevocationId(claims, Buffer.from(sig, 'base64url')), Date.now() + 600_000);
  expect(await ask({ authorization: `Bearer ${token}` })).toEqual({
    error: expect.objectContaining({ statusCode: 401, code: 'token_revoked' }),
  });
});
