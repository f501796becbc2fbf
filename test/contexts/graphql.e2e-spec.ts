// GraphQL queries, mutations and field resolvers on real servers: Apollo on Express, Mercurius on Fastify,
// real RS256 tokens from the emulator, the module's guards app-wide.
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { AuthzApp, bearer, PLATFORMS } from '../authz/authz-test-app';
import { DRIVER_OF, GqlResult, gql, startGraphqlApp } from './graphql-test-app';

const T1 = EMULATOR_IDS.tenant1; // demo: Admin, alice: Member
const T2 = EMULATOR_IDS.tenant2; // demo: Member, bob: Admin

let emu: EzidEmulator;

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
});

afterAll(async () => {
  await emu?.stop();
});

/** The one error of a refused operation, checked for the contract: module code and status, no stack, no library text. */
function refusal(r: GqlResult, driver: string): { code: unknown; statusCode: unknown; path: unknown } {
  expect(r.errors).toHaveLength(1);
  const [e] = r.errors!;
  const { stacktrace, ...ext } = e.extensions ?? {};
  expect(Object.keys(ext).sort()).toEqual(
    ext.statusCode === 503 ? ['code', 'retryAfterSec', 'statusCode'] : ['code', 'statusCode'],
  );
  // Apollo (includeStacktraceInErrorResponses on, as with NODE_ENV unset): one line, no frames.
  if (driver === 'apollo') expect(stacktrace).toEqual([`EzidGraphQLError: ${e.message}`]);
  else expect(stacktrace).toBeUndefined();
  expect(r.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d|\.js:\d/);
  expect(r.text).not.toMatch(/UNAUTHENTICATED|FORBIDDEN|INTERNAL_SERVER_ERROR|originalError/);
  expect(r.text).not.toMatch(/jwt|jsonwebtoken|jwks/i);
  return { code: ext.code, statusCode: ext.statusCode, path: e.path };
}

