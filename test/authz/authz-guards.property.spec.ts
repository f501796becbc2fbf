// Property test: random @Public / @OptionalAuth / @Roles / @Permissions metadata on a base class, a
// subclass and a handler, random tenant carriers and random users, run in-process through the real
// EzidAuthGuard and EzidRolesGuard (real Reflector, real decorator metadata). The outcome must be
// the one of the small reference model below; in particular the guards never allow what it denies.
import { HttpException, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import fc from 'fast-check';
import { EzidAuthGuard } from '../../src/auth/ezid-auth.guard';
import { EzidTokenError } from '../../src/auth/ezid-token.errors';
import type { EzidTokenVerifier } from '../../src/auth/ezid-token-verifier';
import { EzidAuthorizer } from '../../src/authz/ezid-authorizer';
import { EzidProfileStore } from '../../src/authz/ezid-profile.source';
import { EzidRolesGuard } from '../../src/authz/ezid-roles.guard';
import { OptionalAuth, Permissions, Public, Roles } from '../../src';
import type { ResolvedEzidOptions } from '../../src/ezid-options.validation';
import type { EzidTenant, EzidUser } from '../../src/interfaces/ezid-user.interface';
import { T1, T2, T3, contextFor, hookRegistry } from './unit-helpers';

const ROLE_NAMES = ['Admin', 'Member', 'Suspended', 'Suspended ', 'suspended', 'Ａdmin'];
const PERM_NAMES = ['Team View', 'Billing Manage', 'team view', 'Billing Manage\u200B'];
const MALFORMED = 'a b';

// ---- What is generated ----

interface RuleSpec {
  names: string[];
  match: 'any' | 'all';
  prohibited: string[];
  merge: boolean;
}
interface Decoration {
  isPublic: boolean;
  optional: boolean;
  roles?: RuleSpec;
  permissions?: RuleSpec;
}
interface Scenario {
  base: Decoration;
  sub?: Decoration; // undefined: the controller is the base class itself
  handler: Decoration;
  handlerOnBase: boolean; // the handler is inherited from the base class
  token: 'none' | 'valid' | 'invalid';
  tenants: { id: string; status: string; roles: { name: string; permissions: string[] }[] }[];
  param?: string; // :tenantId
  otherParam: boolean; // :orgId
  header?: string;
  query: boolean;
  fallback: boolean;
}

const weighted = <T>(often: fc.Arbitrary<T>, rarely: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: 3, arbitrary: often }, { weight: 1, arbitrary: rarely });

const rule = (pool: string[]): fc.Arbitrary<RuleSpec> =>
  fc.record({
    names: weighted(fc.subarray(pool.slice(0, 2), { minLength: 1 }), fc.subarray(pool, { maxLength: 3 })),
    match: fc.constantFrom<'any' | 'all'>('any', 'all'),
    prohibited: weighted(fc.constant([]), fc.subarray(pool, { minLength: 1, maxLength: 2 })),
    merge: fc.boolean(),
  });

/** A rule or none, none twice as often (so routes without any rule are common too). */
const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const maybe = <T>(arb: fc.Arbitrary<T>, freq: number): fc.Arbitrary<T | undefined> =>
  fc.option(arb, { nil: undefined, freq });

const decoration: fc.Arbitrary<Decoration> = fc.record({
  isPublic: fc.boolean(),
  optional: fc.boolean(),
  roles: sometimes(rule(ROLE_NAMES)),
  permissions: sometimes(rule(PERM_NAMES)),
});

const tenantId = fc.constantFrom(T1, T1, T1, T2, T3, MALFORMED);

/** Where the request names its tenant: one carrier, both agreeing, both disagreeing, or none. */
const carriers: fc.Arbitrary<Pick<Scenario, 'param' | 'header'>> = fc
  .tuple(fc.constantFrom('param', 'header', 'both', 'none', 'independent'), tenantId, tenantId)
  .map(([how, a, b]) => {
    if (how === 'param') return { param: a };
    if (how === 'header') return { header: a };
    if (how === 'both') return { param: a, header: a };
    if (how === 'none') return {};
    return { param: a, header: b };
  });

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    base: decoration,
    sub: maybe(decoration, 3),
    handler: decoration,
    handlerOnBase: fc.boolean(),
    token: weighted(
      fc.constant<Scenario['token']>('valid'),
      fc.constantFrom<Scenario['token']>('none', 'invalid'),
    ),
    tenants: fc.array(
      fc.record({
        id: fc.constantFrom(T1, T1, T2),
        status: fc.constantFrom('Verified', 'Verified', 'Verified', 'Pending'),
        roles: fc.array(
          fc.record({
            name: weighted(fc.constantFrom('Admin', 'Member'), fc.constantFrom(...ROLE_NAMES)),
            permissions: weighted(fc.subarray(PERM_NAMES.slice(0, 2)), fc.subarray(PERM_NAMES)),
          }),
          { minLength: 1, maxLength: 3 },
        ),
      }),
      { maxLength: 2 },
    ),
    carriers,
    otherParam: fc.boolean(),
    query: fc.boolean(),
    fallback: fc.boolean(),
  })
  .map(({ carriers: c, ...rest }) => ({ ...rest, ...c }));

