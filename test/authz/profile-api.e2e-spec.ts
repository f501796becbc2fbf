// profile.source: 'api': tenants come from the user-organizations endpoint (ezid-api.md §2.9.9),
// cached per user with a TTL and one in-flight fetch per user; an unreachable source gives 503.
//
// The first suites use a loopback server with the documented wire shape as the upstream, so that
// faults the emulator has no switch for (garbage bodies, per-user data) can be driven; EzidService is
// replaced by a client that calls it. The last suite runs the same contract against the emulator's
// real endpoint through the real EzidService. Everything else is real in both: emulator tokens,
// EzidAuthGuard, EzidRolesGuard, EzidApiProfileSource and its cache.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EzidService } from '../../src';
import { EzidEmulator, EMULATOR_IDS } from '../../src/testing';
import { AuthzApp, PLATFORMS, bearer, matrixController, outcomeOf, startAuthzApp } from './authz-test-app';

const T1 = EMULATOR_IDS.tenant1;
const T2 = EMULATOR_IDS.tenant2;

type Fault = null | 'status500' | 'hang' | 'garbage';

/** A stand-in for GET /api/account/identity/users/{userid}/organizations, with a call counter and faults. */
class OrganizationsUpstream {
  readonly calls = new Map<string, number>();
  readonly orgs = new Map<string, unknown[]>();
  fault: Fault = null;
  private server!: http.Server;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const m = /^\/api\/account\/identity\/users\/([^/?]+)\/organizations(\?|$)/.exec(req.url ?? '');
      if (!m) {
        res.statusCode = 404;
        res.end();
        return;
      }
      const id = decodeURIComponent(m[1]);
      this.calls.set(id, (this.calls.get(id) ?? 0) + 1);
      if (this.fault === 'hang') return; // never answers
      res.setHeader('content-type', 'application/json');
      if (this.fault === 'status500') {
        res.statusCode = 500;
        res.end('{"error":"boom: connect ECONNREFUSED 10.0.0.1:5432"}');
        return;
      }
      if (this.fault === 'garbage') {
        res.end('{"organizations": "nope"}');
        return;
      }
      res.end(JSON.stringify({ id, email_id: `${id}@example.com`, organizations: this.orgs.get(id) ?? [] }));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  count(userId: string): number {
    return this.calls.get(userId) ?? 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/** An organization in the §2.9.9 wire shape. */
function org(
  id: string,
  roles: { name: string; permissions: string[] | null }[],
  status = 'active',
  isActive = true,
) {
  return {
    id,
    Name: `org_${id.slice(-1)}`,
    WhiteListDomains: null,
    AllowProfilesOutsideOrganization: false,
    domain: '',
    WorkspaceName: '',
    roles: roles.map((r, i) => ({ role_id: `role_${i}`, role_name: r.name, permissions: r.permissions })),
    is_active: isActive,
    status,
  };
}

/** The organizations call issue 5 adds to EzidService, with a deadline like the real pipeline. */
function organizationsClient(upstream: OrganizationsUpstream) {
  return {
    users: {
      organizations: async (userId: string): Promise<unknown> => {
        const res = await fetch(
          `${upstream.url}/api/account/identity/users/${encodeURIComponent(userId)}/organizations?client_id=cli_authz_test`,
          { signal: AbortSignal.timeout(500), redirect: 'manual' },
        );
        if (!res.ok) throw new Error(`organizations: HTTP ${res.status}`);
        return res.json();
      },
    },
  };
}

let emu: EzidEmulator;
let upstream: OrganizationsUpstream;
let nextUser = 0;

/** A user no app has cached yet, with these organizations upstream; returns its id and a token. */
function freshUser(orgs: unknown[]): { id: string; token: string } {
  const id = `7777aaaabbbbccccdddd${(nextUser++).toString(16).padStart(4, '0')}`;
  emu.addUser({ id, email: `fresh${nextUser}@example.com` });
  upstream.orgs.set(id, orgs);
  return { id, token: emu.mintAccessToken(id) };
}

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
  upstream = new OrganizationsUpstream();
  await upstream.start();
});

afterAll(async () => {
  await upstream?.stop();
  await emu?.stop();
});

