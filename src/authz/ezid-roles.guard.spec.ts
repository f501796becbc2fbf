import { Reflector } from '@nestjs/core';
import {
  FakeRequest,
  T1,
  T2,
  T3,
  contextFor,
  demoUser,
  hookRegistry,
  role,
  tenant,
} from '../../test/authz/unit-helpers';
import { EzidHttpException } from '../common/ezid-http.exception';
import { EzidGraphQLError } from '../common/ezid-graphql.error';
import { Permissions } from '../decorators/permissions.decorator';
import { Public } from '../decorators/public.decorator';
import { Roles } from '../decorators/roles.decorator';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import type { EzidTenant, EzidUser } from '../interfaces/ezid-user.interface';
import { setEzidUser } from '../common/ezid-user-context';
import { getEzidTenant } from './authz-context';
import { EzidAuthorizer } from './ezid-authorizer';
import { EzidProfileSource, EzidProfileStore } from './ezid-profile.source';
import { EzidRolesGuard } from './ezid-roles.guard';

@Roles('Admin')
@Permissions('Team View')
class AdminController {
  inherit() {}
  @Roles('Member') override() {}
  @Roles('Member', { merge: true }) merged() {}
  @Roles() empty() {}
  @Permissions('Billing Manage') perms() {}
  @Public() open() {}
}

class PlainController {
  plain() {}
  @Roles('Admin') admin() {}
  @Roles('Admin', 'Member', { match: 'all' }) both() {}
  @Roles('Member', { prohibited: ['Admin'] }) notAdmin() {}
  @Permissions('Team View', 'Team Manage') allPerms() {}
  @Permissions('Team Manage', 'Billing Manage', { match: 'any' }) anyPerm() {}
  @Permissions('Team View', { prohibited: ['Billing Manage'] }) viewOnly() {}
}

function options(overrides: Partial<Record<'tenant' | 'profile', unknown>> = {}): ResolvedEzidOptions {
  return {
    globalGuard: true,
    tenant: {
      param: 'tenantId',
      header: 'x-tenant-id',
      resolveTimeoutMs: 5000,
      ...(overrides.tenant as object),
    },
    profile: { source: 'token', cacheTtlSec: 60, cacheMaxEntries: 100, ...(overrides.profile as object) },
  } as unknown as ResolvedEzidOptions;
}

function guardWith(opts = options(), source?: EzidProfileSource): EzidRolesGuard {
  const store = new EzidProfileStore(opts, source);
  return new EzidRolesGuard(new Reflector(), new EzidAuthorizer(store), opts, hookRegistry(opts));
}

type Method = keyof AdminController | keyof PlainController;