// ---- The reference model ----

type Outcome = 200 | 401 | 403;

const fold = (s: string) =>
  s
    .normalize('NFKC')
    .replace(/\u200B/g, '')
    .trim()
    .toLowerCase();

function passes(r: RuleSpec, held: string[]): boolean {
  if (r.prohibited.some((p) => held.some((h) => fold(h) === fold(p)))) return false;
  if (r.names.length === 0) return false;
  return r.match === 'all' ? r.names.every((n) => held.includes(n)) : r.names.some((n) => held.includes(n));
}

function effective(s: Scenario, kind: 'roles' | 'permissions'): RuleSpec[] {
  const cls = s.sub?.[kind] ?? s.base[kind]; // class metadata: the subclass's own, else inherited
  const own = s.handler[kind];
  if (own) return own.merge && cls ? [cls, own] : [own];
  return cls ? [cls] : [];
}

function model(s: Scenario): Outcome {
  const roles = effective(s, 'roles');
  const perms = effective(s, 'permissions');
  const hasRule = roles.length > 0 || perms.length > 0;
  const marks = [s.handler, s.sub, s.base].filter((d): d is Decoration => d !== undefined);
  const isPublic = marks.some((d) => d.isPublic);
  const optional = marks.some((d) => d.optional);

  // EzidAuthGuard: @Public() skips authentication only on a route without a rule.
  if (isPublic && !hasRule) return 200; // no other guard authenticates here: anonymous, nothing to check
  if (s.token === 'invalid') return 401;
  if (s.token === 'none' && !optional) return 401;
  const authenticated = s.token === 'valid';

  // EzidRolesGuard.
  const named = [s.param, s.header].filter((v): v is string => v !== undefined);
  if (named.some((v) => v === MALFORMED)) return 403;
  if (new Set(named).size > 1) return 403;
  const id: string | undefined = named[0];
  if (!hasRule && id === undefined) return 200;
  if (!authenticated) return hasRule ? 401 : 403;

  let target = id;
  if (target === undefined) {
    const ids = new Set(s.tenants.map((x) => x.id));
    const fallbackApplies = s.fallback && s.param === undefined && !s.otherParam && !s.query;
    if (!fallbackApplies || ids.size !== 1) return 403; // tenant_required
    target = s.tenants[0].id;
  }
  const same = s.tenants.filter((x) => x.id === target);
  const t = same[0];
  if (!t || same.length > 1 || t.status !== 'Verified') return 403; // unknown, listed twice, unverified
  const heldRoles = t.roles.map((r) => r.name);
  const heldPerms = t.roles.flatMap((r) => r.permissions);
  if (!roles.every((r) => passes(r, heldRoles))) return 403;
  if (!perms.every((r) => passes(r, heldPerms))) return 403;
  return 200;
}

// ---- Running the real guards ----

function ruleArgs(r: RuleSpec): (string | Record<string, unknown>)[] {
  return [...r.names, { match: r.match, prohibited: r.prohibited, merge: r.merge }];
}

function decorate(d: Decoration, apply: (decorator: ClassDecorator & MethodDecorator) => void): void {
  if (d.isPublic) apply(Public() as ClassDecorator & MethodDecorator);
  if (d.optional) apply(OptionalAuth() as ClassDecorator & MethodDecorator);
  if (d.roles) apply(Roles(...(ruleArgs(d.roles) as string[])) as ClassDecorator & MethodDecorator);
  if (d.permissions) {
    apply(Permissions(...(ruleArgs(d.permissions) as string[])) as ClassDecorator & MethodDecorator);
  }
}

