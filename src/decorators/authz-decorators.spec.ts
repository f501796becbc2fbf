import { Reflector } from '@nestjs/core';
import { PERMISSIONS_METADATA, ROLES_METADATA } from '../common/ezid-metadata';
import { Permissions } from './permissions.decorator';
import { Roles } from './roles.decorator';

describe('@Roles() / @Permissions()', () => {
  class C {
    @Roles('Admin', 'Owner') a() {}
    @Roles('Admin', { match: 'all', prohibited: ['Guest'], merge: true }) b() {}
    @Permissions('Team View') c() {}
    @Roles() d() {}
  }
  const r = new Reflector();

  it('store frozen, defaulted rules under namespaced keys (never a bare "roles")', () => {
    expect(r.get(ROLES_METADATA, C.prototype.a)).toEqual({
      names: ['Admin', 'Owner'],
      match: 'any',
      prohibited: [],
      merge: false,
    });
    expect(r.get(ROLES_METADATA, C.prototype.b)).toEqual({
      names: ['Admin'],
      match: 'all',
      prohibited: ['Guest'],
      merge: true,
    });
    expect(r.get(PERMISSIONS_METADATA, C.prototype.c)).toMatchObject({ names: ['Team View'], match: 'all' });
    expect(r.get(ROLES_METADATA, C.prototype.d)).toMatchObject({ names: [] });
    expect(Object.isFrozen(r.get(ROLES_METADATA, C.prototype.a))).toBe(true);
    expect(Reflect.getMetadata('roles', C.prototype.a)).toBeUndefined();
    expect(Reflect.getMetadata('permissions', C.prototype.c)).toBeUndefined();
    expect(ROLES_METADATA.KEY).not.toBe(PERMISSIONS_METADATA.KEY);
  });

  it('refuse malformed names when the class is defined', () => {
    expect(() => Roles('')).toThrow(TypeError);
    expect(() => Roles(undefined as unknown as string)).toThrow(TypeError);
    expect(() => Permissions('a', { match: 'most' as 'all' })).toThrow(TypeError);
  });

  it('refuse unknown option keys when the class is defined (a typo never widens access)', () => {
    const bad = (o: object) => o as unknown as { match: 'any' };
    expect(() => Roles('Member', bad({ prohibitted: ['Suspended'] }))).toThrow(
      /@Roles\(\) options has an unknown key "prohibitted"; the known keys are match, prohibited, merge/,
    );
    expect(() => Permissions('Team View', bad({ merg: true }))).toThrow(
      /@Permissions\(\) .*unknown key "merg"/,
    );
    expect(() => Roles('Member', bad({ [Symbol('x')]: 1 }))).toThrow(TypeError);
    expect(() => Roles('Member', bad({ merge: 'true' }))).toThrow(/merge must be a boolean/);
    expect(() => Roles('Member', { match: 'any', prohibited: ['Suspended'], merge: true })).not.toThrow();
    const define = () => {
      class C2 {
        @Roles('Member', bad({ prohibitted: ['Suspended'] })) m() {}
      }
      return C2;
    };
    expect(define).toThrow(TypeError);
  });
});
