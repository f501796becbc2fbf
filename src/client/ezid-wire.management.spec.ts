import { EzidApiError } from './ezid-api.error';
import {
  camelKey,
  camelKeys,
  mapConfig,
  mapMfaQrCode,
  mapOrganization,
  mapUserRecord,
  pickRole,
  toWireNewOrganization,
} from './ezid-wire.mapper';
import { callCostMs } from '../../test/support/cost';

describe('management wire mapping', () => {
  it('organizations: either white-list spelling, an array-wrapped update answer, PascalCase out', () => {
    expect(
      mapOrganization({ id: 'o1', name: 'a', WhiteListDomain: ['x.com'] }, 'e').whiteListDomains,
    ).toEqual(['x.com']);
    expect(mapOrganization([{ id: 'o1', Name: 'b', WhiteListDomains: null }], 'e')).toMatchObject({
      name: 'b',
      whiteListDomains: [],
      allowProfilesOutsideOrganization: false,
    });
    expect(toWireNewOrganization({ name: 'n', whiteListDomains: ['x.com'] })).toEqual({
      Name: 'n',
      WhiteListDomains: ['x.com'],
      AllowProfilesOutsideOrganization: false,
    });
  });

  it('organizations: is_active is a JSON boolean or absent; anything else is invalid_response', () => {
    const org = (isActive: unknown) => ({ id: 'o1', Name: 'o', is_active: isActive });
    expect(mapOrganization(org(true), 'organizations.get').isActive).toBe(true);
    expect(mapOrganization(org(false), 'organizations.get').isActive).toBe(false);
    expect(mapOrganization({ id: 'o1', Name: 'o' }, 'organizations.get').isActive).toBeUndefined();
    for (const v of ['true', 'false', '', null, 0, 1, {}, []]) {
      let err: unknown;
      try {
        mapOrganization(org(v), 'organizations.get');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(EzidApiError);
      expect(err).toMatchObject({ code: 'invalid_response', endpoint: 'organizations.get', status: 200 });
      expect((err as Error).message).toContain('is_active');
    }
  });

  it('user records: the empty organization id, role objects or ids, LastLoginAt, unset dates', () => {
    const u = mapUserRecord(
      {
        _id: 'u1',
        organization_id: '000000000000000000000000',
        roles: ['r1', { role_id: 'r2' }, 3],
        LastLoginAt: '2024-07-15T06:26:59.006Z',
        modified_at: '0001-01-01T00:00:00Z',
        groups: null,
        tenants: null,
      },
      'e',
    );
    expect(u).toMatchObject({
      id: 'u1',
      organizationId: undefined,
      roleIds: ['r1', 'r2'],
      groups: [],
      tenants: [],
    });
    expect(u.lastLoginAt?.toISOString()).toBe('2024-07-15T06:26:59.006Z');
    expect(u.modifiedAt).toBeUndefined();
  });

  it('roles: a single role or the whole list (picked by id or slug); missing -> invalid_response', () => {
    const list = [
      { id: 'a', name: 'A', slug: 'a', permission_id: null },
      { id: 'b', name: 'B', slug: 'b', permission_id: ['p'] },
    ];
    expect(pickRole(list, 'e', { slug: 'b' }).permissionIds).toEqual(['p']);
    expect(pickRole(list, 'e', { id: 'a', slug: 'zzz' }).permissionIds).toEqual([]);
    expect(pickRole({ id: 'c', name: 'C' }, 'e', { slug: 'c' }).id).toBe('c');
    expect(() => pickRole(list, 'roles.create', { slug: 'zzz' })).toThrow(EzidApiError);
  });

  it('config: a JSON-string branding schema is parsed, free-form keys camelCased, garbage dropped', () => {
    const c = mapConfig(
      {
        id: 'w',
        branding: { branding_schema: '{"color_config":{"primary_color":"#fff"}}' },
        localization: { iso_code: 'en' },
      },
      'e',
    );
    expect(c.branding.brandingSchema).toEqual({ colorConfig: { primaryColor: '#fff' } });
    expect(c.localization).toEqual({ isoCode: 'en' });
    expect(
      mapConfig({ id: 'w', branding: { branding_schema: '{oops' } }, 'e').branding.brandingSchema,
    ).toBeUndefined();
    expect(camelKeys({ LastLoginAt: 1, sub_heading: [{ x_y: 2 }] })).toEqual({
      lastLoginAt: 1,
      subHeading: [{ xY: 2 }],
    });
  });

  it('QR code: bare base64 accepted, non-PNG bytes refused', () => {
    const png = Buffer.from('89504e470d0a1a0a0000', 'hex');
    expect(mapMfaQrCode({ qr_code: png.toString('base64') }, 'e').png).toEqual(png);
    expect(() => mapMfaQrCode({ qr_code: Buffer.from('GIF89a').toString('base64') }, 'mfa.qrCode')).toThrow(
      EzidApiError,
    );
  });

  it('camelCases keys in linear time (1 MiB of underscores not followed by a letter)', () => {
    const key = `${'_'.repeat(1024 * 1024)}!`;
    let out: string | undefined;
    expect(callCostMs(() => (out = camelKey(key)), 500)).toBeLessThan(500);
    expect(out).toBe(key);
    expect(camelKey('iso_code')).toBe('isoCode');
    expect(camelKey('a__!_b')).toBe('a__!B');
  });
});
