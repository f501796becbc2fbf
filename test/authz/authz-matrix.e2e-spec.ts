// The authorization matrix (issue 7, checklist G1-G6) against the emulator, over real HTTP, with the
// real EzidAuthGuard + EzidRolesGuard registered globally, on Express and Fastify.
import { EzidEmulator, EMULATOR_IDS } from '../../src/testing';
import {
  AuthzApp,
  CHECKS,
  Check,
  PLATFORMS,
  bearer,
  matrixController,
  outcomeOf,
  startAuthzApp,
} from './authz-test-app';

const T1 = EMULATOR_IDS.tenant1;
const T2 = EMULATOR_IDS.tenant2;
const T3 = '664e2686a1b2c3d4e5f60009';

type Row = Record<Check, string | number>;
const ALL = (outcome: string | number): Row => Object.fromEntries(CHECKS.map((c) => [c, outcome])) as Row;

/** The user is Admin + Member in T1 (Team View, Team Manage, Billing Manage) and Member in T2 (Team View). */
const OWN: Row = {
  'role-any': 200,
  'role-all': 200,
  'role-prohibited': '403 insufficient_role', // holds Admin, which is prohibited
  'perm-all': 200,
  'perm-any': 200,
  'perm-prohibited': '403 insufficient_permission', // holds Team Manage, which is prohibited
  member: 200,
};
const OTHER: Row = {
  'role-any': '403 insufficient_role', // Admin is held in T1, never in T2
  'role-all': '403 insufficient_role',
  'role-prohibited': 200,
  'perm-all': '403 insufficient_permission', // Team Manage is held in T1 only
  'perm-any': '403 insufficient_permission', // Billing Manage is held in T1 only
  'perm-prohibited': 200,
  member: 200,
};
const FORBIDDEN = ALL('403 tenant_forbidden');

/** One tenant id, written the way each carrier carries it (`undefined`: not expressible by that carrier). */
interface Id {
  label: string;
  kind: 'own' | 'other' | 'unknown' | 'malformed' | 'prototype';
  param?: string; // a raw (already URL-encoded) path segment
  header?: string;
  query?: string; // a raw (already URL-encoded) query value
}

const IDS: Id[] = [
  { label: 'own tenant', kind: 'own', param: T1, header: T1, query: T1 },
  { label: "another of the user's tenants", kind: 'other', param: T2, header: T2, query: T2 },
  { label: 'unknown tenant', kind: 'unknown', param: T3, header: T3, query: T3 },
  {
    label: 'unknown, 128 characters (longest well-formed)',
    kind: 'unknown',
    header: 'b'.repeat(128),
    query: 'b'.repeat(128),
  },
  { label: 'empty', kind: 'malformed', header: '', query: '' },
  {
    label: 'too long',
    kind: 'malformed',
    param: 'a'.repeat(129),
    header: 'a'.repeat(129),
    query: 'a'.repeat(129),
  },
  { label: 'NUL / tab', kind: 'malformed', param: 'a%00b', header: 'a\tb', query: 'a%00b' },
  { label: 'space', kind: 'malformed', param: 'a%20b', header: `${T1} x`, query: 'a%20b' },
  {
    label: 'list of two',
    kind: 'malformed',
    param: `${T1}%2C${T2}`,
    header: `${T1}, ${T2}`,
    query: `${T1}%2C${T2}`,
  },
  { label: 'non-ASCII', kind: 'malformed', param: '%C3%A9t%C3%A9', query: '%EF%BD%94' },
  { label: '__proto__', kind: 'prototype', param: '__proto__', header: '__proto__', query: '__proto__' },
  {
    label: 'constructor',
    kind: 'prototype',
    param: 'constructor',
    header: 'constructor',
    query: 'constructor',
  },
  { label: 'toString', kind: 'prototype', param: 'toString', header: 'toString', query: 'toString' },
  {
    label: 'hasOwnProperty',
    kind: 'prototype',
    param: 'hasOwnProperty',
    header: 'hasOwnProperty',
    query: 'hasOwnProperty',
  },
];

const EXPECTED: Record<Id['kind'], Row> = {
  own: OWN,
  other: OTHER,
  unknown: FORBIDDEN,
  malformed: FORBIDDEN,
  prototype: FORBIDDEN,
};

type Carrier = 'param' | 'header' | 'resolver';

function requestFor(
  carrier: Carrier,
  id: Id,
  check: Check,
): { path: string; headers: Record<string, string> } | undefined {
  if (carrier === 'param')
    return id.param === undefined ? undefined : { path: `/p/${id.param}/${check}`, headers: {} };
  if (carrier === 'header') {
    return id.header === undefined
      ? undefined
      : { path: `/x/${check}`, headers: { 'x-tenant-id': id.header } };
  }
  return id.query === undefined ? undefined : { path: `/x/${check}?tenant=${id.query}`, headers: {} };
}

