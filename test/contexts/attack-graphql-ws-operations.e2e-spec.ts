// Found by the attack pass on the GraphQL and WebSocket contexts (issue 16); kept as regression tests.
// Attack 16: queries and mutations sent over a graphql-ws connection (the protocol's `subscribe` message
// carries any operation; graphql-ws on Apollo executes queries/mutations by default, Mercurius with
// `subscription.fullWsTransport`). The guard treats a subscription's request as a WebSocket handshake
// (origin checked for a cookie, verified on every subscription), but a query/mutation on the same
// connection sees the same shared upgrade request and is treated as a plain HTTP GET:
//  - cookie mode: no origin check (GET is "safe") -> cross-site WebSocket hijacking runs mutations;
//  - a user attached to the shared upgrade request by an earlier operation is reused without
//    re-verification -> an expired token keeps authorizing queries/mutations on that connection.
import { Client, createClient, FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import type { EzidModuleOptions } from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { AuthzApp, startAuthzApp } from '../authz/authz-test-app';
import { graphqlModule, OrgResolver } from '../contexts/graphql-test-app';

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;

const T1 = EMULATOR_IDS.tenant1; // demo: Admin (Billing Manage)
const APP_ORIGIN = 'https://app.example';

let emu: EzidEmulator;
const clients: Client[] = [];

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
});
afterAll(async () => {
  jest.restoreAllMocks();
  await emu?.stop();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

/** A graphql-ws client whose WebSocket upgrade carries `headers` (what a browser sends: cookie, origin). */
function upgradeClient(app: AuthzApp, headers: Record<string, string>, connectionParams = {}): Client {
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

/** Runs one operation over the socket; returns its single result (a protocol error as `{ errors }`). */
function run(c: Client, query: string, variables: Record<string, unknown> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    let got: Result | undefined;
    c.subscribe(
      { query, variables },
      {
        next: (r) => (got = r),
        error: (e) =>
          Array.isArray(e)
            ? resolve({ errors: e as Result['errors'] })
            : reject(e instanceof Error ? e : new Error(String(e))),
        complete: () => resolve(got ?? {}),
      },
    );
  });
}

const codeOf = (r: Result): unknown =>
  (r.errors?.[0]?.extensions as { code?: unknown } | undefined)?.code ?? null;

/** What a cross-site page gets back: the mutation's data, or the refusal's code. */
const outcome = (r: Result, field: string): unknown => (r.data?.[field] != null ? r.data[field] : codeOf(r));

const cookieMode: Partial<EzidModuleOptions> = {
  token: { cookieName: 'ezid_at' } as EzidModuleOptions['token'],
  csrf: { allowedOrigins: [APP_ORIGIN] },
};

/** Apollo on Express with a context returning the upgrade request (the one the docs name as supported). */
async function apolloUpgradeApp(extra: Partial<EzidModuleOptions>): Promise<AuthzApp> {
  const upgradeContext = (ctx: { req?: unknown; extra?: { request?: unknown } }) =>
    ctx.extra ? { req: ctx.extra.request } : { req: ctx.req };
  return startAuthzApp('express', emu, [], extra, (b) => b, {
    imports: [graphqlModule('express', { subscriptions: { 'graphql-ws': true }, context: upgradeContext })],
    providers: [OrgResolver],
  });
}

/** Mercurius on Fastify with queries and mutations over the WebSocket (`fullWsTransport`). */
async function mercuriusFullWsApp(extra: Partial<EzidModuleOptions>): Promise<AuthzApp> {
  return startAuthzApp('fastify', emu, [], extra, (b) => b, {
    imports: [graphqlModule('fastify', {}, { subscription: { fullWsTransport: true } })],
    providers: [OrgResolver],
  });
}

const REFUND = 'mutation ($t: ID!) { refund(tenantId: $t) }';

describe.each<[string, (extra: Partial<EzidModuleOptions>) => Promise<AuthzApp>]>([
  ['apollo (context: ctx.extra.request)', apolloUpgradeApp],
  ['mercurius (fullWsTransport)', mercuriusFullWsApp],
])('attack16 graphql-ws queries/mutations on %s', (_name, start) => {
  describe('cookie mode', () => {
    let app: AuthzApp;
    beforeAll(async () => {
      app = await start(cookieMode);
    });
    afterAll(async () => {
      await app?.close();
    });

    it('cross-site WebSocket hijacking: a mutation over the socket with the victim cookie from another origin is refused (403 csrf_rejected)', async () => {
      const cookie = `ezid_at=${emu.mintAccessToken('demo@example.com')}`;
      const evil = upgradeClient(app, { cookie, origin: 'https://evil.example' });
      const r = await run(evil, REFUND, { t: T1 });
      // On the current code the refund runs as the victim: { refund: 'refunded in ...' }.
      expect(outcome(r, 'refund')).toBe('csrf_rejected');
    });

    it('control: the same mutation from the trusted origin runs', async () => {
      const cookie = `ezid_at=${emu.mintAccessToken('demo@example.com')}`;
      const r = await run(upgradeClient(app, { cookie, origin: APP_ORIGIN }), REFUND, { t: T1 });
      expect(outcome(r, 'refund')).toMatch(/^refunded in /);
    });

    it('cross-site WebSocket hijacking: a query reading the victim identity from another origin is refused (403 csrf_rejected)', async () => {
      const cookie = `ezid_at=${emu.mintAccessToken('demo@example.com')}`;
      const evil = upgradeClient(app, { cookie, origin: 'https://evil.example' });
      const r = await run(evil, '{ me }');
      expect(outcome(r, 'me')).toBe('csrf_rejected');
    });
  });

  describe('bearer mode', () => {
    let app: AuthzApp;
    beforeAll(async () => {
      app = await start({});
    });
    afterAll(async () => {
      await app?.close();
    });

    it('a token that expired while connected no longer authorizes a mutation on that connection (401 token_expired)', async () => {
      const authorization = `Bearer ${emu.mintAccessToken('demo@example.com', { expiresInSec: 300 })}`;
      // Apollo: the upgrade's header; Mercurius: connectionParams, copied into the upgrade request by a subscription.
      const c = upgradeClient(app, { authorization }, { authorization });
      expect(await run(c, '{ me }')).toEqual({ data: { me: 'demo@example.com' } });
      const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 3600_000);
      try {
        const r = await run(c, REFUND, { t: T1 });
        expect(outcome(r, 'refund')).toBe('token_expired');
      } finally {
        clock.mockRestore();
      }
    });
  });
});