function build(s: Scenario): { cls: abstract new () => unknown; handler: (...a: unknown[]) => unknown } {
  class Base {
    inherited() {}
  }
  class Sub extends Base {
    own() {}
  }
  const cls = s.sub ? Sub : Base;
  const owner = s.handlerOnBase || !s.sub ? Base.prototype : Sub.prototype;
  const name = owner === Base.prototype ? 'inherited' : 'own';
  decorate(s.base, (d) => d(Base));
  if (s.sub) decorate(s.sub, (d) => d(Sub));
  const descriptor = Object.getOwnPropertyDescriptor(owner, name)!;
  decorate(s.handler, (d) => d(owner, name, descriptor));
  return { cls, handler: descriptor.value as (...a: unknown[]) => unknown };
}

function options(s: Scenario): ResolvedEzidOptions {
  return {
    globalGuard: true,
    token: {},
    tenant: {
      param: 'tenantId',
      header: 'x-tenant-id',
      singleTenantFallback: s.fallback,
      resolveTimeoutMs: 5000,
    },
    profile: { source: 'token', cacheTtlSec: 60, cacheMaxEntries: 100 },
  } as unknown as ResolvedEzidOptions;
}

function userOf(s: Scenario): EzidUser {
  const tenants: EzidTenant[] = s.tenants.map((t) => ({
    id: t.id,
    name: t.id,
    status: t.status,
    roles: t.roles.map((r, i) => ({ id: `r${i}`, name: r.name, permissions: r.permissions })),
  }));
  return { id: 'user_1', tenants, claims: Object.freeze({}) };
}

async function run(s: Scenario): Promise<Outcome | string> {
  const opts = options(s);
  const user = userOf(s);
  const verifier = {
    verifyToken: (token: string) => {
      if (token !== 'valid-token') throw new EzidTokenError('token_invalid', 'property');
      return { user };
    },
  } as unknown as EzidTokenVerifier;
  const reflector = new Reflector();
  const auth = new EzidAuthGuard(reflector, verifier, opts);
  const roles = new EzidRolesGuard(
    reflector,
    new EzidAuthorizer(new EzidProfileStore(opts)),
    opts,
    hookRegistry(opts),
  );

  const { cls, handler } = build(s);
  const headers: Record<string, string> = {};
  if (s.token !== 'none') headers.authorization = `Bearer ${s.token}-token`;
  if (s.header !== undefined) headers['x-tenant-id'] = s.header;
  const params: Record<string, string> = {};
  if (s.param !== undefined) params.tenantId = s.param;
  if (s.otherParam) params.orgId = T1;
  const request = {
    method: 'GET',
    url: s.query ? '/r?tenant=x' : '/r',
    headers,
    params,
    query: s.query ? { tenant: 'x' } : {},
  };
  const context = contextFor('http', request, handler, cls);
  try {
    if (!(await auth.canActivate(context))) return 'auth guard returned false';
    if (!(await roles.canActivate(context))) return 'roles guard returned false';
    return 200;
  } catch (e) {
    if (e instanceof HttpException && (e.getStatus() === 401 || e.getStatus() === 403)) {
      return e.getStatus() as Outcome;
    }
    return `unexpected ${String(e)}`;
  }
}

beforeAll(() => Logger.overrideLogger(false));

describe('EzidAuthGuard + EzidRolesGuard against a reference model (fast-check)', () => {
  it('the guards decide exactly as the model: never an allow the model denies', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const expected = model(s);
        const actual = await run(s);
        if (expected !== 200) expect(actual).not.toBe(200);
        expect(actual).toBe(expected);
      }),
      { seed: 1402, numRuns: 3000 },
    );
  });

  it('the model is not trivial: the generated cases allow (also under rules), deny with 401 and deny with 403', () => {
    const seen = new Map<string, number>();
    const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
    fc.assert(
      fc.property(scenario, (s) => {
        const o = model(s);
        count(String(o));
        if (o === 200 && effective(s, 'roles').length + effective(s, 'permissions').length > 0)
          count('200 rule');
        const rules = [...effective(s, 'roles'), ...effective(s, 'permissions')];
        if (o === 200 && rules.some((r) => r.prohibited.length > 0)) count('200 prohibited');
      }),
      { seed: 1402, numRuns: 3000 },
    );
    expect(Object.fromEntries(seen)).toEqual({
      '200': expect.any(Number),
      '401': expect.any(Number),
      '403': expect.any(Number),
      '200 rule': expect.any(Number),
      '200 prohibited': expect.any(Number),
    });
    expect(Math.min(...seen.values())).toBeGreaterThanOrEqual(5);
  });
});
