// Found by the attack pass on the GraphQL and WebSocket contexts (issue 16); kept as regression tests.
// Attack 16: Mercurius copies graphql-ws connectionParams into the upgrade request's headers (a header the upgrade
// already carries wins). The guard's same-origin proof for a cookie on a subscription reads those headers, and
// `Sec-Fetch-Site` is decisive when present. A cross-site page in a browser that sends no fetch metadata on a
// WebSocket upgrade (it always sends Origin and the cookie) forges `sec-fetch-site: same-origin` in
// connectionParams: the victim's cookie then authenticates the attacker's subscription (CSWSH).
import { EventEmitter, on } from 'node:events';
import { Args, ID, Resolver, Subscription } from '@nestjs/graphql';
import { Client, createClient, FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import type { EzidModuleOptions } from '../../src';
import { Roles } from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { AuthzApp, startAuthzApp } from '../authz/authz-test-app';
import { graphqlModule, OrgResolver } from '../contexts/graphql-test-app';

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;
const T1 = EMULATOR_IDS.tenant1; // demo: Admin
const APP_ORIGIN = 'https://app.example';

const bus = new EventEmitter();
let subscribed: (() => void) | undefined;

@Resolver()
class AdminEventsResolver {
  @Roles('Admin')
  @Subscription(() => String, { resolve: (e: [string]) => e[0] })
  adminEvents(@Args('tenantId', { type: () => ID }) tenantId: string): AsyncIterator<[string]> {
    const it = on(bus, tenantId) as AsyncIterator<[string]>;
    subscribed?.();
    return it;
  }
}

let emu: EzidEmulator;
let app: AuthzApp;
const clients: Client[] = [];

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
  app = await startAuthzApp(
    'fastify',
    emu,
    [],
    {
      token: { cookieName: 'ezid_at' } as EzidModuleOptions['token'],
      csrf: { allowedOrigins: [APP_ORIGIN] },
    },
    (b) => b,
    {
      imports: [graphqlModule('fastify', {}, { subscription: true })],
      providers: [OrgResolver, AdminEventsResolver],
    },
  );
});
afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await app?.close();
  await emu?.stop();
});

function client(headers: Record<string, string>, connectionParams: Record<string, unknown>): Client {
  class HeaderWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  const c = createClient({
    url: `${app.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: HeaderWebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: false,
  });
  clients.push(c);
  return c;
}

/** 'subscribed' once the resolver ran (the guards passed), else the refusal's code. */
function attempt(c: Client): Promise<unknown> {
  return new Promise((resolve, reject) => {
    subscribed = () => resolve('subscribed');
    c.subscribe(
      { query: 'subscription ($t: ID!) { adminEvents(tenantId: $t) }', variables: { t: T1 } },
      {
        next: (r: Result) => resolve((r.errors?.[0]?.extensions as { code?: unknown } | undefined)?.code),
        error: (e) =>
          Array.isArray(e)
            ? resolve((e[0] as { extensions?: { code?: unknown } })?.extensions?.code)
            : reject(e instanceof Error ? e : new Error(String(e))),
        complete: () => undefined,
      },
    );
  });
}

describe('attack16 Mercurius: fetch metadata forged through connectionParams', () => {
  const victimCookie = () => `ezid_at=${emu.mintAccessToken('demo@example.com')}`;

  it('control: the victim cookie from another origin is refused (403 csrf_rejected)', async () => {
    expect(await attempt(client({ cookie: victimCookie(), origin: 'https://evil.example' }, {}))).toBe(
      'csrf_rejected',
    );
  });

  it('a cross-site page forging sec-fetch-site: same-origin in connectionParams is still refused (403 csrf_rejected)', async () => {
    const c = client(
      { cookie: victimCookie(), origin: 'https://evil.example' },
      { 'sec-fetch-site': 'same-origin' },
    );
    // On the current code: 'subscribed' (the forged header, copied into the upgrade request, wins over Origin).
    expect(await attempt(c)).toBe('csrf_rejected');
  });
});
