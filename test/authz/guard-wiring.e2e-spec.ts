// How EzidRolesGuard is wired: handler/class merge rule on real routes, globalGuard off with
// @UseGuards, EzidAuthorizer giving the guard's answer, and WebSocket gateways.
import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import WebSocket from 'ws';
import {
  CurrentTenant,
  CurrentUser,
  EzidAuthGuard,
  EzidAuthorizer,
  EzidRolesGuard,
  EzidTenant,
  EzidUser,
  Public,
  Roles,
} from '../../src';
import { EzidEmulator, EMULATOR_IDS } from '../../src/testing';
import { AuthzApp, PLATFORMS, bearer, outcomeOf, startAuthzApp } from './authz-test-app';

const T1 = EMULATOR_IDS.tenant1;
const T2 = EMULATOR_IDS.tenant2;

@Controller('orgs/:tenantId')
@Roles('Admin')
class MergeController {
  @Get('class') fromClass() {
    return { ok: true };
  }

  @Get('override')
  @Roles('Member')
  override() {
    return { ok: true };
  }

  @Get('merged')
  @Roles('Member', { merge: true })
  merged() {
    return { ok: true };
  }

  @Get('empty')
  @Roles()
  empty() {
    return { ok: true };
  }

  @Public()
  @Get('public')
  open() {
    return { ok: true };
  }
}

@Controller('svc')
class AuthorizerController {
  constructor(private readonly authorizer: EzidAuthorizer) {}

  /** The authorizer's answer for the same rule as MergeController.fromClass, in a service. */
  @Get(':tenantId')
  async can(@CurrentUser() user: EzidUser, @Param('tenantId') tenantId: string) {
    return {
      admin: await this.authorizer.can(user, tenantId, { roles: ['Admin'] }),
      check: await this.authorizer.check(user, tenantId, { permissions: ['Billing Manage'] }),
    };
  }
}

@Controller('opt-in/:tenantId')
@UseGuards(EzidAuthGuard, EzidRolesGuard)
class OptInController {
  @Get('admin')
  @Roles('Admin')
  admin(@CurrentTenant() tenant: EzidTenant) {
    return { tenant: tenant.id };
  }
}

@Controller('unguarded/:tenantId')
class UnguardedController {
  @Get() get() {
    return { ok: true };
  }
}

let emu: EzidEmulator;
let demo: string; // Admin in T1, Member in T2 (default seed)

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
  demo = emu.mintAccessToken('demo@example.com');
});

afterAll(async () => {
  await emu?.stop();
});

describe.each(PLATFORMS)('EzidRolesGuard wiring on %s', (platform) => {
  let app: AuthzApp;

  beforeAll(async () => {
    app = await startAuthzApp(platform, emu, [MergeController, AuthorizerController]);
  });

  afterAll(async () => {
    await app?.close();
  });

  const get = async (path: string) => outcomeOf(await app.get(path, bearer(demo)));

  it('the class rule applies to handlers without their own', async () => {
    expect(await get(`/orgs/${T1}/class`)).toBe(200);
    expect(await get(`/orgs/${T2}/class`)).toBe('403 insufficient_role');
  });

  it('a handler rule overrides the class rule', async () => {
    expect(await get(`/orgs/${T2}/override`)).toBe(200); // Member in T2, not Admin
    expect(await get(`/orgs/${T1}/override`)).toBe('403 insufficient_role'); // Admin but not Member in T1
  });

  it('{ merge: true } enforces both', async () => {
    expect(await get(`/orgs/${T1}/merged`)).toBe('403 insufficient_role');
    expect(await get(`/orgs/${T2}/merged`)).toBe('403 insufficient_role');
    const both = emu.mintAccessToken('demo@example.com', {
      claims: {
        tenants: [
          {
            tenant_id: T1,
            tenant_name: 'org1',
            status: 'Verified',
            roles: [
              { role_id: 'a', role_name: 'Admin', permissions: [] },
              { role_id: 'm', role_name: 'Member', permissions: [] },
            ],
          },
        ],
      },
    });
    expect(await outcomeOf(await app.get(`/orgs/${T1}/merged`, bearer(both)))).toBe(200);
  });

  it('@Roles() with no names denies', async () => {
    expect(await get(`/orgs/${T1}/empty`)).toBe('403 insufficient_role');
  });

  it('@Public() on a handler does not switch off the class rule', async () => {
    expect(await outcomeOf(await app.get(`/orgs/${T2}/public`))).toBe('401 token_missing');
    expect(await get(`/orgs/${T2}/public`)).toBe('403 insufficient_role');
    expect(await get(`/orgs/${T1}/public`)).toBe(200);
  });

  it('EzidAuthorizer gives the guard’s answer', async () => {
    const r1 = (await (await app.get(`/svc/${T1}`, bearer(demo))).json()) as Record<string, unknown>;
    expect(r1).toMatchObject({ admin: true, check: { allowed: true, tenant: { id: T1 } } });
    // /svc/:tenantId names T2; the guard checks membership (demo is a Member), the authorizer the rule.
    const r2 = (await (await app.get(`/svc/${T2}`, bearer(demo))).json()) as Record<string, unknown>;
    expect(r2).toMatchObject({ admin: false, check: { allowed: false, code: 'insufficient_permission' } });
    expect(await get(`/orgs/${T2}/class`)).toBe('403 insufficient_role');
    // A tenant the user is not in: the guard stops it before the service.
    expect(await get(`/svc/664e2686a1b2c3d4e5f60009`)).toBe('403 tenant_forbidden');
  });
});

