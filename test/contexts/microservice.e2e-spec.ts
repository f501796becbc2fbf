// A standalone TCP microservice (Transport.TCP server, ClientProxy client) on loopback, with the module's
// app-wide guards (a standalone microservice has them; a hybrid app's needs inheritAppConfig, see
// test/auth/hybrid-app.e2e-spec.ts). The token and the tenant travel in the message's `headers` member.
import { Controller, INestMicroservice } from '@nestjs/common';
import { ClientProxy, Ctx, EventPattern, MessagePattern, Payload, TcpContext } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import {
  CurrentTenant,
  CurrentUser,
  EzidModule,
  EzidTenant,
  OptionalAuth,
  Permissions,
  Public,
  Roles,
} from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { bearer } from '../authz/authz-test-app';
import { startTcpService } from '../support/tcp-service';

const T1 = EMULATOR_IDS.tenant1; // demo: Admin, alice: Member
const T2 = EMULATOR_IDS.tenant2; // demo: Member

/** What the event handler saw, in order. */
const events: string[] = [];
let eventSeen: ((email: string) => void) | undefined;

@Controller()
class OrgHandlers {
  @Public()
  @MessagePattern('ping')
  ping(): string {
    return 'pong';
  }

  @OptionalAuth()
  @MessagePattern('whoami')
  whoami(@CurrentUser('email') email: string | undefined, @Payload() _p: unknown, @Ctx() _c: TcpContext) {
    return { email: email ?? null };
  }

  @Roles('Admin')
  @MessagePattern('org.admin')
  admin(@CurrentUser('email') email: string, @CurrentTenant() tenant: EzidTenant) {
    return { email, tenant: tenant.id };
  }

  @Permissions('Billing Manage')
  @MessagePattern('org.refund')
  refund(@CurrentTenant() tenant: EzidTenant) {
    return { refunded: tenant.name };
  }

  @EventPattern('org.audit')
  audit(@CurrentUser('email') email: string) {
    events.push(email);
    eventSeen?.(email);
  }
}

let emu: EzidEmulator;
let service: INestMicroservice;
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
    controllers: [OrgHandlers],
  }).compile();
  ({ service, client } = await startTcpService(moduleRef));
});

afterAll(async () => {
  await client?.close();
  await service?.close();
  await emu?.stop();
});

/** The reply, or `{ error }` with what the client received for an RpcException. */
const ask = (pattern: string, headers: Record<string, string> = {}, extra: object = {}) =>
  firstValueFrom(client.send<unknown>(pattern, { ...extra, headers })).catch((e: unknown) => ({ error: e }));

const refused = (statusCode: number, code: string) => ({
  error: { statusCode, error: expect.any(String), code, message: expect.any(String) },
});

const demo = () => bearer(emu.mintAccessToken('demo@example.com'));