/** The custom resolver of the matrix apps: the `tenant` query parameter, as given (arrays included). */
const resolveFromQuery = (request: unknown): string | undefined =>
  (request as { query?: Record<string, string | undefined> }).query?.tenant;

let emu: EzidEmulator;
let demo: string; // two tenants
let alice: string; // one tenant (T1, Admin + Member)
let outsider: string; // no tenant

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
  emu.setMembership('demo@example.com', T1, ['Admin', 'Member']);
  emu.setMembership('alice@example.com', T1, ['Admin', 'Member']);
  demo = emu.mintAccessToken('demo@example.com');
  alice = emu.mintAccessToken('alice@example.com');
  outsider = emu.mintAccessToken('outsider@example.com');
});

afterAll(async () => {
  await emu?.stop();
});

describe.each(PLATFORMS)('authorization matrix on %s', (platform) => {
  let app: AuthzApp;

  beforeAll(async () => {
    app = await startAuthzApp(platform, emu, [matrixController('p/:tenantId'), matrixController('x')], {
      tenant: { resolve: resolveFromQuery, singleTenantFallback: true },
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  async function row(
    token: string,
    build: (check: Check) => { path: string; headers: Record<string, string> },
  ) {
    const out = {} as Row;
    for (const check of CHECKS) {
      const { path, headers } = build(check);
      out[check] = await outcomeOf(await app.get(path, { ...bearer(token), ...headers }));
    }
    return out;
  }

  const cases = (['param', 'header', 'resolver'] as Carrier[]).flatMap((carrier) =>
    IDS.filter((id) => requestFor(carrier, id, 'member') !== undefined).map(
      (id) => [carrier, id.label, id] as const,
    ),
  );

  it.each(cases)('carrier %s, tenant id %s', async (carrier, _label, id) => {
    const actual = await row(demo, (check) => requestFor(carrier, id, check)!);
    // Fastify's router refuses path params over 100 characters itself (414) before any guard runs.
    const routerLimit = platform === 'fastify' && carrier === 'param' && id.param!.length > 100;
    expect(actual).toEqual(routerLimit ? ALL('414 FST_ERR_MAX_PARAM_LENGTH') : EXPECTED[id.kind]);
  });

  it('every cross-tenant escalation attempt (a right held in T1, asked in T2) is 403, by every carrier', async () => {
    const escalations = CHECKS.filter((c) => OWN[c] === 200 && OTHER[c] !== 200);
    expect(escalations).toEqual(['role-any', 'role-all', 'perm-all', 'perm-any']);
    const other = IDS.find((i) => i.kind === 'other')!;
    for (const carrier of ['param', 'header', 'resolver'] as Carrier[]) {
      for (const check of escalations) {
        const { path, headers } = requestFor(carrier, other, check)!;
        const res = await app.get(path, { ...bearer(demo), ...headers });
        expect([carrier, check, res.status]).toEqual([carrier, check, 403]);
        await res.body?.cancel();
      }
    }
  });

  describe('single-tenant fallback (no carrier, tenant.singleTenantFallback: true)', () => {
    it('a user with exactly one tenant is checked in that tenant', async () => {
      expect(await row(alice, (check) => ({ path: `/x/${check}`, headers: {} }))).toEqual(OWN);
      const res = await app.get('/x/role-any', bearer(alice));
      expect(await res.json()).toEqual({ tenant: T1 });
    });

    it('a user with several tenants gets tenant_required (membership-only routes pass, with no tenant)', async () => {
      expect(await row(demo, (check) => ({ path: `/x/${check}`, headers: {} }))).toEqual({
        ...ALL('403 tenant_required'),
        member: 200,
      });
      const res = await app.get('/x/member', bearer(demo));
      expect(await res.json()).toEqual({
        tenant: null,
        email: 'demo@example.com',
        user: EMULATOR_IDS.demoUser,
      });
    });

    it('a user with no tenant gets tenant_required', async () => {
      expect(await row(outsider, (check) => ({ path: `/x/${check}`, headers: {} }))).toEqual({
        ...ALL('403 tenant_required'),
        member: 200,
      });
    });

    it('never applies when the request names a tenant (param, header or resolver)', async () => {
      for (const carrier of ['param', 'header', 'resolver'] as Carrier[]) {
        const other = IDS.find((i) => i.kind === 'other')!;
        expect(await row(alice, (check) => requestFor(carrier, other, check)!)).toEqual(FORBIDDEN);
      }
    });

    it('an unverified only tenant grants nothing', async () => {
      emu.setMembership('alice@example.com', T1, ['Admin', 'Member'], 'Pending');
      try {
        const pending = emu.mintAccessToken('alice@example.com');
        expect(await row(pending, (check) => ({ path: `/x/${check}`, headers: {} }))).toEqual({
          ...FORBIDDEN,
          member: 200, // nothing asked, nothing named
        });
        expect(await row(pending, (check) => ({ path: `/p/${T1}/${check}`, headers: {} }))).toEqual(
          FORBIDDEN,
        );
      } finally {
        emu.setMembership('alice@example.com', T1, ['Admin', 'Member']);
      }
    });
  });

  describe('carriers together', () => {
    const cases: [string, string, Record<string, string>, string | number][] = [
      ['header A, path B', `/p/${T2}/member`, { 'x-tenant-id': T1 }, '403 tenant_forbidden'],
      ['header B, path A', `/p/${T1}/role-any`, { 'x-tenant-id': T2 }, '403 tenant_forbidden'],
      ['header A, resolver B', `/x/role-any?tenant=${T2}`, { 'x-tenant-id': T1 }, '403 tenant_forbidden'],
      ['path A, resolver B', `/p/${T1}/role-any?tenant=${T2}`, {}, '403 tenant_forbidden'],
      ['path A, malformed header', `/p/${T1}/role-any`, { 'x-tenant-id': '' }, '403 tenant_forbidden'],
      ['resolver: repeated query', `/x/role-any?tenant=${T1}&tenant=${T1}`, {}, '403 tenant_forbidden'],
      ['all three agree', `/p/${T1}/role-any?tenant=${T1}`, { 'x-tenant-id': T1 }, 200],
      ['path and header agree', `/p/${T1}/perm-all`, { 'x-tenant-id': T1 }, 200],
    ];
    it.each(cases)('%s', async (_label, path, headers, expected) => {
      expect(await outcomeOf(await app.get(path, { ...bearer(demo), ...headers }))).toBe(expected);
    });
  });

  describe('token claim shapes (G4, G5)', () => {
    const mintWith = (roles: unknown[], status = 'Verified') =>
      emu.mintAccessToken('demo@example.com', {
        claims: { tenants: [{ tenant_id: T1, tenant_name: 'org1', roles, status }] },
      });

    it.each([
      ['null', null],
      ['{}', {}],
      ['"Team View"', 'Team View'],
      ['[null]', [null]],
      ['[1]', [1]],
      ['["*"]', ['*']],
      ['absent', undefined],
    ])('permissions %s: no permissions (403), never a 500', async (_label, permissions) => {
      const token = mintWith([{ role_id: 'r1', role_name: 'Admin', permissions }]);
      expect(await outcomeOf(await app.get(`/p/${T1}/perm-all`, bearer(token)))).toBe(
        '403 insufficient_permission',
      );
      expect(await outcomeOf(await app.get(`/p/${T1}/role-any`, bearer(token)))).toBe(200);
    });

    it.each([
      ['admın', 'dotless i'],
      ['ADMİN', 'dotted capital I'],
      ['ａｄｍｉｎ', 'fullwidth'],
      ['admin', 'lower case'],
      ['ADMIN', 'upper case'],
      ['Admin ', 'trailing space'],
      ['\u212Admin', 'Kelvin sign'],
    ])('role %j (%s) is not Admin', async (roleName) => {
      const token = mintWith([{ role_id: 'r1', role_name: roleName, permissions: [] }]);
      expect(await outcomeOf(await app.get(`/p/${T1}/role-any`, bearer(token)))).toBe(
        '403 insufficient_role',
      );
    });

    it.each([
      ['status "verified"', 'verified'],
      ['status "VERIFIED"', 'VERIFIED'],
      ['status "Pending"', 'Pending'],
      ['status "active"', 'active'],
    ])('%s grants nothing', async (_label, status) => {
      const token = mintWith([{ role_id: 'r1', role_name: 'Admin', permissions: ['Team View'] }], status);
      expect(await outcomeOf(await app.get(`/p/${T1}/member`, bearer(token)))).toBe('403 tenant_forbidden');
    });

    it('malformed tenants claims grant nothing and never 500', async () => {
      for (const tenants of [
        null,
        'org1',
        {},
        [null],
        [{ tenant_id: 5 }],
        [{ tenant_id: T1, roles: 'Admin' }],
      ]) {
        const token = emu.mintAccessToken('demo@example.com', { claims: { tenants } });
        const status = (await app.get(`/p/${T1}/role-any`, bearer(token))).status;
        expect([JSON.stringify(tenants), status]).toEqual([
          JSON.stringify(tenants),
          status === 401 ? 401 : 403,
        ]);
      }
    });
  });

  describe('without a token', () => {
    it('is 401 before any authorization (the auth guard runs first)', async () => {
      const res = await app.get(`/p/${T1}/role-any`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('token_missing');
    });
  });
});
