// The request context (`EzidContext`, `context: true`) on real servers: interleaved concurrent requests of
// different users and tenants through async service chains (timers, promises, streams, async iterators,
// EventEmitter) on Express and Fastify, GraphQL (Apollo / Mercurius, graphql-ws), WebSocket gateways
// (platform-ws, socket.io) and a TCP microservice; real RS256 tokens from the emulator. Concurrency is
// forced with barriers (every request waits until all are in flight), never with sleeps.
import { EventEmitter, on, once } from 'node:events';
import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { Body, Controller, Get, INestMicroservice, Injectable, Post, UseGuards } from '@nestjs/common';
import { Args, ID, Query, Resolver, Subscription } from '@nestjs/graphql';
import { ClientProxy, Ctx, MessagePattern, Payload, TcpContext } from '@nestjs/microservices';
import { AuthGuard } from '@nestjs/passport';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { firstValueFrom } from 'rxjs';
import { io, Socket } from 'socket.io-client';
import { Client as GqlWsClient, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  EzidAuthGuard,
  EzidContext,
  EzidModule,
  EzidRolesGuard,
  OptionalAuth,
  Public,
  Roles,
} from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { AuthzApp, bearer, PLATFORMS, startAuthzApp } from '../authz/authz-test-app';
import { DRIVER_OF, gql, graphqlModule } from '../contexts/graphql-test-app';
import { startTcpService } from '../support/tcp-service';

const T1 = EMULATOR_IDS.tenant1; // demo: Admin, alice: Member
const T2 = EMULATOR_IDS.tenant2; // demo: Member, bob: Admin

/** Resolves once `n` callers are waiting: every request of a round is in flight before any goes on. */
class Barrier {
  private waiting: (() => void)[] = [];
  constructor(private n: number) {}
  reset(n: number): void {
    this.n = n;
    this.waiting = [];
  }
  wait(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length >= this.n) for (const w of this.waiting.splice(0)) w();
    });
  }
}

const barrier = new Barrier(1);

const who = (): string | null => EzidContext.user?.email ?? null;
const where = (): string | null => EzidContext.tenant?.id ?? null;

/** A service several calls deep: what the principal looks like after each kind of async hop. */
@Injectable()
class ChainService {
  constructor(private readonly ctx: EzidContext) {}

  async observe(): Promise<Record<string, unknown>> {
    const seen: Record<string, unknown> = { start: who() };
    await barrier.wait();
    seen.afterBarrier = who();
    seen.timer = await new Promise((r) => setTimeout(() => r(who()), 0));
    seen.immediate = await tick().then(who);
    seen.promise = await Promise.resolve()
      .then(() => Promise.all([Promise.resolve(), tick()]))
      .then(() => this.ctx.user?.email ?? null);
    const streamed: unknown[] = [];
    const stream = Readable.from(
      (async function* () {
        for (let i = 0; i < 3; i++) {
          await tick();
          yield who();
        }
      })(),
    );
    for await (const chunk of stream) streamed.push(chunk);
    seen.stream = streamed;
    const iterated: unknown[] = [];
    for await (const v of this.iterate()) iterated.push(v);
    seen.iterator = iterated;
    const emitter = new EventEmitter();
    const heard = once(emitter, 'hop');
    setImmediate(() => emitter.emit('hop', who()));
    seen.emitter = (await heard)[0];
    seen.tenant = where();
    seen.tenantLater = await new Promise((r) => setTimeout(() => r(this.ctx.tenant?.id ?? null), 0));
    return seen;
  }

  private async *iterate(): AsyncGenerator<string | null> {
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 0));
      yield who();
    }
  }
}

/** Late work: a timer scheduled by a request that fires after its response, during another request. */
let releaseLate: (() => void) | undefined;
let lateSeen: Promise<unknown> | undefined;

@Controller('ctx')
class ContextController {
  constructor(private readonly chain: ChainService) {}

  @Roles('Admin', 'Member')
  @Get('chain')
  chainRoute() {
    return this.chain.observe();
  }

  @Post('echo')
  async echo(@Body() body: { n: number }) {
    await barrier.wait();
    await tick();
    return { n: body.n, user: who() };
  }

  @Public()
  @Get('public')
  async publicRoute() {
    await tick();
    return { user: who(), active: EzidContext.active };
  }

  @OptionalAuth()
  @Get('optional')
  async optional() {
    await tick();
    return { user: who(), active: EzidContext.active };
  }