function ctx(method: Method, request: FakeRequest, type = 'http', response?: Record<string, unknown>) {
  const cls = method in AdminController.prototype ? AdminController : PlainController;
  const handler = (cls.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
  return contextFor(type, request, handler, cls, response);
}

async function outcome(
  guard: EzidRolesGuard,
  method: Method,
  request: FakeRequest,
  type = 'http',
): Promise<number | string> {
  try {
    return (await guard.canActivate(ctx(method, request, type))) ? 200 : 'false';
  } catch (e) {
    if (e instanceof EzidHttpException) {
      const body = e.getResponse() as { code: string };
      return `${e.getStatus()} ${body.code}`;
    }
    if (e instanceof EzidGraphQLError) return `${e.statusCode} ${e.extensions.code}`;
    throw e;
  }
}

const user = demoUser();
const req = (extra: FakeRequest = {}): FakeRequest => ({ user, params: {}, headers: {}, ...extra });

describe('EzidRolesGuard: metadata', () => {
  const guard = guardWith();
  const inT1 = () => req({ params: { tenantId: T1 } });
  const inT2 = () => req({ params: { tenantId: T2 } });

  it('class rules apply to handlers without their own', async () => {
    expect(await outcome(guard, 'inherit', inT1())).toBe(200);
    expect(await outcome(guard, 'inherit', inT2())).toBe('403 insufficient_role');
  });

  it('a handler rule replaces the class rule of the same kind', async () => {
    expect(await outcome(guard, 'override', inT2())).toBe(200); // Member in T2; class Admin not required
    expect(await outcome(guard, 'override', inT1())).toBe('403 insufficient_role'); // Admin only in T1
  });

  it('{ merge: true } enforces the class rule and the handler rule', async () => {
    expect(await outcome(guard, 'merged', inT2())).toBe('403 insufficient_role'); // Member but not Admin
    expect(await outcome(guard, 'merged', inT1())).toBe('403 insufficient_role'); // Admin but not Member
    const both = demoUser([tenant(T1, [role('Admin', ['Team View']), role('Member')])]);
    expect(await outcome(guard, 'merged', { user: both, params: { tenantId: T1 }, headers: {} })).toBe(200);
  });

  it('the class @Permissions() still applies under a handler @Roles() (rules are per kind)', async () => {
    const noPerms = demoUser([tenant(T1, [role('Member', null)])]);
    expect(await outcome(guard, 'override', { user: noPerms, params: { tenantId: T1 }, headers: {} })).toBe(
      '403 insufficient_permission',
    );
  });

  it('@Roles() with no names denies everyone', async () => {
    expect(await outcome(guard, 'empty', inT1())).toBe('403 insufficient_role');
  });

  it('@Public() never switches off a rule or the tenant check (here the class @Roles applies)', async () => {
    expect(await outcome(guard, 'open', req({ params: { tenantId: T3 } }))).toBe('403 tenant_forbidden');
    expect(await outcome(guard, 'open', req({ params: { tenantId: T2 } }))).toBe('403 insufficient_role');
    expect(await outcome(guard, 'open', req({ params: { tenantId: T1 } }))).toBe(200);
    expect(await outcome(guard, 'open', { params: { tenantId: T1 }, headers: {} })).toBe('401 token_missing');
  });

  it('a route without metadata that names no tenant passes', async () => {
    expect(await outcome(guard, 'plain', req())).toBe(200);
  });

  it('match modes any / all / prohibited for roles and permissions', async () => {
    const t1 = () => req({ headers: { 'x-tenant-id': T1 } });
    const t2 = () => req({ headers: { 'x-tenant-id': T2 } });
    expect(await outcome(guard, 'both', t1())).toBe('403 insufficient_role');
    expect(await outcome(guard, 'notAdmin', t1())).toBe('403 insufficient_role');
    expect(await outcome(guard, 'notAdmin', t2())).toBe(200);
    expect(await outcome(guard, 'allPerms', t1())).toBe(200);
    expect(await outcome(guard, 'allPerms', t2())).toBe('403 insufficient_permission');
    expect(await outcome(guard, 'anyPerm', t1())).toBe(200);
    expect(await outcome(guard, 'anyPerm', t2())).toBe('403 insufficient_permission');
    expect(await outcome(guard, 'viewOnly', t2())).toBe(200);
    expect(await outcome(guard, 'viewOnly', t1())).toBe('403 insufficient_permission');
  });
});

describe('EzidRolesGuard: tenant resolution', () => {
  it('param, header, resolver; fallback only when nothing names a tenant', async () => {
    const resolve = jest.fn((r: unknown) => (r as { body?: { tenant?: string } }).body?.tenant);
    const guard = guardWith(options({ tenant: { resolve } }));
    expect(await outcome(guard, 'admin', req({ params: { tenantId: T1 } }))).toBe(200);
    expect(await outcome(guard, 'admin', req({ headers: { 'x-tenant-id': T1 } }))).toBe(200);
    expect(await outcome(guard, 'admin', req({ body: { tenant: T1 } }))).toBe(200);
    expect(await outcome(guard, 'admin', req({ body: { tenant: T2 } }))).toBe('403 insufficient_role');
    expect(resolve).toHaveBeenCalledWith(expect.anything(), user);
    // Two tenants, none named: tenant_required.
    expect(await outcome(guard, 'admin', req())).toBe('403 tenant_required');
    // One tenant, none named: tenant_required by default; that tenant with singleTenantFallback.
    const solo = demoUser([tenant(T1, [role('Admin')])]);
    expect(await outcome(guard, 'admin', { user: solo, params: {}, headers: {}, url: '/a' })).toBe(
      '403 tenant_required',
    );
    const withFallback = guardWith(options({ tenant: { resolve, singleTenantFallback: true } }));
    expect(await outcome(withFallback, 'admin', { user: solo, params: {}, headers: {}, url: '/a' })).toBe(
      200,
    );
    // One tenant, but the request names another: no fallback.
    expect(await outcome(guard, 'admin', { user: solo, params: {}, headers: { 'x-tenant-id': T2 } })).toBe(
      '403 tenant_forbidden',
    );
  });

  it('a resolver result whose `then` getter throws is 403 tenant_forbidden, never a 500', async () => {
    const resolve = () =>
      Object.defineProperty({}, 'then', {
        get() {
          throw new Error('getter');
        },
      });
    const guard = guardWith(options({ tenant: { resolve } }));
    expect(await outcome(guard, 'admin', req())).toBe('403 tenant_forbidden');
    expect(await outcome(guard, 'plain', req())).toBe('403 tenant_forbidden');
  });

  describe('the deadline of an async resolver (fake timers)', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('a promise that never settles is 503 tenant_unavailable with Retry-After after 5 s (the default)', async () => {
      const resolve = () => new Promise<string>(() => undefined);
      const guard = guardWith(options({ tenant: { resolve } }));
      const headers: Record<string, string> = {};
      const response = { setHeader: (n: string, v: string) => (headers[n] = v) };
      const pending = Promise.resolve(guard.canActivate(ctx('admin', req(), 'http', response)));
      let settled: unknown = 'pending';
      pending.then(
        (v) => (settled = v),
        (e: unknown) => (settled = e),
      );
      await jest.advanceTimersByTimeAsync(4999);
      expect(settled).toBe('pending');
      await jest.advanceTimersByTimeAsync(1);
      expect(settled).toBeInstanceOf(EzidHttpException);
      const err = settled as EzidHttpException;
      expect(err.getStatus()).toBe(503);
      expect((err.getResponse() as { code: string }).code).toBe('tenant_unavailable');
      expect(headers['Retry-After']).toBe('5');
    });

    it('a promise settling before the deadline is used, and its timer cleared', async () => {
      const resolve = () => new Promise<string>((ok) => setTimeout(() => ok(T1), 100));
      const guard = guardWith(options({ tenant: { resolve, resolveTimeoutMs: 200 } }));
      const pending = Promise.resolve(guard.canActivate(ctx('admin', req())));
      await jest.advanceTimersByTimeAsync(100);
      await expect(pending).resolves.toBe(true);
      expect(jest.getTimerCount()).toBe(0);
    });
  });

  it('carriers that disagree are 403, even when both are the user’s tenants', async () => {
    const resolve = (r: unknown) => (r as { body?: { tenant?: string } }).body?.tenant;
    const guard = guardWith(options({ tenant: { resolve } }));
    expect(
      await outcome(guard, 'admin', req({ params: { tenantId: T1 }, headers: { 'x-tenant-id': T2 } })),
    ).toBe('403 tenant_forbidden');
    expect(
      await outcome(guard, 'admin', req({ params: { tenantId: T2 }, headers: { 'x-tenant-id': T1 } })),
    ).toBe('403 tenant_forbidden');
    expect(await outcome(guard, 'admin', req({ headers: { 'x-tenant-id': T1 }, body: { tenant: T2 } }))).toBe(
      '403 tenant_forbidden',
    );
    expect(
      await outcome(guard, 'admin', req({ params: { tenantId: T1 }, headers: { 'x-tenant-id': T1 } })),
    ).toBe(200);
  });

  it.each([
    ['empty header', { headers: { 'x-tenant-id': '' } }],
    ['too long', { headers: { 'x-tenant-id': 'a'.repeat(129) } }],
    ['control characters', { params: { tenantId: 'a\u0000b' } }],
    ['CRLF', { headers: { 'x-tenant-id': 'a\r\nb' } }],
    ['repeated header', { headers: { 'x-tenant-id': `${T1}, ${T1}` } }],
    ['array header', { headers: { 'x-tenant-id': [T1] } }],
    ['__proto__', { params: { tenantId: '__proto__' } }],
    ['constructor', { headers: { 'x-tenant-id': 'constructor' } }],
    ['toString', { headers: { 'x-tenant-id': 'toString' } }],
    ['hasOwnProperty', { params: { tenantId: 'hasOwnProperty' } }],
    ['unknown', { params: { tenantId: T3 } }],
  ])('%s is 403 tenant_forbidden, with or without @Roles()', async (_label, extra) => {
    const guard = guardWith();
    expect(await outcome(guard, 'admin', req(extra as FakeRequest))).toBe('403 tenant_forbidden');
    expect(await outcome(guard, 'plain', req(extra as FakeRequest))).toBe('403 tenant_forbidden');
  });

  it('a prototype-polluted params object does not name a tenant (own properties only)', async () => {
    const guard = guardWith();
    const params = Object.create({ tenantId: T1 }) as Record<string, unknown>;
    expect(await outcome(guard, 'admin', req({ params }))).toBe('403 tenant_required');
  });

  it('naming a tenant without @Roles() needs a verified membership', async () => {
    const guard = guardWith();
    expect(await outcome(guard, 'plain', req({ headers: { 'x-tenant-id': T2 } }))).toBe(200);
    const pending = demoUser([tenant(T1, [role('Admin')], 'Pending'), tenant(T2, [])]);
    expect(await outcome(guard, 'plain', { user: pending, headers: { 'x-tenant-id': T1 } })).toBe(
      '403 tenant_forbidden',
    );
  });

  it('custom param and header names', async () => {
    const guard = guardWith(options({ tenant: { param: 'org', header: 'x-org' } }));
    expect(await outcome(guard, 'admin', req({ params: { org: T1 } }))).toBe(200);
    expect(await outcome(guard, 'admin', req({ headers: { 'x-org': T1 } }))).toBe(200);
    expect(await outcome(guard, 'admin', req({ params: { tenantId: T1 } }))).toBe('403 tenant_required');
  });

  it('without a user: 401 where roles are needed, 403 where a tenant is named', async () => {
    const guard = guardWith();
    expect(await outcome(guard, 'admin', { params: {}, headers: {} })).toBe('401 token_missing');
    expect(await outcome(guard, 'plain', { params: { tenantId: T1 }, headers: {} })).toBe(
      '403 tenant_forbidden',
    );
    expect(await outcome(guard, 'plain', { params: {}, headers: {} })).toBe(200);
  });
});