describe.each(PLATFORMS)("profile.source 'api' on %s", (platform) => {
  let app: AuthzApp;
  let shortTtl: AuthzApp;
  const demoId = EMULATOR_IDS.demoUser;
  const aliceId = EMULATOR_IDS.alice;
  const bobId = EMULATOR_IDS.bob;

  const start = (cacheTtlSec: number) =>
    startAuthzApp(
      platform,
      emu,
      [matrixController('p/:tenantId'), matrixController('x')],
      { profile: { source: 'api', cacheTtlSec }, tenant: { singleTenantFallback: true } },
      (b) => b.overrideProvider(EzidService).useValue(organizationsClient(upstream)),
    );

  beforeAll(async () => {
    app = await start(60);
    shortTtl = await start(1);
  });

  afterAll(async () => {
    await app?.close();
    await shortTtl?.close();
  });

  beforeEach(() => {
    upstream.calls.clear();
    upstream.fault = null;
    // The API's view differs from the token's on purpose: demo is Member in T1 and Admin in T2 here,
    // while the token (default seed) says Admin in T1 and Member in T2.
    upstream.orgs.set(demoId, [
      org(T1, [{ name: 'Member', permissions: ['Team View'] }]),
      org(T2, [{ name: 'Admin', permissions: ['Team View', 'Team Manage', 'Billing Manage'] }]),
    ]);
    upstream.orgs.set(aliceId, [org(T1, [{ name: 'Admin', permissions: null }])]);
    upstream.orgs.set(bobId, [org(T2, [{ name: 'Admin', permissions: [] }], 'inactive', false)]);
  });

  it('roles come from the API, not from the token', async () => {
    const token = emu.mintAccessToken('demo@example.com');
    expect(await outcomeOf(await app.get(`/p/${T2}/role-any`, bearer(token)))).toBe(200);
    expect(await outcomeOf(await app.get(`/p/${T1}/role-any`, bearer(token)))).toBe('403 insufficient_role');
    expect(await outcomeOf(await app.get(`/p/${T2}/perm-any`, bearer(token)))).toBe(200);
    expect(await outcomeOf(await app.get(`/p/${T1}/perm-all`, bearer(token)))).toBe(
      '403 insufficient_permission',
    );
  });

  it('one upstream call for N sequential requests by one user within the TTL', async () => {
    const u = freshUser([org(T1, [{ name: 'Admin', permissions: null }])]);
    for (let i = 0; i < 25; i++) {
      expect(await outcomeOf(await app.get(`/p/${T1}/role-any`, bearer(u.token)))).toBe(200);
    }
    expect(upstream.count(u.id)).toBe(1);
    // Single-tenant fallback works on the API profile too (one organization).
    const res = await app.get('/x/role-any', bearer(u.token));
    expect(await res.json()).toEqual({ tenant: T1 });
    expect(upstream.count(u.id)).toBe(1);
  });

  it('one upstream call for N concurrent requests by one user (one in-flight fetch per user)', async () => {
    const u = freshUser([org(T2, [{ name: 'Admin', permissions: [] }])]);
    const results = await Promise.all(
      Array.from({ length: 30 }, () => app.get(`/p/${T2}/role-any`, bearer(u.token)).then(outcomeOf)),
    );
    expect(new Set(results)).toEqual(new Set([200]));
    expect(upstream.count(u.id)).toBe(1);
  });

  it('the cache is per user, and expires after cacheTtlSec', async () => {
    const demo = emu.mintAccessToken('demo@example.com');
    const alice = emu.mintAccessToken('alice@example.com');
    expect(await outcomeOf(await shortTtl.get(`/p/${T2}/role-any`, bearer(demo)))).toBe(200);
    expect(await outcomeOf(await shortTtl.get(`/p/${T1}/role-any`, bearer(alice)))).toBe(200);
    expect(await outcomeOf(await shortTtl.get(`/p/${T2}/role-any`, bearer(demo)))).toBe(200);
    expect([upstream.count(demoId), upstream.count(aliceId)]).toEqual([1, 1]);
    // A membership change upstream is seen once the TTL has passed.
    upstream.orgs.set(demoId, [org(T1, [{ name: 'Member', permissions: ['Team View'] }])]);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await outcomeOf(await shortTtl.get(`/p/${T2}/role-any`, bearer(demo)))).toBe(
      '403 tenant_forbidden',
    );
    expect(upstream.count(demoId)).toBe(2);
  });

  it('membership status: "active" with is_active is verified; anything else grants nothing', async () => {
    const bob = emu.mintAccessToken('bob@example.com'); // token: Admin in T2; API: inactive
    expect(await outcomeOf(await app.get(`/p/${T2}/member`, bearer(bob)))).toBe('403 tenant_forbidden');
    expect(await outcomeOf(await app.get(`/p/${T2}/role-any`, bearer(bob)))).toBe('403 tenant_forbidden');
  });

  it('routes that neither ask for a role nor name a tenant make no upstream call', async () => {
    const outsider = emu.mintAccessToken('outsider@example.com');
    expect(await outcomeOf(await app.get('/x/member', bearer(outsider)))).toBe(200);
    expect(upstream.count(EMULATOR_IDS.outsider)).toBe(0);
  });

  describe('an unreachable profile source gives 503, never 401, 403 or 500', () => {
    it.each([
      ['HTTP 500', 'status500'],
      ['no answer (deadline)', 'hang'],
      ['a body without organizations', 'garbage'],
    ] as const)('%s', async (_label, fault) => {
      upstream.fault = fault;
      const { id: userId, token } = freshUser([]);
      const res = await app.get(`/p/${T1}/role-any`, bearer(token));
      const text = await res.text();
      expect(res.status).toBe(503);
      expect(JSON.parse(text)).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'idp_unavailable',
        message: expect.any(String),
      });
      expect(res.headers.get('retry-after')).toBe('5');
      expect(text).not.toMatch(/ECONNREFUSED|boom|HTTP 500|abort|timeout/i);
      // Failures are not cached: once the source is back, the same user gets an answer.
      upstream.fault = null;
      upstream.orgs.set(userId, [org(T1, [{ name: 'Admin', permissions: [] }])]);
      expect(await outcomeOf(await app.get(`/p/${T1}/role-any`, bearer(token)))).toBe(200);
    });

    it('a source that is down entirely', async () => {
      const down = await startAuthzApp(
        platform,
        emu,
        [matrixController('p/:tenantId')],
        { profile: { source: 'api' } },
        (b) =>
          b.overrideProvider(EzidService).useValue({
            users: {
              organizations: () => fetch('http://127.0.0.1:1/api/account/identity/users/x/organizations'),
            },
          }),
      );
      try {
        const res = await down.get(`/p/${T1}/member`, bearer(emu.mintAccessToken('demo@example.com')));
        expect(res.status).toBe(503);
        expect(((await res.json()) as { code: string }).code).toBe('idp_unavailable');
      } finally {
        await down.close();
      }
    });
  });
});

