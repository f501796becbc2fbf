import { T1, T2, T3, demoUser, role, tenant } from '../../test/authz/unit-helpers';
import type { EzidUser } from '../interfaces/ezid-user.interface';
import { compileRule, prohibitedKey, rulePasses } from './authz-rule';
import { EzidAuthorizer } from './ezid-authorizer';
import { EzidProfileStore } from './ezid-profile.source';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { isWellFormedTenantId } from './tenant-id';
import { indexTenants } from './tenant-index';

const tokenOptions = {
  profile: { source: 'token', cacheTtlSec: 60, cacheMaxEntries: 10 },
} as unknown as ResolvedEzidOptions;

function authorizer(): EzidAuthorizer {
  return new EzidAuthorizer(new EzidProfileStore(tokenOptions));
}

describe('rules', () => {
  const held = new Set(['Admin', 'Team View']);

  it('any: one name is enough; all: every name', () => {
    expect(rulePasses(compileRule('roles', ['Admin', 'Owner'], undefined), held)).toBe(true);
    expect(rulePasses(compileRule('roles', ['Admin', 'Owner'], { match: 'all' }), held)).toBe(false);
    expect(rulePasses(compileRule('permissions', ['Team View'], undefined), held)).toBe(true);
    expect(rulePasses(compileRule('permissions', ['Team View', 'X'], undefined), held)).toBe(false);
    expect(rulePasses(compileRule('permissions', ['Team View', 'X'], { match: 'any' }), held)).toBe(true);
  });

  it('no names denies (the [].every trap), for both match modes', () => {
    expect([].every(() => false)).toBe(true); // the trap this guards against
    expect(rulePasses(compileRule('roles', [], undefined), held)).toBe(false);
    expect(rulePasses(compileRule('permissions', [], { match: 'all' }), held)).toBe(false);
    expect(rulePasses(compileRule('roles', [], { prohibited: ['Guest'] }), held)).toBe(false);
  });

  it('prohibited names deny whatever else is held', () => {
    expect(rulePasses(compileRule('roles', ['Admin'], { prohibited: ['Team View'] }), held)).toBe(false);
    expect(rulePasses(compileRule('roles', ['Admin'], { prohibited: ['Suspended'] }), held)).toBe(true);
  });

  it('a look-alike of a prohibited name (case, spaces, NFKC, NFD, invisible characters) still denies', () => {
    const rule = compileRule('roles', ['Member'], { prohibited: ['Suspended', 'Révoqué'] });
    for (const lookalike of [
      'Suspended ',
      ' Suspended',
      'suspended',
      'SUSPENDED',
      'Ｓｕｓｐｅｎｄｅｄ',
      'Suspen\u200Bded',
      'Sus\u00ADpended',
      'Suspended\uFE0F',
      'Re\u0301voque\u0301', // NFD of Révoqué
      'RÉVOQUÉ',
    ]) {
      expect([lookalike, rulePasses(rule, new Set(['Member', lookalike]))]).toEqual([lookalike, false]);
    }
    expect(rulePasses(rule, new Set(['Member']))).toBe(true);
    // The prohibited side is normalised too: a list written with a trailing space still matches.
    expect(
      rulePasses(
        compileRule('roles', ['Member'], { prohibited: ['suspended '] }),
        new Set(['Member', 'Suspended']),
      ),
    ).toBe(false);
  });

  it('braille blanks, combining marks without a precomposed form and Cyrillic/Greek look-alikes still deny', () => {
    const rule = compileRule('roles', ['Member'], { prohibited: ['Suspended', 'Banned'] });
    for (const lookalike of [
      'Suspended\u2800', // braille pattern blank
      '\u2800Suspended\u2800\u2800',
      'Suspended\u3000',
      'Suspended\u180E', // Mongolian vowel separator
      'Suspended\u115F', // Hangul choseong filler
      'Suspended\u034F', // combining grapheme joiner
      'Suspended\u061C', // Arabic letter mark
      'Suspended\u200E', // left-to-right mark
      'Suspended\u0085', // next line (a control character)
      'S\u0336uspended', // combining long stroke overlay: no precomposed form
      'Suspende\u0064\u0301',
      'Su\u0331spe\u20DDnded', // combining macron below, enclosing circle
      '\u0405uspended', // Cyrillic capital DZE
      'Susp\u0435nded', // Cyrillic small IE
      '\u0405u\u0455\u0440\u0435nd\u0435d', // Cyrillic S, s, r, e
      '\u0392\u0391\u039D\u039D\u0395D', // Greek BANNED capitals
      'B\u03B1nned', // Greek small alpha
      'ſuspended', // long s (compatibility)
    ]) {
      expect([lookalike, rulePasses(rule, new Set(['Member', lookalike]))]).toEqual([lookalike, false]);
    }
    // A prohibited list written with look-alikes folds the same way.
    expect(
      rulePasses(
        compileRule('roles', ['Member'], { prohibited: ['\u0405u\u0455pended\u2800'] }),
        new Set(['Member', 'Suspended']),
      ),
    ).toBe(false);
    // Distinct names stay distinct.
    for (const other of ['Suspend', 'Sus pended', 'Suspendedx', 'Member']) {
      expect([other, rulePasses(rule, new Set(['Member', other]))]).toEqual([other, true]);
    }
    expect(prohibitedKey('\u039D\u03BD')).toBe('nv'); // Greek capital Nu is N, small nu is v
  });

  it('the folding never grants: a Cyrillic or marked look-alike of a granting name does not satisfy it', () => {
    for (const lookalike of ['\u0410dmin', 'A\u0336dmin', 'Admin\u2800']) {
      expect(rulePasses(compileRule('roles', ['Admin'], undefined), new Set([lookalike]))).toBe(false);
    }
  });

  it('granting names are compared exactly: a look-alike never grants', () => {
    for (const lookalike of ['Admin ', 'admin', 'ＡＤＭＩＮ', 'Ad\u200Bmin']) {
      expect(rulePasses(compileRule('roles', ['Admin'], undefined), new Set([lookalike]))).toBe(false);
    }
  });

  it('unknown requirement keys throw (EzidAuthorizer shape)', async () => {
    await expect(
      authorizer().check(demoUser(), T1, {
        roles: { names: ['Member'], prohibitted: ['Suspended'] } as unknown as { names: string[] },
      }),
    ).rejects.toThrow(/unknown key "prohibitted"/);
  });

  it('malformed rules fail at decoration time, not per request', () => {
    expect(() => compileRule('roles', [''], undefined)).toThrow(TypeError);
    expect(() => compileRule('roles', [1 as unknown as string], undefined)).toThrow(TypeError);
    expect(() => compileRule('roles', ['a'], { match: 'some' as 'any' })).toThrow(TypeError);
    expect(() => compileRule('roles', ['a'], { prohibited: 'x' as unknown as string[] })).toThrow(TypeError);
  });
});