describe.each(PLATFORMS)('GraphQL on %s', (platform) => {
  const driver = DRIVER_OF[platform];
  let app: AuthzApp;
  const demo = () => bearer(emu.mintAccessToken('demo@example.com'));
  const alice = () => bearer(emu.mintAccessToken('alice@example.com'));
  const outsider = () => bearer(emu.mintAccessToken('outsider@example.com'));

  beforeAll(async () => {
    app = await startGraphqlApp(platform, emu);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('@Public() resolver: no token needed', async () => {
    const r = await gql(app, '{ ping }');
    expect(r.data).toEqual({ ping: 'pong' });
    expect(r.errors).toBeUndefined();
  });

  it('the app-wide guard applies to queries: no token is token_missing (401), a valid one gives @CurrentUser()', async () => {
    const r = await gql(app, '{ me }');
    expect(r.data).toBeNull();
    expect(refusal(r, driver)).toEqual({ code: 'token_missing', statusCode: 401, path: ['me'] });
    // Mercurius answers a data-less response with the error's status; @nestjs/apollo resets it to 200.
    expect(r.status).toBe(driver === 'mercurius' ? 401 : 200);
    expect((await gql(app, '{ me }', demo())).data).toEqual({ me: 'demo@example.com' });
  });

  it('bad tokens: malformed, expired, another issuer’s key', async () => {
    const expired = emu.mintAccessToken('demo@example.com', {
      issuedAt: Math.floor(Date.now() / 1000) - 7200,
      expiresInSec: 3600,
    });
    expect(refusal(await gql(app, '{ me }', { authorization: 'Bearer x.y' }), driver).code).toBe(
      'token_malformed',
    );
    expect(refusal(await gql(app, '{ me }', bearer(expired)), driver).code).toBe('token_expired');
    const other = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'x' });
    try {
      const foreign = other.mintAccessToken('demo@example.com');
      expect(refusal(await gql(app, '{ me }', bearer(foreign)), driver).code).toBe('token_invalid');
    } finally {
      await other.stop();
    }
  });

  it('@OptionalAuth(): anonymous without a token, the user with one, 401 with a bad one (never anonymous)', async () => {
    expect((await gql(app, '{ whoami }')).data).toEqual({ whoami: null });
    expect((await gql(app, '{ whoami }', demo())).data).toEqual({ whoami: 'demo@example.com' });
    const r = await gql(app, '{ whoami }', { authorization: 'Bearer not-a-token' });
    expect(r.data).toEqual({ whoami: null });
    expect(refusal(r, driver)).toEqual({ code: 'token_malformed', statusCode: 401, path: ['whoami'] });
  });

  it('query-string tokens are refused as over HTTP: alone no token, next to a header 400 invalid_request', async () => {
    const token = emu.mintAccessToken('demo@example.com');
    const alone = await gql(app, '{ me }', {}, {}, `?access_token=${token}`);
    expect(refusal(alone, driver).code).toBe('token_missing');
    const both = await gql(app, '{ me }', bearer(token), {}, `?access_token=${token}`);
    expect(refusal(both, driver)).toEqual({ code: 'invalid_request', statusCode: 400, path: ['me'] });
    const rewritten = await gql(app, '{ whoami }', {}, {}, `?%61ccess_token=${token}`);
    expect(rewritten.data).toEqual({ whoami: null });
  });

  it('@Roles() with the tenant from a resolver argument: Admin of T1 passes, Member or stranger is refused', async () => {
    const q = 'query ($t: ID!) { adminOrg(tenantId: $t) { id name } }';
    expect((await gql(app, q, demo(), { t: T1 })).data).toEqual({ adminOrg: { id: T1, name: 'org1' } });
    const member = await gql(app, q, demo(), { t: T2 });
    expect(member.data).toEqual({ adminOrg: null });
    expect(refusal(member, driver)).toEqual({
      code: 'insufficient_role',
      statusCode: 403,
      path: ['adminOrg'],
    });
    expect(refusal(await gql(app, q, alice(), { t: T1 }), driver).code).toBe('insufficient_role');
    expect(refusal(await gql(app, q, outsider(), { t: T1 }), driver).code).toBe('tenant_forbidden');
    expect(refusal(await gql(app, q, {}, { t: T1 }), driver).code).toBe('token_missing');
  });

  it('a tenant argument without a rule is a membership check (as a route param)', async () => {
    const q = 'query ($t: ID!) { memberOrg(tenantId: $t) { id } }';
    expect((await gql(app, q, demo(), { t: T2 })).data).toEqual({ memberOrg: { id: T2 } });
    expect(refusal(await gql(app, q, alice(), { t: T2 }), driver).code).toBe('tenant_forbidden');
    for (const bad of ['', 'x'.repeat(300), 'a\nb']) {
      expect(refusal(await gql(app, q, alice(), { t: bad }), driver).code).toBe('tenant_forbidden');
    }
  });

  it('a tenant argument disagreeing with the x-tenant-id header is refused: 403 tenant_forbidden', async () => {
    const q = 'query ($t: ID!) { memberOrg(tenantId: $t) { id } }';
    const forged = await gql(app, q, { ...demo(), 'x-tenant-id': T2 }, { t: T1 });
    expect(refusal(forged, driver)).toEqual({
      code: 'tenant_forbidden',
      statusCode: 403,
      path: ['memberOrg'],
    });
    const adminForged = 'query ($t: ID!) { adminOrg(tenantId: $t) { id } }';
    // bob is Admin of T2 only: naming T1 in the argument and T2 in the header gets nothing
    const bob = bearer(emu.mintAccessToken('bob@example.com'));
    expect(refusal(await gql(app, adminForged, { ...bob, 'x-tenant-id': T2 }, { t: T1 }), driver).code).toBe(
      'tenant_forbidden',
    );
    expect((await gql(app, q, { ...demo(), 'x-tenant-id': T1 }, { t: T1 })).data).toEqual({
      memberOrg: { id: T1 },
    });
  });

  it('@Roles() with the tenant from the header; no tenant at all is tenant_required (no single-tenant guess)', async () => {
    const q = '{ currentOrg { id } }';
    expect((await gql(app, q, { ...alice(), 'x-tenant-id': T1 })).data).toEqual({
      currentOrg: { id: T1 },
    });
    expect(refusal(await gql(app, q, { ...alice(), 'x-tenant-id': T2 }), driver).code).toBe(
      'tenant_forbidden',
    );
    expect(refusal(await gql(app, q, alice()), driver).code).toBe('tenant_required');
  });

  it('mutations: @Permissions() in the tenant of the argument', async () => {
    const m = 'mutation ($t: ID!) { refund(tenantId: $t) }';
    expect((await gql(app, m, demo(), { t: T1 })).data).toEqual({ refund: 'refunded in org1' });
    const denied = await gql(app, m, alice(), { t: T1 });
    expect(denied.data).toBeNull();
    expect(refusal(denied, driver)).toEqual({
      code: 'insufficient_permission',
      statusCode: 403,
      path: ['refund'],
    });
    if (driver === 'mercurius') expect(denied.status).toBe(403);
  });

  it('field resolvers: @Roles() on a field is checked in the header’s tenant; a member gets null and an error for it', async () => {
    const q = 'query ($t: ID!) { memberOrg(tenantId: $t) { id billing } }';
    expect((await gql(app, q, { ...demo(), 'x-tenant-id': T1 }, { t: T1 })).data).toEqual({
      memberOrg: { id: T1, billing: 'billing of org1 (checked in org1)' },
    });
    const member = await gql(app, q, { ...demo(), 'x-tenant-id': T2 }, { t: T2 });
    expect(member.data).toEqual({ memberOrg: { id: T2, billing: null } });
    expect(refusal(member, driver)).toEqual({
      code: 'insufficient_role',
      statusCode: 403,
      path: ['memberOrg', 'billing'],
    });
    expect(member.status).toBe(200);
    // The parent's argument is not the field's: without the header the field names no tenant.
    const argOnly = await gql(app, q, demo(), { t: T1 });
    expect(argOnly.data).toEqual({ memberOrg: { id: T1, billing: null } });
    expect(refusal(argOnly, driver).code).toBe('tenant_required');
  });

  it('fields of one operation never see each other’s tenant (root fields resolve concurrently)', async () => {
    // demo is Admin of T1 and Member of T2: adminOrg must run in T1 even while memberOrg authorizes T2.
    const q = '{ a: adminOrg(tenantId: "' + T1 + '") { id } b: memberOrg(tenantId: "' + T2 + '") { id } }';
    for (let i = 0; i < 5; i++) {
      const r = await gql(app, q, demo());
      expect(r.errors).toBeUndefined();
      expect(r.data).toEqual({ a: { id: T1 }, b: { id: T2 } });
    }
    const swapped =
      '{ b: memberOrg(tenantId: "' + T2 + '") { id } a: adminOrg(tenantId: "' + T1 + '") { id } }';
    expect((await gql(app, swapped, demo())).data).toEqual({ b: { id: T2 }, a: { id: T1 } });
  });
});

describe.each(PLATFORMS)('GraphQL on %s: identity provider unreachable', (platform) => {
  it('503 idp_unavailable with retryAfterSec, never 401', async () => {
    emu.fault('jwks', { status: 500 });
    const app = await startGraphqlApp(platform, emu);
    try {
      const r = await gql(app, '{ me }', bearer(emu.mintAccessToken('demo@example.com')));
      const e = refusal(r, DRIVER_OF[platform]);
      expect(e).toEqual({ code: 'idp_unavailable', statusCode: 503, path: ['me'] });
      expect(r.errors![0].extensions!.retryAfterSec).toBeGreaterThanOrEqual(1);
      expect(r.status).toBe(DRIVER_OF[platform] === 'mercurius' ? 503 : 200);
    } finally {
      await app.close();
      emu.fault('jwks', null);
    }
  });
});
