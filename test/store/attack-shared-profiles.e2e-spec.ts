// Found by the attack pass on the shared store (issue 15); kept as regression tests.
// Attack pass on the shared profile cache: invalidate(userId) after a membership change must be
// final (docs: "a fetch that started before it never populates the cache"), across instances too.
import { EzidProfileStore } from '../../src/authz/ezid-profile.source';
import type { EzidTenant } from '../../src/interfaces/ezid-user.interface';
import { createGate, until } from '../callback/callback-test-app';
import { describeWithRedis } from '../support/redis-server';
import { useRedisCallbackWorld } from './redis-callback-world';

const ADMIN: readonly EzidTenant[] = [
  {
    id: 'org1',
    name: 'org1',
    status: 'Verified',
    roles: [{ id: 'r1', name: 'Admin', permissions: ['Billing Manage'] }],
  },
];
const NONE: readonly EzidTenant[] = [];

describeWithRedis('attack: shared profile cache invalidation', () => {
  const world = useRedisCallbackWorld();

  async function start(prefix: string): Promise<EzidProfileStore> {
    const t = await world.start({
      profile: { source: 'api' },
      store: { redis: world.redis.url, keyPrefix: prefix },
    });
    return t.app.get(EzidProfileStore);
  }

  it('control: a profile fetched on A is served to B from the store (one fetch)', async () => {
    const a = await start('ctl:');
    const b = await start('ctl:');
    expect(await a.cache.get('u-ctl', async () => ADMIN)).toEqual(ADMIN);
    let bLoads = 0;
    const onB = await b.cache.get('u-ctl', async () => {
      bLoads++;
      return NONE;
    });
    expect(onB).toEqual(ADMIN);
    expect(bLoads).toBe(0);
  });

  it('invalidate(user) on B while A is fetching the old membership: no instance serves the old membership afterwards', async () => {
    const a = await start('x1:');
    const b = await start('x1:');
    const gate = createGate();
    let started!: () => void;
    const fetching = new Promise<void>((r) => (started = r));
    // A starts fetching the user's tenants (EZiD still says Admin).
    const onA = a.cache.get('u1', async () => {
      started();
      await gate.promise;
      return ADMIN;
    });
    await fetching;
    // The membership is removed at EZiD and the app invalidates the user, on instance B.
    b.cache.invalidate('u1');
    // B's invalidation (delete, then publish) has reached A once A disowned its flight on the message.
    await until(() => !(a.cache as unknown as { inflight: Map<string, unknown> }).inflight.has('u1'));
    gate.open();
    await onA;
    // After the invalidation every instance must see the new membership (EZiD now says none).
    let loads = 0;
    const now = async (): Promise<readonly EzidTenant[]> => {
      loads++;
      return NONE;
    };
    const seenByB = await b.cache.get('u1', now);
    const seenByA = await a.cache.get('u1', now);
    expect({ seenByA, seenByB }).toEqual({ seenByA: NONE, seenByB: NONE });
    expect(loads).toBe(1); // B fetched the new membership once; A read it from the store
  });

  it('invalidate(user) on the same instance during its own fetch is final with Redis too', async () => {
    const a = await start('x2:');
    const gate = createGate();
    let started!: () => void;
    const fetching = new Promise<void>((r) => (started = r));
    const first = a.cache.get('u2', async () => {
      started();
      await gate.promise;
      return ADMIN;
    });
    await fetching;
    a.cache.invalidate('u2');
    gate.open();
    await first;
    const after = await a.cache.get('u2', async () => NONE);
    expect(after).toEqual(NONE);
  });
});