  @Get('late')
  late() {
    const gate = new Promise<void>((r) => (releaseLate = r));
    lateSeen = gate.then(() => new Promise((r) => setTimeout(() => r(who()), 0)));
    return { user: who() };
  }

  @Get('release')
  async release() {
    releaseLate?.();
    const late = await lateSeen;
    return { user: who(), late };
  }

  @Get('background')
  background() {
    return { user: who(), detached: EzidContext.exit(() => who()) };
  }

  @Public()
  @UseGuards(AuthGuard('ezid-jwt'))
  @Get('passport')
  async passport() {
    await tick();
    return { user: who() };
  }
}

let emu: EzidEmulator;

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
});

afterAll(async () => {
  await emu?.stop();
});

const token = (email: string) => emu.mintAccessToken(email);

describe.each(PLATFORMS)('request context over HTTP on %s', (platform) => {
  let app: AuthzApp;

  beforeAll(async () => {
    app = await startAuthzApp(platform, emu, [ContextController], { context: true }, (b) => b, {
      providers: [ChainService],
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('interleaved concurrent requests of different users and tenants each see only their own principal, at every async hop', async () => {
    const cases = [
      ['demo@example.com', T1],
      ['alice@example.com', T1],
      ['bob@example.com', T2],
      ['demo@example.com', T2],
      ['alice@example.com', T1],
      ['bob@example.com', T2],
    ] as const;
    for (let round = 0; round < 3; round++) {
      barrier.reset(cases.length);
      const tokens = cases.map(([email]) => token(email));
      const results = await Promise.all(
        cases.map(async ([, tenant], i) => {
          const res = await app.get('/ctx/chain', { ...bearer(tokens[i]), 'x-tenant-id': tenant });
          expect(res.status).toBe(200);
          return res.json() as Promise<Record<string, unknown>>;
        }),
      );
      results.forEach((seen, i) => {
        const [email, tenant] = cases[i];
        expect(seen).toEqual({
          start: email,
          afterBarrier: email,
          timer: email,
          immediate: email,
          promise: email,
          stream: [email, email, email],
          iterator: [email, email],
          emitter: email,
          tenant,
          tenantLater: tenant,
        });
      });
    }
  });

  it('POST with a body (parsed before the guards on Express, after the middleware hooks on Fastify): each sees its own user', async () => {
    const users = ['demo@example.com', 'alice@example.com', 'bob@example.com', 'alice@example.com'];
    barrier.reset(users.length);
    const results = await Promise.all(
      users.map(async (email, n) => {
        const res = await fetch(`${app.url}/ctx/echo`, {
          method: 'POST',
          headers: { ...bearer(token(email)), 'content-type': 'application/json' },
          body: JSON.stringify({ n }),
        });
        return res.json() as Promise<unknown>;
      }),
    );
    expect(results).toEqual(users.map((user, n) => ({ n, user })));
  });

  it('@Public() and unauthenticated @OptionalAuth() requests see no user, even with a token or right after another user’s request', async () => {
    expect(await (await app.get('/ctx/optional', bearer(token('bob@example.com')))).json()).toEqual({
      user: 'bob@example.com',
      active: true,
    });
    expect(await (await app.get('/ctx/public', bearer(token('demo@example.com')))).json()).toEqual({
      user: null,
      active: true,
    });
    expect(await (await app.get('/ctx/optional')).json()).toEqual({ user: null, active: true });
  });

  it('a timer a request schedules that fires after its response, while another user’s request runs, sees no user', async () => {
    expect(await (await app.get('/ctx/late', bearer(token('demo@example.com')))).json()).toEqual({
      user: 'demo@example.com',
    });
    expect(await (await app.get('/ctx/release', bearer(token('alice@example.com')))).json()).toEqual({
      user: 'alice@example.com',
      late: null,
    });
  });

  it('EzidContext.exit() runs background work outside the request context', async () => {
    expect(await (await app.get('/ctx/background', bearer(token('alice@example.com')))).json()).toEqual({
      user: 'alice@example.com',
      detached: null,
    });
  });

  it('the Passport strategy path (AuthGuard("ezid-jwt")) sets the context too', async () => {
    expect(await (await app.get('/ctx/passport', bearer(token('bob@example.com')))).json()).toEqual({
      user: 'bob@example.com',
    });
    expect((await app.get('/ctx/passport')).status).toBe(401);
  });

  it('empty outside a request (here, in the test, and after every request above)', () => {
    expect(EzidContext.user).toBeUndefined();
    expect(EzidContext.tenant).toBeUndefined();
    expect(EzidContext.active).toBe(false);
  });
});

describe.each(PLATFORMS)('request context off (the default) on %s', (platform) => {
  let app: AuthzApp;

  beforeAll(async () => {
    app = await startAuthzApp(platform, emu, [ContextController], {}, (b) => b, {
      providers: [ChainService],
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('EzidContext is empty inside requests: nothing is entered', async () => {
    expect(await (await app.get('/ctx/optional', bearer(token('bob@example.com')))).json()).toEqual({
      user: null,
      active: false,
    });
  });
});

/** Resolvers that report what `EzidContext` holds after async hops; root fields resolve concurrently. */
@Resolver()
class ContextResolver {
  @Query(() => String)
  async ctxWho(): Promise<string> {
    await barrier.wait();
    await new Promise((r) => setTimeout(r, 0));
    return String(who());
  }

  /** The tenant of this field (its argument): two root fields of one operation name different tenants. */
  @Roles('Admin', 'Member')
  @Query(() => String)
  async ctxTenant(@Args('tenantId', { type: () => ID }) _tenantId: string): Promise<string> {
    await barrier.wait();
    await tick();
    return `${String(who())}@${String(where())}`;
  }

  @Public()
  @Query(() => String)
  async ctxPublic(): Promise<string> {
    await tick();
    return `${String(who())}/${String(EzidContext.active)}`;
  }

  @Subscription(() => String, { resolve: (event: [string]) => `${event[0]} for ${String(who())}` })
  ctxEvents(): AsyncIterator<[string]> {
    subscribed?.();
    return on(gqlBus, 'event') as AsyncIterator<[string]>;
  }
}

const gqlBus = new EventEmitter();
let subscribed: (() => void) | undefined;

/** The documented Apollo context: the request over HTTP; over graphql-ws a request-like object of connectionParams. */
const apolloContext = (ctx: {
  req?: unknown;
  extra?: unknown;
  connectionParams?: Record<string, unknown>;
}) =>
  ctx.extra ? { req: { headers: { authorization: ctx.connectionParams?.authorization } } } : { req: ctx.req };

describe.each(PLATFORMS)('request context on GraphQL (%s)', (platform) => {
  let app: AuthzApp;
  const driver = DRIVER_OF[platform];

  beforeAll(async () => {
    app = await startAuthzApp(platform, emu, [], { context: true }, (b) => b, {
      imports: [
        driver === 'apollo'
          ? graphqlModule(platform, { subscriptions: { 'graphql-ws': true }, context: apolloContext })
          : graphqlModule(platform, {}, { subscription: true }),
      ],
      providers: [ContextResolver],
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('concurrent operations of different users each see their own user', async () => {
    const users = ['demo@example.com', 'alice@example.com', 'bob@example.com', 'alice@example.com'];
    barrier.reset(users.length);
    const results = await Promise.all(users.map((u) => gql(app, '{ ctxWho }', bearer(token(u)))));
    expect(results.map((r) => r.data)).toEqual(users.map((u) => ({ ctxWho: u })));
  });

  it('two root fields of one operation, resolved concurrently, each see the tenant of their own argument', async () => {
    barrier.reset(2);
    const r = await gql(
      app,
      `{ a: ctxTenant(tenantId: "${T1}") b: ctxTenant(tenantId: "${T2}") }`,
      bearer(token('demo@example.com')),
    );
    expect(r.data).toEqual({ a: `demo@example.com@${T1}`, b: `demo@example.com@${T2}` });
  });

  it('@Public() resolver: no user, even with a token', async () => {
    const r = await gql(app, '{ ctxPublic }', bearer(token('demo@example.com')));
    expect(r.data).toEqual({ ctxPublic: 'null/true' });
  });

  it('graphql-ws: each subscription sees the user of its own connection, event after event', async () => {
    const clients: GqlWsClient[] = [];
    const open = (email: string): GqlWsClient => {
      const c = createClient({
        url: `${app.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token(email)}` },
        retryAttempts: 0,
        lazy: false,
      });
      clients.push(c);
      return c;
    };
    const listen = async (c: GqlWsClient): Promise<() => Promise<unknown>> => {
      const got: unknown[] = [];
      const waiting: ((v: unknown) => void)[] = [];
      const ran = new Promise<void>((r) => (subscribed = r));
      c.subscribe(
        { query: 'subscription { ctxEvents }' },
        {
          next: (v) => {
            const w = waiting.shift();
            if (w) w(v.data);
            else got.push(v.data);
          },
          error: () => undefined,
          complete: () => undefined,
        },
      );
      await ran;
      return () => (got.length ? Promise.resolve(got.shift()) : new Promise((r) => waiting.push(r)));
    };
    try {
      const demo = await listen(open('demo@example.com'));
      const bob = await listen(open('bob@example.com'));
      for (const event of ['first', 'second']) {
        gqlBus.emit('event', event);
        expect(await demo()).toEqual({ ctxEvents: `${event} for demo@example.com` });
        expect(await bob()).toEqual({ ctxEvents: `${event} for bob@example.com` });
      }
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  });
});

type Adapter = 'ws' | 'socket.io';
const COMBOS: [(typeof PLATFORMS)[number], Adapter][] = PLATFORMS.flatMap((p) =>
  (['ws', 'socket.io'] as Adapter[]).map((a): [(typeof PLATFORMS)[number], Adapter] => [p, a]),
);

let openWsGate!: () => void;
let wsGate: Promise<void>;
let wsLate: Promise<unknown> | undefined;

/** What `handleDisconnect` saw: it runs on the connection, after messages of a user. */
let disconnected: ((seen: unknown) => void) | undefined;

function contextGateway(adapter: Adapter): new () => unknown {
  class ContextGateway {
    @OptionalAuth()
    @SubscribeMessage('who')
    async who(@MessageBody() body: { n: number; wait?: boolean }) {
      if (body.wait) await barrier.wait();
      await new Promise((r) => setTimeout(r, 0));
      return { event: 'who', data: { n: body.n, user: who() } };
    }

    /** Schedules work that outlives the message (it waits for `wsGate`), like a timer left running. */
    @SubscribeMessage('late')
    late(@MessageBody() body: { n: number }) {
      wsLate = wsGate.then(() => new Promise((r) => setTimeout(() => r(who()), 0)));
      return { event: 'who', data: { n: body.n, user: who() } };
    }

    handleDisconnect(): void {
      disconnected?.({ user: who(), active: EzidContext.active });
    }
  }
  // As documented for Nest 11, where app-wide guards do not run on gateways (harmless on Nest 12).
  UseGuards(EzidAuthGuard, EzidRolesGuard)(ContextGateway);
  WebSocketGateway(adapter === 'ws' ? { path: '/ctx' } : { namespace: '/ctx' })(ContextGateway);
  return ContextGateway;
}

interface Reply {
  n: number;
  user: string | null;
}

async function wsConnect(
  url: string,
  adapter: Adapter,
): Promise<{
  send(n: number, headers: Record<string, string>, wait?: boolean, event?: string): void;
  replies(k: number): Promise<Reply[]>;
  close(): void;
}> {
  const got: Reply[] = [];
  let notify: (() => void) | undefined;
  const push = (r: Reply) => {
    got.push(r);
    notify?.();
  };
  const replies = (k: number) =>
    new Promise<Reply[]>((resolve) => {
      const check = () => {
        if (got.length >= k) resolve(got.splice(0, k).sort((a, b) => a.n - b.n));
      };
      notify = check;
      check();
    });
  if (adapter === 'ws') {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ctx`);
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    ws.on('message', (m) => push((JSON.parse(String(m)) as { data: Reply }).data));
    return {
      send: (n, headers, wait, event = 'who') =>
        ws.send(JSON.stringify({ event, data: { n, headers, wait } })),
      replies,
      close: () => ws.close(),
    };
  }
  const sock: Socket = io(`${url}/ctx`, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise((r, j) => sock.once('connect', () => r(undefined)).once('connect_error', j));
  sock.on('who', (d: Reply) => push(d));
  return {
    send: (n, headers, wait, event = 'who') => sock.emit(event, { n, headers, wait }),
    replies,
    close: () => sock.close(),
  };
}

describe.each(COMBOS)('request context on a WebSocket gateway (%s, %s)', (platform, adapter) => {
  let app: AuthzApp;

  beforeAll(async () => {
    app = await startAuthzApp(platform, emu, [], { context: true }, (b) => b, {
      providers: [contextGateway(adapter)],
      setup: (a) => a.useWebSocketAdapter(adapter === 'ws' ? new WsAdapter(a) : new IoAdapter(a)),
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('per message: concurrent messages of different users on one connection each see their own user; a later message without a token sees none; the disconnect handler sees none', async () => {
    const c = await wsConnect(app.url, adapter);
    const users = ['demo@example.com', 'alice@example.com', 'bob@example.com', 'demo@example.com'];
    barrier.reset(users.length);
    users.forEach((u, n) => c.send(n, bearer(token(u)), true));
    expect(await c.replies(users.length)).toEqual(users.map((user, n) => ({ n, user })));
    c.send(9, {});
    expect(await c.replies(1)).toEqual([{ n: 9, user: null }]);
    c.send(10, bearer(token('bob@example.com')));
    expect(await c.replies(1)).toEqual([{ n: 10, user: 'bob@example.com' }]);
    const seen = new Promise((r) => (disconnected = r));
    c.close();
    expect(await seen).toEqual({ user: null, active: false });
  });

  it('work a message started that runs after the connection closed sees no user', async () => {
    wsGate = new Promise((r) => (openWsGate = r));
    const c = await wsConnect(app.url, adapter);
    c.send(1, bearer(token('bob@example.com')), false, 'late');
    expect(await c.replies(1)).toEqual([{ n: 1, user: 'bob@example.com' }]);
    const seen = new Promise((r) => (disconnected = r));
    c.close();
    await seen;
    openWsGate();
    expect(await wsLate).toBeNull();
  });
});

let tcpGate: Promise<void>;
let openTcpGate!: () => void;
let tcpLate: Promise<unknown> | undefined;
let tcpClosed!: () => void;

@Controller()
class ContextHandlers {
  @OptionalAuth()
  @MessagePattern('ctx.who')
  async who(@Payload() p: { n: number; wait?: boolean }) {
    if (p.wait) await barrier.wait();
    await new Promise((r) => setTimeout(r, 0));
    return { n: p.n, user: who(), tenant: where() };
  }

  @Roles('Admin', 'Member')
  @MessagePattern('ctx.tenant')
  async tenant(@Payload() p: { n: number }) {
    await barrier.wait();
    await tick();
    return { n: p.n, user: who(), tenant: where() };
  }

  /** Schedules work that outlives the message (it waits for `tcpGate`); reports its connection's close. */
  @MessagePattern('ctx.late')
  late(@Ctx() ctx: TcpContext) {
    tcpLate = tcpGate.then(() => new Promise((r) => setTimeout(() => r(who()), 0)));
    ctx.getSocketRef().netSocket.once('close', () => tcpClosed());
    return { user: who() };
  }

  @Public()
  @MessagePattern('ctx.public')
  async publicPattern() {
    await tick();
    return { user: who(), active: EzidContext.active };
  }
}

describe('request context on a TCP microservice', () => {
  let service: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        EzidModule.forRoot({
          ...emu.moduleOptions(),
          callback: false,
          context: true,
          token: { jwksUri: emu.jwksUri, issuer: emu.issuer, audience: emu.audience },
        }),
      ],
      controllers: [ContextHandlers],
    }).compile();
    ({ service, client } = await startTcpService(moduleRef));
  });

  afterAll(async () => {
    await client?.close();
    await service?.close();
  });

  const ask = (pattern: string, payload: object) => firstValueFrom(client.send<unknown>(pattern, payload));

  it('concurrent messages of different users and tenants on one connection each see their own principal; later messages without a token see none', async () => {
    const cases = [
      ['demo@example.com', T1],
      ['alice@example.com', T1],
      ['bob@example.com', T2],
      ['demo@example.com', T2],
    ] as const;
    barrier.reset(cases.length);
    const results = await Promise.all(
      cases.map(([email, tenant], n) =>
        ask('ctx.tenant', { n, headers: { ...bearer(token(email)), 'x-tenant-id': tenant } }),
      ),
    );
    expect(results).toEqual(cases.map(([user, tenant], n) => ({ n, user, tenant })));
    expect(await ask('ctx.who', { n: 5, headers: {} })).toEqual({ n: 5, user: null, tenant: null });
    expect(await ask('ctx.public', { headers: bearer(token('demo@example.com')) })).toEqual({
      user: null,
      active: true,
    });
  });

  it('work a message started that runs after its connection closed sees no user', async () => {
    tcpGate = new Promise((r) => (openTcpGate = r));
    const closed = new Promise<void>((r) => (tcpClosed = r));
    expect(await ask('ctx.late', { headers: bearer(token('bob@example.com')) })).toEqual({
      user: 'bob@example.com',
    });
    await client.close();
    await closed;
    openTcpGate();
    expect(await tcpLate).toBeNull();
  });
});
