import { ExpiringMap } from './expiring-map';

describe('ExpiringMap', () => {
  let now = 5_000;
  const clock = { now: () => now };

  it('forgets an entry after its TTL (monotonic clock, no sleeping)', () => {
    const m = new ExpiringMap<number>({ maxEntries: 10, ttlMs: 1000, clock });
    m.set('a', 1);
    now += 999;
    expect(m.get('a')).toBe(1);
    now += 1;
    expect(m.get('a')).toBeUndefined();
    expect(m.size).toBe(0);
  });

  it('when full evicts the oldest entry first, one at a time, and reports its age', () => {
    const ages: number[] = [];
    const m = new ExpiringMap<number>({ maxEntries: 3, ttlMs: 60_000, clock, onEvict: (a) => ages.push(a) });
    for (const k of ['a', 'b', 'c']) {
      m.set(k, 1);
      now += 10;
    }
    m.set('d', 1);
    expect(m.get('a')).toBeUndefined();
    expect(['b', 'c', 'd'].map((k) => m.get(k))).toEqual([1, 1, 1]);
    expect(ages).toEqual([30]);
    m.set('e', 1);
    expect(m.get('b')).toBeUndefined();
    expect(m.get('c')).toBe(1);
  });

  it('sweeps expired entries before evicting a live one', () => {
    const ages: number[] = [];
    const m = new ExpiringMap<number>({ maxEntries: 2, ttlMs: 100, clock, onEvict: (a) => ages.push(a) });
    m.set('a', 1);
    m.set('b', 1);
    now += 100;
    m.set('c', 1);
    m.set('d', 1);
    expect(ages).toEqual([]);
    expect(m.size).toBe(2);
  });

  it('re-setting or deleting a key keeps the bound and the order', () => {
    const m = new ExpiringMap<number>({ maxEntries: 2, ttlMs: 60_000, clock });
    m.set('a', 1);
    m.set('b', 2);
    m.set('a', 3); // now the newest
    m.set('c', 4); // evicts b, the oldest
    expect(m.get('b')).toBeUndefined();
    expect(m.get('a')).toBe(3);
    m.delete('a');
    m.set('d', 5);
    expect(m.get('c')).toBe(4);
    expect(m.size).toBe(2);
  });

  it('never holds more than maxEntries, and stays fast when full (no scan per insert)', () => {
    const m = new ExpiringMap<number>({ maxEntries: 50_000, ttlMs: 1e12, clock });
    const t0 = performance.now();
    for (let i = 0; i < 200_000; i++) {
      m.set(`k${i}`, i);
      if (i % 3 === 0) m.delete(`k${i - 1}`);
    }
    expect(m.size).toBeLessThanOrEqual(50_000);
    expect(m.get('k199999')).toBe(199_999);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