describe('tenant ids', () => {
  it.each([
    ['', false],
    ['a'.repeat(129), false],
    ['a'.repeat(128), true],
    ['abc\u0000', false],
    ['abc\r\nx', false],
    [`${T1}, ${T2}`, false], // a repeated header joined by Node
    ['ｔｅｎａｎｔ', false],
    [' ' + T1, false],
    [T1, true],
    ['__proto__', true], // well-formed; just an unknown id
  ])('%j well-formed: %s', (id, ok) => {
    expect(isWellFormedTenantId(id)).toBe(ok);
  });

  it('non-strings are malformed', () => {
    for (const v of [[T1], 1, {}, null, undefined, true]) expect(isWellFormedTenantId(v)).toBe(false);
  });
});

describe('EzidAuthorizer', () => {
  const a = authorizer();
  const user = demoUser();

  it('grants a role in its own tenant only (no escalation across tenants)', async () => {
    expect(await a.can(user, T1, { roles: ['Admin'] })).toBe(true);
    expect(await a.check(user, T2, { roles: ['Admin'] })).toMatchObject({
      allowed: false,
      code: 'insufficient_role',
    });
    expect(await a.can(user, T2, { permissions: ['Billing Manage'] })).toBe(false);
    expect(await a.can(user, T2, { permissions: ['Team View'] })).toBe(true);
  });

  it('unknown and prototype-key tenants are tenant_forbidden, never a TypeError', async () => {
    for (const id of [T3, '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(await a.check(user, id, { roles: ['Admin'] })).toMatchObject({
        allowed: false,
        code: 'tenant_forbidden',
      });
    }
  });

  it('malformed tenant ids are tenant_forbidden', async () => {
    for (const id of ['', 'x'.repeat(500), 'a\u0000b', 42 as unknown as string]) {
      expect(await a.check(user, id)).toMatchObject({ allowed: false, code: 'tenant_forbidden' });
    }
  });

  it('membership only: verified member passes, others do not', async () => {
    expect(await a.can(user, T1)).toBe(true);
    expect(await a.can(user, T3)).toBe(false);
  });

  it('only status exactly "Verified" grants anything', async () => {
    for (const status of ['verified', 'VERIFIED', 'Pending', 'Verified ', 'active', '']) {
      const u = demoUser([tenant(T1, [role('Admin', ['P'])], status)]);
      expect(await a.check(u, T1, { roles: ['Admin'] })).toMatchObject({ code: 'tenant_forbidden' });
    }
  });

  it('single-tenant fallback: only when the profile lists exactly one tenant', async () => {
    const solo = demoUser([tenant(T1, [role('Admin')])]);
    expect(await a.check(solo, undefined, { roles: ['Admin'] })).toMatchObject({
      allowed: true,
      tenant: { id: T1 },
    });
    expect(await a.check(user, undefined, { roles: ['Admin'] })).toMatchObject({ code: 'tenant_required' });
    expect(await a.check(demoUser([]), undefined)).toMatchObject({ code: 'tenant_required' });
    const pending = demoUser([tenant(T1, [role('Admin')], 'Pending')]);
    expect(await a.check(pending, undefined, { roles: ['Admin'] })).toMatchObject({
      code: 'tenant_forbidden',
    });
  });

  it.each([
    ['admın', 'dotless i'],
    ['ADMİN', 'dotted capital I'],
    ['ａｄｍｉｎ', 'fullwidth'],
    ['admin', 'lower case'],
    ['ADMIN', 'upper case'],
    ['Admin ', 'trailing space'],
    ['Admin\u200b', 'zero-width space'],
  ])('role names compare by exact code point: %s (%s) is not Admin', async (held) => {
    const u = demoUser([tenant(T1, [role(held)])]);
    expect(await a.check(u, T1, { roles: ['Admin'] })).toMatchObject({ code: 'insufficient_role' });
    const v = demoUser([tenant(T1, [role('Admin')])]);
    expect(await a.check(v, T1, { roles: [held] })).toMatchObject({ code: 'insufficient_role' });
  });

  it('Kelvin sign and long s are not K and s', async () => {
    const u = demoUser([tenant(T1, [role('\u212Aey'), role('\u017Fuperuser')])]);
    expect(await a.can(u, T1, { roles: ['Key'] })).toBe(false);
    expect(await a.can(u, T1, { roles: ['superuser'] })).toBe(false);
    expect(await a.can(u, T1, { roles: ['\u212Aey'] })).toBe(true);
  });

  it.each([
    ['null', null],
    ['object', {}],
    ['string', 'Team View'],
    ['[null]', [null]],
    ['[1]', [1]],
    ['absent', undefined],
  ])('permissions %s means no permissions (403, no TypeError)', async (_label, permissions) => {
    const u = demoUser([tenant(T1, [role('Admin', permissions)])]);
    expect(await a.check(u, T1, { permissions: ['Team View'] })).toMatchObject({
      code: 'insufficient_permission',
    });
    expect(await a.can(u, T1, { roles: ['Admin'] })).toBe(true);
  });

  it('"*" is just a permission name, not a wildcard', async () => {
    const u = demoUser([tenant(T1, [role('Admin', ['*'])])]);
    expect(await a.can(u, T1, { permissions: ['Team View'] })).toBe(false);
  });

  it('a string permission is not split or searched as a substring', async () => {
    const u = demoUser([tenant(T1, [role('Admin', ['read:orders write:orders_draft'])])]);
    expect(await a.can(u, T1, { permissions: ['write:orders'] })).toBe(false);
  });

  it('malformed profiles grant nothing and never throw', async () => {
    const shapes: unknown[] = [
      undefined,
      null,
      'x',
      {},
      [null, 1, 'x', { id: 5 }, { id: T1, status: 'Verified', roles: 'Admin' }],
      [{ id: T1, status: 'Verified', roles: [null, { name: 5 }, { name: 'Admin', permissions: 'P' }] }],
    ];
    for (const tenants of shapes) {
      const u = { id: 'u', tenants, claims: {} } as unknown as EzidUser;
      await expect(a.can(u, T1, { permissions: ['P'] })).resolves.toBe(false);
    }
    await expect(a.can(undefined as unknown as EzidUser, T1)).resolves.toBe(false);
  });

  it('a tenant listed twice grants nothing (ambiguous)', async () => {
    const u = demoUser([tenant(T1, [role('Member')], 'Pending'), tenant(T1, [role('Admin')])]);
    expect(await a.check(u, T1, { roles: ['Admin'] })).toMatchObject({ code: 'tenant_forbidden' });
  });

  it('match modes and prohibited lists through the public requirement shape', async () => {
    expect(await a.can(user, T1, { roles: { names: ['Admin', 'Owner'], match: 'all' } })).toBe(false);
    expect(await a.can(user, T1, { roles: { names: ['Admin'], prohibited: ['Admin'] } })).toBe(false);
    expect(await a.can(user, T1, { permissions: { names: ['Team View', 'Nope'], match: 'any' } })).toBe(true);
    expect(await a.can(user, T1, { roles: [] })).toBe(false);
    expect(await a.can(user, T1, { permissions: [] })).toBe(false);
    await expect(a.can(user, T1, { roles: 'Admin' as unknown as string[] })).rejects.toThrow(TypeError);
  });

  it('indexes a tenants array once', () => {
    const u = demoUser();
    expect(indexTenants(u.tenants)).toBe(indexTenants(u.tenants));
  });
});
