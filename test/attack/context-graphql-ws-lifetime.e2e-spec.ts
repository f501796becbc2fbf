// Attack: work a graphql-ws subscription started must not keep its user once the WebSocket closed
// (docs/context.md: "after its WebSocket or TCP connection closed"), with the documented contexts:
// Apollo's context function of docs/auth.md, Mercurius's own subscription context.
import { Context, Query, Resolver, Subscription } from '@nestjs/graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { EzidContext } from '../../src';
import { EzidEmulator } from '../../src/testing';
import { AuthzApp, PLATFORMS, startAuthzApp } from '../authz/authz-test-app';
import { DRIVER_OF, graphqlModule, OrgResolver } from '../contexts/graphql-test-app';

let emu: EzidEmulator;
let app: AuthzApp;

/** Set by each test: what the subscription resolver does once it passed the guards. */
let onSubscribe: (serverSocketClosed: Promise<void>) => void = () => undefined;
/** The server side of the last graphql-ws connection closed (Apollo: captured in the context function). */
let apolloClosed: Promise<void> | undefined;

const closedOf = (s: unknown): Promise<void> =>
  new Promise((r) => (s as { once(e: string, f: () => void): void }).once('close', () => r()));

/** Set by each test: what the query resolver does (gets a promise of the server-side response close). */
let onQuery: (responseClosed: Promise<void>) => void = () => undefined;

@Resolver()
class TickResolver {
  @Query(() => String)
  work(@Context() ctx: { req?: { res?: unknown }; reply?: { raw?: unknown } }): string {
    onQuery(closedOf(ctx.req?.res ?? ctx.reply?.raw));
    return 'started';
  }

  @Subscription(() => String)
  ticks(@Context() ctx: { request?: { socket?: unknown } }): AsyncIterator<string> {
    onSubscribe(ctx.request ? closedOf(ctx.request.socket) : apolloClosed!);
    return (async function* () {
      yield 'tick';
      await new Promise(() => undefined);
    })();
  }
}

const context = (ctx: {
  req?: unknown;
  extra?: { socket?: unknown };
  connectionParams?: Record<string, unknown>;
}) => {
  if (ctx.extra) apolloClosed = closedOf(ctx.extra.socket);
  return ctx.extra
    ? { req: { headers: { authorization: ctx.connectionParams?.authorization } }, extra: ctx.extra }
    : { req: ctx.req };
};

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
});
afterAll(async () => {
  await emu?.stop();
});

describe.each(PLATFORMS)('graphql-ws subscription context lifetime on %s', (platform) => {
  beforeAll(async () => {
    app = await startAuthzApp(platform, emu, [], { context: true }, (b) => b, {
      imports: [
        DRIVER_OF[platform] === 'apollo'
          ? graphqlModule(platform, { subscriptions: { 'graphql-ws': true }, context })
          : graphqlModule(platform, {}, { subscription: true }),
      ],
      providers: [OrgResolver, TickResolver],
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('work a GraphQL-over-HTTP query started sees no user once its response closed (context `{ req }` only)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let closed!: Promise<void>;
    let during: string | undefined;
    const after = new Promise<string | undefined>((resolve) => {
      onQuery = (c) => {
        closed = c;
        during = EzidContext.user?.email;
        void gate.then(() => resolve(EzidContext.user?.email));
      };
    });
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${emu.mintAccessToken('demo@example.com')}`,
      },
      body: JSON.stringify({ query: '{ work }' }),
    });
    expect(await res.json()).toEqual({ data: { work: 'started' } });
    expect(during).toBe('demo@example.com');
    await closed;
    release();
    expect(await after).toBeUndefined();
  });

  it('work a subscription started sees no user once its WebSocket closed', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let during: string | undefined;
    let closed!: Promise<void>;
    const after = new Promise<string | undefined>((resolve) => {
      onSubscribe = (c) => {
        closed = c;
        during = EzidContext.user?.email;
        void gate.then(() => resolve(EzidContext.user?.email));
      };
    });
    const client = createClient({
      url: `${app.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${emu.mintAccessToken('demo@example.com')}` },
      retryAttempts: 0,
      lazy: false,
    });
    await new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: 'subscription { ticks }' },
        { next: () => resolve(), error: reject, complete: () => undefined },
      );
    });
    expect(during).toBe('demo@example.com');
    await client.dispose();
    await closed;
    release();
    expect(await after).toBeUndefined();
  });
});