describe('TCP microservice: the token in the message’s headers', () => {
  it('@Public() needs no token; the app-wide guard refuses a protected pattern without one (401 token_missing)', async () => {
    expect(await ask('ping')).toBe('pong');
    expect(await ask('org.admin', { 'x-tenant-id': T1 })).toEqual(refused(401, 'token_missing'));
  });

  it('bad tokens are refused with the module’s body: malformed, expired, signed by another key', async () => {
    expect(await ask('whoami', { authorization: 'Bearer x.y' })).toEqual(refused(401, 'token_malformed'));
    expect(await ask('whoami', { authorization: 'Basic abc' })).toEqual(refused(401, 'token_malformed'));
    const expired = emu.mintAccessToken('demo@example.com', {
      issuedAt: Math.floor(Date.now() / 1000) - 7200,
      expiresInSec: 3600,
    });
    expect(await ask('whoami', bearer(expired))).toEqual(refused(401, 'token_expired'));
    const other = await EzidEmulator.start({ clientId: 'cli_rpc_test', clientSecret: 'x' });
    try {
      expect(await ask('whoami', bearer(other.mintAccessToken('demo@example.com')))).toEqual(
        refused(401, 'token_invalid'),
      );
    } finally {
      await other.stop();
    }
  });

  it('the refusal carries only the module’s body: no stack, no library text', async () => {
    const r = (await ask('whoami', { authorization: 'Bearer x.y' })) as { error: Record<string, unknown> };
    expect(Object.keys(r.error).sort()).toEqual(['code', 'error', 'message', 'statusCode']);
    expect(JSON.stringify(r)).not.toMatch(/\n\s+at |node_modules|jwt|jsonwebtoken/i);
  });

  it('@Roles() with the tenant from the message: Admin of T1 passes; Member, stranger, forged carriers are refused', async () => {
    expect(await ask('org.admin', { ...demo(), 'x-tenant-id': T1 })).toEqual({
      email: 'demo@example.com',
      tenant: T1,
    });
    expect(await ask('org.admin', { ...demo(), 'x-tenant-id': T2 })).toEqual(
      refused(403, 'insufficient_role'),
    );
    expect(await ask('org.admin', demo())).toEqual(refused(403, 'tenant_required'));
    const outsider = bearer(emu.mintAccessToken('outsider@example.com'));
    expect(await ask('org.admin', { ...outsider, 'x-tenant-id': T1 })).toEqual(
      refused(403, 'tenant_forbidden'),
    );
    expect(await ask('org.admin', { ...demo(), 'x-tenant-id': 'a\nb' })).toEqual(
      refused(403, 'tenant_forbidden'),
    );
    // Two spellings of the header naming two tenants (Admin in T1, Member in T2), or a list: refused.
    expect(await ask('org.admin', { ...demo(), 'x-tenant-id': T1, 'X-Tenant-Id': T2 })).toEqual(
      refused(403, 'tenant_forbidden'),
    );
    const list = { ...demo(), 'x-tenant-id': [T1, T2] } as unknown as Record<string, string>;
    expect(await ask('org.admin', list)).toEqual(refused(403, 'tenant_forbidden'));
    expect(
      await ask('org.refund', { ...bearer(emu.mintAccessToken('alice@example.com')), 'x-tenant-id': T1 }),
    ).toEqual(refused(403, 'insufficient_permission'));
    expect(await ask('org.refund', { ...demo(), 'x-tenant-id': T1 })).toEqual({ refunded: 'org1' });
  });

  it('one TCP connection, messages of three identities in flight together: each runs as its own user', async () => {
    const ids = [
      { ...demo(), 'x-tenant-id': T1 },
      { ...bearer(emu.mintAccessToken('alice@example.com')), 'x-tenant-id': T1 },
      { 'x-tenant-id': T1 },
    ];
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => ids.map((h) => ask('org.admin', h))).flat(),
    );
    replies.forEach((r, i) => {
      if (i % 3 === 0) expect(r).toEqual({ email: 'demo@example.com', tenant: T1 });
      else if (i % 3 === 1) expect(r).toEqual(refused(403, 'insufficient_role'));
      else expect(r).toEqual(refused(401, 'token_missing'));
    });
    // and a message without a token after one with a token has no user
    expect(await ask('whoami', demo())).toEqual({ email: 'demo@example.com' });
    expect(await ask('whoami')).toEqual({ email: null });
  });

  it('events: a handler never runs for an event without a valid token', async () => {
    events.length = 0;
    const seen = new Promise<string>((r) => (eventSeen = r));
    // TCP keeps the order: the event without a token is handled (refused) before the valid one.
    await firstValueFrom(client.emit('org.audit', { headers: {} }));
    await firstValueFrom(client.emit('org.audit', { headers: { authorization: 'Bearer x.y' } }));
    await firstValueFrom(client.emit('org.audit', { headers: demo() }));
    expect(await seen).toBe('demo@example.com');
    expect(events).toEqual(['demo@example.com']);
  });
});