describe.each(PLATFORMS)('globalGuard: false on %s', (platform) => {
  let app: AuthzApp;

  beforeAll(async () => {
    app = await startAuthzApp(platform, emu, [OptInController, UnguardedController], { globalGuard: false });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('routes opt in with @UseGuards(EzidAuthGuard, EzidRolesGuard)', async () => {
    expect(await outcomeOf(await app.get(`/opt-in/${T1}/admin`, bearer(demo)))).toBe(200);
    expect(await outcomeOf(await app.get(`/opt-in/${T2}/admin`, bearer(demo)))).toBe('403 insufficient_role');
    expect((await app.get(`/opt-in/${T1}/admin`)).status).toBe(401);
  });

  it('other routes are not checked', async () => {
    expect(await outcomeOf(await app.get(`/unguarded/664e2686a1b2c3d4e5f60009`))).toBe(200);
  });
});

// Nest 11 does not apply global (APP_GUARD) guards to gateways; Nest 12 does. Listing the guards on the
// gateway works on both (on Nest 12 they then run twice, which is idempotent).
@WebSocketGateway()
@UseGuards(EzidAuthGuard, EzidRolesGuard)
class BillingGateway {
  @SubscribeMessage('billing')
  @Roles('Admin')
  billing(
    @CurrentTenant() tenant: EzidTenant,
    @CurrentUser('email') email: string,
    @MessageBody() _b: unknown,
  ) {
    return { event: 'billing', data: { tenant: tenant.id, email } };
  }

  handleConnection(client: WebSocket): void {
    // platform-ws emits guard exceptions on the server-side socket: forward them to the client.
    client.on('exception', (e: unknown) => client.send(JSON.stringify({ event: 'exception', data: e })));
  }
}

describe('WebSocket gateway (platform-ws)', () => {
  let app: AuthzApp;
  let ws: WebSocket;

  beforeAll(async () => {
    app = await startAuthzApp('express', emu, [], {}, (b) => b, {
      providers: [BillingGateway],
      setup: (a) => a.useWebSocketAdapter(new WsAdapter(a)),
    });
    ws = new WebSocket(app.url.replace('http', 'ws'));
    await new Promise((r, j) => ws.once('open', r).once('error', j));
  });

  afterAll(async () => {
    ws?.close();
    await app?.close();
  });

  const send = (headers: Record<string, string>) =>
    new Promise<unknown>((resolve) => {
      ws.once('message', (m) => resolve(JSON.parse(String(m))));
      ws.send(JSON.stringify({ event: 'billing', data: { headers } }));
    });

  it('a role in the message’s tenant is allowed, with @CurrentTenant()', async () => {
    expect(await send({ authorization: `Bearer ${demo}`, 'x-tenant-id': T1 })).toEqual({
      event: 'billing',
      data: { tenant: T1, email: 'demo@example.com' },
    });
  });

  it('a role held in another tenant is 403 insufficient_role', async () => {
    expect(await send({ authorization: `Bearer ${demo}`, 'x-tenant-id': T2 })).toEqual({
      event: 'exception',
      data: expect.objectContaining({ statusCode: 403, code: 'insufficient_role' }),
    });
  });

  it('an unknown or prototype-key tenant is 403 tenant_forbidden', async () => {
    for (const t of ['664e2686a1b2c3d4e5f60009', '__proto__']) {
      expect(await send({ authorization: `Bearer ${demo}`, 'x-tenant-id': t })).toEqual({
        event: 'exception',
        data: expect.objectContaining({ statusCode: 403, code: 'tenant_forbidden' }),
      });
    }
  });
});