describe('EzidRolesGuard: responses and contexts', () => {
  it('403 body and WWW-Authenticate insufficient_scope on the response', async () => {
    const guard = guardWith();
    const headers: Record<string, string> = {};
    const res = { setHeader: (n: string, v: string) => (headers[n] = v) };
    let error: unknown;
    try {
      await guard.canActivate(ctx('admin', req({ params: { tenantId: T2 } }), 'http', res));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EzidHttpException);
    expect((error as EzidHttpException).getResponse()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      code: 'insufficient_role',
      message: expect.any(String),
    });
    expect(headers['WWW-Authenticate']).toBe('Bearer error="insufficient_scope"');
  });

  it('@CurrentTenant source: the authorized tenant is set on the request', async () => {
    const guard = guardWith();
    const c = ctx('admin', req({ params: { tenantId: T1 } }));
    await guard.canActivate(c);
    expect(getEzidTenant(c)?.id).toBe(T1);
    const plain = ctx('plain', req());
    await guard.canActivate(plain);
    expect(getEzidTenant(plain)).toBeUndefined(); // two tenants, none named
    const solo = ctx('plain', { user: demoUser([tenant(T1, [])]), headers: {}, url: '/p' });
    await guard.canActivate(solo);
    expect(getEzidTenant(solo)).toBeUndefined(); // the fallback is off by default
    const withFallback = guardWith(options({ tenant: { singleTenantFallback: true } }));
    const solo2 = ctx('plain', { user: demoUser([tenant(T1, [])]), headers: {}, url: '/p' });
    await withFallback.canActivate(solo2);
    expect(getEzidTenant(solo2)?.id).toBe(T1); // the only tenant
  });

  it('unknown context types are denied, not allowed', async () => {
    const guard = guardWith();
    expect(await outcome(guard, 'plain', req(), 'kafka')).toBe('false');
    expect(await outcome(guard, 'admin', req({ params: { tenantId: T1 } }), 'unknown')).toBe('false');
  });

  it('GraphQL: the request comes from the context argument', async () => {
    const guard = guardWith();
    expect(await outcome(guard, 'admin', { user, headers: { 'x-tenant-id': T1 } }, 'graphql')).toBe(200);
    expect(await outcome(guard, 'admin', { user, headers: { 'x-tenant-id': T2 } }, 'graphql')).toBe(
      '403 insufficient_role',
    );
    expect(await outcome(guard, 'admin', undefined as unknown as FakeRequest, 'graphql')).toBe('false');
  });

  it('WebSocket: user from the auth registry, tenant from handshake or message headers; per-message tenant', async () => {
    const guard = guardWith();
    const wsCtx = (method: keyof PlainController, client: FakeRequest, data: unknown) => {
      const handler = PlainController.prototype[method] as (...a: unknown[]) => unknown;
      const c = contextFor('ws', client, handler, PlainController, undefined, data);
      setEzidUser(c, user);
      return c;
    };
    const run = async (c: ReturnType<typeof wsCtx>) => {
      try {
        return (await guard.canActivate(c)) ? 200 : 'false';
      } catch (e) {
        return (e as { getError?: () => { code: string } }).getError?.().code ?? String(e);
      }
    };
    const client: FakeRequest = { handshake: { headers: { 'x-tenant-id': T1 } } };
    const m1 = wsCtx('admin', client, { n: 1 });
    expect(await run(m1)).toBe(200);
    expect(getEzidTenant(m1)?.id).toBe(T1);
    const other: FakeRequest = { handshake: { headers: {} } };
    expect(await run(wsCtx('admin', other, { headers: { 'x-tenant-id': T1 } }))).toBe(200);
    expect(await run(wsCtx('admin', other, { headers: { 'x-tenant-id': T2 } }))).toBe('insufficient_role');
    // handshake T1, message T2: carriers disagree
    expect(await run(wsCtx('admin', client, { headers: { 'x-tenant-id': T2 } }))).toBe('tenant_forbidden');
    const m2 = wsCtx('plain', other, { n: 2 });
    expect(await run(m2)).toBe(200);
    expect(getEzidTenant(m2)).toBeUndefined();
  });

  it('WebSocket denials are WsExceptions with the same body', async () => {
    const guard = guardWith();
    const client: FakeRequest = { handshake: { headers: { 'x-tenant-id': T2 } } };
    const c = contextFor('ws', client, PlainController.prototype.admin, PlainController);
    setEzidUser(c, user);
    const err = await Promise.resolve()
      .then(() => guard.canActivate(c))
      .catch((e: unknown) => e);
    expect((err as Error).constructor.name).toBe('WsException');
    expect((err as { getError(): unknown }).getError()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      code: 'insufficient_role',
      message: expect.any(String),
    });
  });

  it('RPC: user from the auth registry, tenant from the message headers or the resolver', async () => {
    const guard = guardWith();
    const data = { headers: { 'x-tenant-id': T1 } };
    const c = contextFor('rpc', data, PlainController.prototype.admin, PlainController);
    setEzidUser(c, user);
    expect(await guard.canActivate(c)).toBe(true);
    const bad = { headers: { 'x-tenant-id': T2 } };
    const c2 = contextFor('rpc', bad, PlainController.prototype.admin, PlainController);
    setEzidUser(c2, user);
    const err = await Promise.resolve()
      .then(() => guard.canActivate(c2))
      .catch((e: unknown) => e);
    expect((err as Error).constructor.name).toBe('RpcException');
  });
});

