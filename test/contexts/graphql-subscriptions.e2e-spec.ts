// GraphQL subscriptions over graphql-ws on real servers (Apollo on Express, Mercurius on Fastify) with a real
// graphql-ws client over a real WebSocket. The token travels in connectionParams, as headers: Apollo needs the
// documented context function (a request built once per subscribe message); Mercurius copies them into the
// upgrade request's headers itself (docs/auth.md).
import { EventEmitter, on } from 'node:events';
import { Args, ID, Resolver, Subscription } from '@nestjs/graphql';
import { Client, createClient, FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import type { EzidModuleOptions } from '../../src';
import { Roles } from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { AuthzApp, PLATFORMS, startAuthzApp } from '../authz/authz-test-app';
import { DRIVER_OF, graphqlModule, OrgResolver } from './graphql-test-app';

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;

const T1 = EMULATOR_IDS.tenant1; // demo: Admin, alice: Member
const T2 = EMULATOR_IDS.tenant2; // demo: Member

const bus = new EventEmitter();
/** Resolved each time a subscription passed the guards and its resolver ran. */
let subscribed: (() => void) | undefined;

@Resolver()
class OrgEventsResolver {
  /** Events of one tenant, for its Admins only (the tenant of the argument, or of connectionParams['x-tenant-id']). */
  @Roles('Admin')
  @Subscription(() => String, { resolve: (event: [string]) => event[0] })
  orgEvents(@Args('tenantId', { type: () => ID }) tenantId: string): AsyncIterator<[string]> {
    const it = on(bus, tenantId) as AsyncIterator<[string]>;
    subscribed?.();
    return it;
  }
}

/**
 * The documented Apollo context: over HTTP the request; over graphql-ws (`extra` is set) a new
 * request-like object per subscribe message whose headers are connectionParams' (never the upgrade URL,
 * never a cookie).
 */
const context = (ctx: { req?: unknown; extra?: unknown; connectionParams?: Record<string, unknown> }) =>
  ctx.extra
    ? {
        req: {
          headers: {
            authorization: ctx.connectionParams?.authorization,
            'x-tenant-id': ctx.connectionParams?.['x-tenant-id'],
          },
        },
      }
    : { req: ctx.req };

let emu: EzidEmulator;
/** The server of the running describe block. */
let app: AuthzApp;

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
});

afterAll(async () => {
  jest.restoreAllMocks();
  await emu?.stop();
});

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

function wsClient(connectionParams: Record<string, unknown> = {}, urlQuery = ''): Client {
  const c = createClient({
    url: `${app.url.replace('http', 'ws')}/graphql${urlQuery}`,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: false, // one socket for the client's life: the subscriptions of a test share a connection
  });
  clients.push(c);
  return c;
}

interface Sub {
  /** The next result (data or errors). */
  next(): Promise<Result>;
  /** Resolves when the server completes the subscription. */
  completed: Promise<void>;
  dispose(): void;
}

function subscribe(c: Client, tenantId: string): Sub {
  const queue: Result[] = [];
  const waiting: ((r: Result) => void)[] = [];
  let complete!: () => void;
  const completed = new Promise<void>((r) => (complete = r));
  const push = (r: Result) => {
    const w = waiting.shift();
    if (w) w(r);
    else queue.push(r);
  };
  const dispose = c.subscribe(
    { query: 'subscription ($t: ID!) { orgEvents(tenantId: $t) }', variables: { t: tenantId } },
    {
      next: (r) => push(r),
      // A protocol `error` message (Mercurius sends a refused subscription as one): its GraphQL errors.
      error: (e) => {
        if (!Array.isArray(e)) throw e instanceof Error ? e : new Error(JSON.stringify(e));
        push({ errors: e as Result['errors'] });
        complete();
      },
      complete: () => complete(),
    },
  );
  return {
    next: () => {
      const r = queue.shift();
      return r ? Promise.resolve(r) : new Promise((res) => waiting.push(res));
    },
    completed,
    dispose,
  };
}

