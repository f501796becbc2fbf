import { T1, role, tenant } from '../../test/authz/unit-helpers';
import { EzidHttpException } from '../common/ezid-http.exception';
import type { EzidTenant } from '../interfaces/ezid-user.interface';
import { organizationStatus, tenantsFromOrganizations } from './ezid-api-profile.source';
import { EzidProfileCache } from './ezid-profile.source';

describe('EzidProfileCache', () => {
  const tenants = [tenant(T1, [role('Admin')])];

  it('serves a fresh entry synchronously, refetches after the TTL', async () => {
    let now = 1000;
    const cache = new EzidProfileCache(60_000, 10, () => now);
    const load = jest.fn(async () => tenants);
    expect(await cache.get('u1', load)).toEqual(tenants);
    expect(Array.isArray(cache.get('u1', load))).toBe(true); // not a promise
    now += 60_001;
    expect(cache.get('u1', load)).toBeInstanceOf(Promise);
    await cache.get('u1', load);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('shares one in-flight fetch per user', async () => {
    const cache = new EzidProfileCache(60_000, 10);
    let release!: (t: EzidTenant[]) => void;
    const load = jest.fn(() => new Promise<EzidTenant[]>((r) => (release = r)));
    const all = Promise.all([cache.get('u1', load), cache.get('u1', load), cache.get('u1', load)]);
    release(tenants);
    await all;
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('is bounded: the least recently stored user goes first', async () => {
    const cache = new EzidProfileCache(60_000, 3);
    const load = jest.fn(async () => tenants);
    for (const u of ['a', 'b', 'c', 'd', 'e']) await cache.get(u, load);
    expect(cache.size).toBe(3);
    expect(Array.isArray(cache.get('e', load))).toBe(true);
    expect(cache.get('a', load)).toBeInstanceOf(Promise);
  });

  it('does not cache failures; a failure is a 503 without the cause', async () => {
    const cache = new EzidProfileCache(60_000, 10);
    const err = await Promise.resolve(
      cache.get('u1', async () => {
        throw new Error('connect ECONNREFUSED 10.0.0.1:443');
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EzidHttpException);
    expect((err as EzidHttpException).getStatus()).toBe(503);
    expect(JSON.stringify((err as EzidHttpException).getResponse())).not.toContain('ECONNREFUSED');
    expect((err as EzidHttpException).headers['Retry-After']).toBe('5');
    expect(await cache.get('u1', async () => tenants)).toEqual(tenants);
  });

  it('counts the TTL from the start of the fetch, not its end', async () => {
    let now = 1000;
    const cache = new EzidProfileCache(60_000, 10, () => now);
    const load = jest.fn(async () => {
      now += 50_000; // a slow source
      return tenants;
    });
    await cache.get('u1', load);
    now += 10_000; // 60 s after the fetch started, 10 s after it ended
    expect(cache.get('u1', load)).toBeInstanceOf(Promise);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('invalidate() during a fetch: the fetch does not populate the cache; later callers fetch again', async () => {
    const cache = new EzidProfileCache(60_000, 10);
    let release!: (t: EzidTenant[]) => void;
    const slow = jest.fn(() => new Promise<EzidTenant[]>((r) => (release = r)));
    const before = cache.get('u1', slow);
    cache.invalidate('u1');
    const fresh = jest.fn(async () => [] as EzidTenant[]);
    expect(await cache.get('u1', fresh)).toEqual([]);
    release(tenants);
    expect(await before).toEqual(tenants);
    expect(cache.get('u1', fresh)).toEqual([]);
    expect(fresh).toHaveBeenCalledTimes(1);
  });

  it('invalidate() forgets one user or everyone', async () => {
    const cache = new EzidProfileCache(60_000, 10);
    await cache.get('a', async () => tenants);
    await cache.get('b', async () => tenants);
    cache.invalidate('a');
    expect(cache.size).toBe(1);
    cache.invalidate();
    expect(cache.size).toBe(0);
  });
});

describe('tenantsFromOrganizations (ezid-api.md §2.9.9)', () => {
  it('maps the documented sample', () => {
    const body = {
      id: 'u',
      email_id: 'a@b.c',
      organizations: [
        {
          id: T1,
          Name: 'test0121',
          WhiteListDomains: null,
          roles: [{ role_id: 'r1', role_name: 'Admin', permissions: ['Team View', 'Team Manage'] }],
          is_active: true,
          status: 'active',
        },
      ],
    };
    expect(tenantsFromOrganizations(body)).toEqual([
      {
        id: T1,
        name: 'test0121',
        status: 'Verified',
        roles: [{ id: 'r1', name: 'Admin', permissions: ['Team View', 'Team Manage'] }],
      },
    ]);
  });

  it("maps EzidService.users.getOrganizations()'s domain shape (camelCase, isActive)", () => {
    const domain = {
      userId: 'u',
      organizations: [
        {
          id: T1,
          name: 'org1',
          whiteListDomains: [],
          isActive: true,
          status: 'active',
          roles: [{ id: 'r', name: 'Admin', permissions: [] }],
        },
        { id: 'x2', name: 'org2', isActive: false, status: 'active', roles: [] },
      ],
    };
    expect(tenantsFromOrganizations(domain)).toEqual([
      { id: T1, name: 'org1', status: 'Verified', roles: [{ id: 'r', name: 'Admin', permissions: [] }] },
      { id: 'x2', name: 'org2', status: 'active', roles: [] },
    ]);
  });

  it('status mapping is exact', () => {
    expect(organizationStatus({ status: 'Verified' })).toBe('Verified');
    expect(organizationStatus({ status: 'active', is_active: true })).toBe('Verified');
    expect(organizationStatus({ status: 'active' })).toBe('active');
    expect(organizationStatus({ status: 'active', is_active: false })).toBe('active');
    expect(organizationStatus({ status: 'Active', is_active: true })).toBe('Active');
    expect(organizationStatus({ status: 'inactive', is_active: true })).toBe('inactive');
    expect(organizationStatus({})).toBe('');
  });

  it.each([false, 'false', 'true', 0, 1, null, 'yes'])(
    'is_active %p is not true: neither "active" nor "Verified" becomes verified',
    (flag) => {
      expect(organizationStatus({ status: 'active', is_active: flag })).not.toBe('Verified');
      expect(organizationStatus({ status: 'Verified', is_active: flag })).toBe('inactive');
      expect(organizationStatus({ status: 'Verified', isActive: flag })).toBe('inactive');
    },
  );

  it('drops malformed entries and permissions; rejects a body without organizations', () => {
    expect(
      tenantsFromOrganizations({
        organizations: [
          null,
          1,
          { Name: 'no id' },
          { id: T1, status: 'active', is_active: true, roles: [null, { role_name: 'A', permissions: 'x' }] },
        ],
      }),
    ).toEqual([{ id: T1, name: '', status: 'Verified', roles: [{ id: '', name: 'A', permissions: [] }] }]);
    expect(() => tenantsFromOrganizations({ organizations: 'nope' })).toThrow(TypeError);
    expect(() => tenantsFromOrganizations(null)).toThrow(TypeError);
  });
});