// The same contract against the emulator's real user-organizations endpoint, through EzidService:
// the emulator's per-endpoint request counter proves the cache, and its fault injection the 503.
describe.each(PLATFORMS)("profile.source 'api' against the emulator on %s", (platform) => {
  let emulator: EzidEmulator;
  let app: AuthzApp;
  // Tokens without a `tenants` claim: only the API can say which tenants the user is in.
  const tokenFor = (email: string) => emulator.mintAccessToken(email, { claims: { tenants: undefined } });

  beforeAll(async () => {
    emulator = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
    app = await startAuthzApp(platform, emulator, [matrixController('e/:tenantId')], {
      profile: { source: 'api', cacheTtlSec: 60 },
    });
  });

  afterAll(async () => {
    await app?.close();
    await emulator?.stop();
  });

  it('one upstream call for N requests by one user within the TTL; roles from the API decide', async () => {
    const demo = tokenFor('demo@example.com');
    emulator.resetCounters();
    for (let i = 0; i < 10; i++)
      expect(await outcomeOf(await app.get(`/e/${T1}/role-any`, bearer(demo)))).toBe(200);
    // demo is only a Member in T2 according to the API: the Admin rule fails there.
    expect(await outcomeOf(await app.get(`/e/${T2}/role-any`, bearer(demo)))).toBe('403 insufficient_role');
    expect(emulator.requestCount('users.getOrganizations')).toBe(1);
    // Another user is another cache entry.
    expect(await outcomeOf(await app.get(`/e/${T1}/role-any`, bearer(tokenFor('alice@example.com'))))).toBe(
      '403 insufficient_role',
    );
    expect(emulator.requestCount('users.getOrganizations')).toBe(2);
  });

  it('EZiD failing to answer gives 503 idp_unavailable with Retry-After, and the failure is not cached', async () => {
    const bob = tokenFor('bob@example.com');
    emulator.fault('users.getOrganizations', { status: 500 });
    const res = await app.get(`/e/${T2}/role-any`, bearer(bob));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe('idp_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    emulator.clearFaults();
    expect(await outcomeOf(await app.get(`/e/${T2}/role-any`, bearer(bob)))).toBe(200);
  });
});