describe('EzidRolesGuard: profile.source api', () => {
  const apiOptions = options({ profile: { source: 'api' } });

  it('reads tenants from the source (not the token) and caches them per user', async () => {
    const source = { getUserTenants: jest.fn(async () => [tenant(T2, [role('Admin')])]) };
    const guard = guardWith(apiOptions, source);
    // The token says Admin in T1; the API says Admin in T2 only.
    expect(await outcome(guard, 'admin', req({ params: { tenantId: T1 } }))).toBe('403 tenant_forbidden');
    expect(await outcome(guard, 'admin', req({ params: { tenantId: T2 } }))).toBe(200);
    expect(source.getUserTenants).toHaveBeenCalledTimes(1);
    expect(source.getUserTenants).toHaveBeenCalledWith('user_demo');
  });

  it('the steady state is synchronous (no promise once cached)', async () => {
    const source = { getUserTenants: async () => [tenant(T1, [role('Admin')])] };
    const guard = guardWith(apiOptions, source);
    await guard.canActivate(ctx('admin', req({ params: { tenantId: T1 } })));
    expect(guard.canActivate(ctx('admin', req({ params: { tenantId: T1 } })))).toBe(true);
  });

  it('a failed fetch is 503 idp_unavailable with Retry-After, never 401/403', async () => {
    const source = {
      getUserTenants: async (): Promise<EzidTenant[]> => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:1');
      },
    };
    const guard = guardWith(apiOptions, source);
    const headers: Record<string, string> = {};
    const res = { setHeader: (n: string, v: string) => (headers[n] = v) };
    const error = await Promise.resolve()
      .then(() => guard.canActivate(ctx('admin', req({ params: { tenantId: T1 } }), 'http', res)))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EzidHttpException);
    expect((error as EzidHttpException).getStatus()).toBe(503);
    expect(JSON.stringify((error as EzidHttpException).getResponse())).not.toContain('ECONNREFUSED');
    expect(headers['Retry-After']).toBe('5');
  });

  it('routes that neither ask nor name a tenant make no profile call', async () => {
    const source = { getUserTenants: jest.fn(async () => []) };
    const guard = guardWith(apiOptions, source);
    expect(await outcome(guard, 'plain', req())).toBe(200);
    expect(source.getUserTenants).not.toHaveBeenCalled();
  });

  it('a user without an id gets no tenants (403), not a fetch', async () => {
    const source = { getUserTenants: jest.fn(async () => []) };
    const guard = guardWith(apiOptions, source);
    const noId = { ...demoUser(), id: '' } as EzidUser;
    expect(await outcome(guard, 'admin', { user: noId, params: { tenantId: T1 } })).toBe(
      '403 tenant_forbidden',
    );
    expect(source.getUserTenants).not.toHaveBeenCalled();
  });
});

