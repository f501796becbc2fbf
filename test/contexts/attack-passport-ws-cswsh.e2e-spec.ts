// Found by the attack pass on the GraphQL and WebSocket contexts (issue 16); kept as regression tests.
// Attack 16: the Passport strategy on a graphql-ws subscription whose context is the WebSocket upgrade request.
// docs/auth.md: "AuthGuard('ezid-jwt') (the Passport strategy) applies the same rule" as EzidAuthGuard, whose
// rule for a WebSocket handshake cookie is "the handshake must prove a trusted origin whatever the message".
// The strategy only checks unsafe methods; an upgrade is a GET, so a cross-site page subscribes as the victim.
import { EventEmitter, on } from 'node:events';
import { ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { Args, GqlExecutionContext, ID, Resolver, Subscription } from '@nestjs/graphql';
import { AuthGuard } from '@nestjs/passport';
import { Client, createClient, FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import type { EzidModuleOptions } from '../../src';
import { EzidRolesGuard, Public } from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { AuthzApp, startAuthzApp } from '../authz/authz-test-app';
import { graphqlModule, OrgResolver } from '../contexts/graphql-test-app';

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;
const T1 = EMULATOR_IDS.tenant1;
const APP_ORIGIN = 'https://app.example';

/** The usual GraphQL Passport guard: the request of the GraphQL context. */
@Injectable()
class GqlPassportGuard extends AuthGuard('ezid-jwt') {
  override getRequest(context: ExecutionContext) {
    return GqlExecutionContext.create(context).getContext<{ req: unknown }>().req;
  }
}

const bus = new EventEmitter();
let subscribed: (() => void) | undefined;

@Resolver()
class PassportEventsResolver {
  /** Passport recipe (docs/auth.md#passport): @Public() in front of the Passport guard, then EzidRolesGuard. */
  @Public()
  @UseGuards(GqlPassportGuard, EzidRolesGuard)
  @Subscription(() => String, { resolve: (e: [string]) => e[0] })
  privateEvents(@Args('tenantId', { type: () => ID }) tenantId: string): AsyncIterator<[string]> {
    const it = on(bus, `p:${tenantId}`) as AsyncIterator<[string]>;
    subscribed?.();
    return it;
  }
}

let emu: EzidEmulator;
let app: AuthzApp;
const clients: Client[] = [];

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
  const upgradeContext = (ctx: { req?: unknown; extra?: { request?: unknown } }) =>
    ctx.extra ? { req: ctx.extra.request } : { req: ctx.req };
  app = await startAuthzApp(
    'express',
    emu,
    [],
    {
      token: { cookieName: 'ezid_at' } as EzidModuleOptions['token'],
      csrf: { allowedOrigins: [APP_ORIGIN] },
    },
    (b) => b,
    {
      imports: [graphqlModule('express', { subscriptions: { 'graphql-ws': true }, context: upgradeContext })],
      providers: [OrgResolver, PassportEventsResolver],
    },
  );
});
afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await app?.close();
  await emu?.stop();
});

function upgradeClient(headers: Record<string, string>): Client {
  class HeaderWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  const c = createClient({
    url: `${app.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: HeaderWebSocket,
    retryAttempts: 0,
    lazy: false,
  });
  clients.push(c);
  return c;
}

/** Subscribes; resolves with 'subscribed' once the resolver ran (guards passed), or the refusal's code. */
function attempt(c: Client): Promise<unknown> {
  return new Promise((resolve, reject) => {
    subscribed = () => resolve('subscribed');
    c.subscribe(
      { query: 'subscription ($t: ID!) { privateEvents(tenantId: $t) }', variables: { t: T1 } },
      {
        next: (r: Result) =>
          resolve(
            (r.errors?.[0]?.extensions as { code?: unknown } | undefined)?.code ?? r.errors?.[0]?.message,
          ),
        error: (e) => (Array.isArray(e) ? resolve((e[0] as { message?: string })?.message) : reject(e)),
        complete: () => undefined,
      },
    );
  });
}

describe('attack16 Passport strategy on a WebSocket upgrade (cookie mode)', () => {
  it('control: the victim cookie from the trusted origin subscribes', async () => {
    const cookie = `ezid_at=${emu.mintAccessToken('demo@example.com')}`;
    expect(await attempt(upgradeClient({ cookie, origin: APP_ORIGIN }))).toBe('subscribed');
  });

  it('cross-site WebSocket hijacking: the victim cookie from another origin does not subscribe through AuthGuard("ezid-jwt")', async () => {
    const cookie = `ezid_at=${emu.mintAccessToken('demo@example.com')}`;
    // On the current code the strategy reads the cookie of the GET upgrade with no origin check: 'subscribed'.
    expect(await attempt(upgradeClient({ cookie, origin: 'https://evil.example' }))).not.toBe('subscribed');
  });
});