const bearer = (email: string, o = {}) => `Bearer ${emu.mintAccessToken(email, o)}`;

/** A subscription refused by a guard: one result with the module's error, then complete. */
async function refusedWith(sub: Sub): Promise<unknown> {
  const r = await sub.next();
  await sub.completed;
  expect(r.data ?? null).toBeNull();
  expect(r.errors).toHaveLength(1);
  const ext = r.errors![0].extensions as Record<string, unknown>;
  expect(JSON.stringify(r)).not.toMatch(/\n\s+at |node_modules|UNAUTHENTICATED|FORBIDDEN/);
  return { code: ext.code, statusCode: ext.statusCode };
}

/** Subscribes and waits until the server-side resolver ran (the guards passed). */
async function subscribed_(c: Client, tenantId: string): Promise<Sub> {
  const ran = new Promise<void>((r) => (subscribed = r));
  const sub = subscribe(c, tenantId);
  await ran;
  return sub;
}

describe.each(PLATFORMS)('GraphQL subscriptions over graphql-ws on %s', (platform) => {
  beforeAll(async () => {
    app = await startAuthzApp(platform, emu, [], {}, (b) => b, {
      imports: [
        DRIVER_OF[platform] === 'apollo'
          ? graphqlModule(platform, { subscriptions: { 'graphql-ws': true }, context })
          : graphqlModule(platform, {}, { subscription: true }),
      ],
      providers: [OrgResolver, OrgEventsResolver],
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('the token in connectionParams: an Admin of the tenant receives its events', async () => {
    const sub = await subscribed_(wsClient({ authorization: bearer('demo@example.com') }), T1);
    bus.emit(T1, 'invoice paid');
    expect(await sub.next()).toEqual({ data: { orgEvents: 'invoice paid' } });
    bus.emit(T1, 'member joined');
    expect(await sub.next()).toEqual({ data: { orgEvents: 'member joined' } });
    sub.dispose();
  });

  it('roles are checked per subscription: a Member of the tenant is refused (403 insufficient_role)', async () => {
    const c = wsClient({ authorization: bearer('demo@example.com') });
    expect(await refusedWith(subscribe(c, T2))).toEqual({ code: 'insufficient_role', statusCode: 403 });
    // the same connection may still subscribe where the role holds
    const ok = await subscribed_(c, T1);
    bus.emit(T1, 'ok');
    expect(await ok.next()).toEqual({ data: { orgEvents: 'ok' } });
    ok.dispose();
    expect(
      await refusedWith(subscribe(wsClient({ authorization: bearer('alice@example.com') }), T1)),
    ).toEqual({
      code: 'insufficient_role',
      statusCode: 403,
    });
  });

  it('no token, a malformed one, or one in the upgrade URL’s query: refused (401)', async () => {
    expect(await refusedWith(subscribe(wsClient(), T1))).toEqual({ code: 'token_missing', statusCode: 401 });
    expect(await refusedWith(subscribe(wsClient({ authorization: 'Bearer x.y' }), T1))).toEqual({
      code: 'token_malformed',
      statusCode: 401,
    });
    const token = emu.mintAccessToken('demo@example.com');
    expect(await refusedWith(subscribe(wsClient({}, `?access_token=${token}`), T1))).toEqual({
      code: 'token_missing',
      statusCode: 401,
    });
  });

  it('a tenant header in connectionParams disagreeing with the argument is refused (403 tenant_forbidden)', async () => {
    const c = wsClient({ authorization: bearer('demo@example.com'), 'x-tenant-id': T2 });
    expect(await refusedWith(subscribe(c, T1))).toEqual({ code: 'tenant_forbidden', statusCode: 403 });
  });

  it('a token that expires while connected: new subscriptions on that connection are refused (401 token_expired)', async () => {
    const c = wsClient({ authorization: bearer('demo@example.com', { expiresInSec: 300 }) });
    const first = await subscribed_(c, T1); // stays open: the connection is the same
    const sub = subscribe(c, T1); // sent now; handled by the server an hour later
    const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 3600_000);
    try {
      expect(await refusedWith(sub)).toEqual({ code: 'token_expired', statusCode: 401 });
    } finally {
      clock.mockRestore();
    }
    // Documented limit: a subscription that started before exp is not re-checked per event.
    bus.emit(T1, 'after exp');
    expect(await first.next()).toEqual({ data: { orgEvents: 'after exp' } });
    first.dispose();
  });

  it('the user is not carried between subscriptions of different connections', async () => {
    const admin = await subscribed_(wsClient({ authorization: bearer('demo@example.com') }), T1);
    expect(await refusedWith(subscribe(wsClient(), T1))).toEqual({ code: 'token_missing', statusCode: 401 });
    bus.emit(T1, 'still here');
    expect(await admin.next()).toEqual({ data: { orgEvents: 'still here' } });
    admin.dispose();
  });
});

describe('GraphQL subscriptions with the upgrade request as the context’s request (cookie mode)', () => {
  const APP_ORIGIN = 'https://app.example';
  let upgradeApp: AuthzApp;

  beforeAll(async () => {
    // A context many apps write: the WebSocket upgrade request, shared by every subscription of the connection.
    const upgradeContext = (ctx: { req?: unknown; extra?: { request?: unknown } }) =>
      ctx.extra ? { req: ctx.extra.request } : { req: ctx.req };
    upgradeApp = await startAuthzApp(
      'express',
      emu,
      [],
      {
        token: { cookieName: 'ezid_at' } as EzidModuleOptions['token'],
        csrf: { allowedOrigins: [APP_ORIGIN] },
      },
      (b) => b,
      {
        imports: [
          graphqlModule('express', { subscriptions: { 'graphql-ws': true }, context: upgradeContext }),
        ],
        providers: [OrgResolver, OrgEventsResolver],
      },
    );
  });

  afterAll(async () => {
    await upgradeApp?.close();
  });

  /** A graphql-ws client whose WebSocket upgrade carries `headers` (what a browser or a server client sends). */
  function upgradeClient(headers: Record<string, string>): Client {
    class HeaderWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers });
      }
    }
    const c = createClient({
      url: `${upgradeApp.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: HeaderWebSocket,
      retryAttempts: 0,
      lazy: false,
    });
    clients.push(c);
    return c;
  }

  it('every subscription of the connection is verified again: an upgrade token that expired refuses the next one', async () => {
    const c = upgradeClient({ authorization: bearer('demo@example.com', { expiresInSec: 300 }) });
    const first = await subscribed_(c, T1);
    const sub = subscribe(c, T1);
    const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 3600_000);
    try {
      expect(await refusedWith(sub)).toEqual({ code: 'token_expired', statusCode: 401 });
    } finally {
      clock.mockRestore();
    }
    first.dispose();
    // and a role is checked per subscription, not once per connection
    expect(await refusedWith(subscribe(c, T2))).toEqual({ code: 'insufficient_role', statusCode: 403 });
  });

  it('cross-site WebSocket hijacking: the upgrade cookie authenticates a subscription only from a trusted origin', async () => {
    const cookie = `ezid_at=${emu.mintAccessToken('demo@example.com')}`;
    const ok = await subscribed_(upgradeClient({ cookie, origin: APP_ORIGIN }), T1);
    ok.dispose();
    for (const headers of [{ cookie, origin: 'https://evil.example' }, { cookie }] as Record<
      string,
      string
    >[]) {
      expect(await refusedWith(subscribe(upgradeClient(headers), T1))).toEqual({
        code: 'csrf_rejected',
        statusCode: 403,
      });
    }
  });
});