describe('EzidRolesGuard: GraphQL resolvers (contexts built by hand; real servers: test/contexts/graphql.e2e-spec.ts)', () => {
  @Public()
  class PublicResolver {
    @Roles('Admin') adminOnly() {}
    open() {}
  }
  @Public()
  class PublicBaseResolver {
    field() {}
  }
  @Roles('Admin')
  class AdminResolver extends PublicBaseResolver {}

  const gql = (
    guard: EzidRolesGuard,
    cls: abstract new (...a: never[]) => unknown,
    handler: (...a: unknown[]) => unknown,
    request: FakeRequest,
  ): Promise<number | string> =>
    Promise.resolve()
      .then(() => guard.canActivate(contextFor('graphql', request, handler, cls)))
      .then(
        (ok) => (ok ? 200 : 'false'),
        (e: unknown) => {
          if (!(e instanceof EzidGraphQLError)) throw e;
          return `${e.statusCode} ${e.extensions.code}`;
        },
      );

  it('item 2: @Public() never switches off a rule (class @Public + handler @Roles, @Public base + subclass @Roles)', async () => {
    const guard = guardWith();
    const admin = PublicResolver.prototype.adminOnly as (...a: unknown[]) => unknown;
    const field = PublicBaseResolver.prototype.field as (...a: unknown[]) => unknown;
    for (const [cls, handler] of [
      [PublicResolver, admin],
      [AdminResolver, field],
    ] as const) {
      expect(await gql(guard, cls, handler, { headers: { 'x-tenant-id': T1 } })).toBe('401 token_missing');
      expect(await gql(guard, cls, handler, { user, headers: { 'x-tenant-id': T2 } })).toBe(
        '403 insufficient_role',
      );
      expect(await gql(guard, cls, handler, { user, headers: { 'x-tenant-id': T3 } })).toBe(
        '403 tenant_forbidden',
      );
      expect(await gql(guard, cls, handler, { user, headers: { 'x-tenant-id': T1 } })).toBe(200);
    }
    const open = PublicResolver.prototype.open as (...a: unknown[]) => unknown;
    expect(await gql(guard, PublicResolver, open, { headers: {} })).toBe(200);
    // A user present (authenticated by another guard) naming a foreign tenant: still the tenant check.
    expect(await gql(guard, PublicResolver, open, { user, headers: { 'x-tenant-id': T3 } })).toBe(
      '403 tenant_forbidden',
    );
  });

  it('a GraphQL context without a request: a public route without a rule passes, a rule is denied', async () => {
    const guard = guardWith();
    const none = undefined as unknown as FakeRequest;
    const open = PublicResolver.prototype.open as (...a: unknown[]) => unknown;
    const admin = PublicResolver.prototype.adminOnly as (...a: unknown[]) => unknown;
    expect(await gql(guard, PublicResolver, open, none)).toBe(200);
    expect(await gql(guard, PublicResolver, admin, none)).toBe('false');
  });

  it('item 1: the single-tenant fallback never applies to a resolver (its arguments may name a tenant)', async () => {
    const solo = demoUser([tenant(T2, [role('Admin')])]);
    const admin = PlainController.prototype.admin as (...a: unknown[]) => unknown;
    for (const guard of [guardWith(), guardWith(options({ tenant: { singleTenantFallback: true } }))]) {
      const c = contextFor('graphql', { user: solo, headers: {} }, admin, PlainController);
      await expect(Promise.resolve().then(() => guard.canActivate(c))).rejects.toMatchObject({
        extensions: { code: 'tenant_required', statusCode: 403 },
      });
      expect(getEzidTenant(c)).toBeUndefined();
    }
  });

  it('item 4: an async resolver on a resolver context is awaited; a rejection is a 403', async () => {
    const resolve = (r: unknown) => {
      const v = (r as { headers: Record<string, string> }).headers['x-org'];
      return v === 'reject' ? Promise.reject(new Error('down')) : Promise.resolve(v);
    };
    const guard = guardWith(options({ tenant: { resolve } }));
    const admin = PlainController.prototype.admin as (...a: unknown[]) => unknown;
    expect(await gql(guard, PlainController, admin, { user, headers: { 'x-org': T1 } })).toBe(200);
    expect(await gql(guard, PlainController, admin, { user, headers: { 'x-org': T2 } })).toBe(
      '403 insufficient_role',
    );
    expect(await gql(guard, PlainController, admin, { user, headers: { 'x-org': 'reject' } })).toBe(
      '403 tenant_forbidden',
    );
  });
});
