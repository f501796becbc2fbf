import { BoundedCache } from './bounded-cache';

describe('BoundedCache', () => {
  it('never holds more than maxEntries, whatever is inserted', () => {
    const cache = new BoundedCache<number, number>(100);
    for (let i = 0; i < 10_000; i++) {
      cache.set(i, i);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.size).toBeGreaterThanOrEqual(50);
  });

  it('keeps the most recent entries and drops the oldest generation whole', () => {
    const cache = new BoundedCache<string, number>(4);
    for (const k of ['a', 'b', 'c', 'd', 'e']) cache.set(k, 1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('e')).toBe(1);
  });

  it('moves an entry that is used to the young generation, so it survives the next rotation', () => {
    const cache = new BoundedCache<string, number>(4);
    cache.set('hot', 1);
    cache.set('x', 1); // young full: {hot, x}
    cache.set('y', 1); // rotation: old {hot, x}, young {y}
    expect(cache.get('hot')).toBe(1); // promoted: young {y, hot}
    cache.set('z', 1); // rotation: old {y, hot}, young {z}
    cache.set('w', 1); // young {z, w}
    expect(cache.get('hot')).toBe(1);
    expect(cache.get('x')).toBeUndefined();
    expect(cache.size).toBeLessThanOrEqual(4);
  });

  it('delete removes from both generations; overwriting keeps one copy', () => {
    const cache = new BoundedCache<string, number>(4);
    cache.set('a', 1);
    cache.set('b', 1);
    cache.set('c', 1); // old {a, b}
    cache.set('a', 2); // moved to young with the new value
    expect(cache.get('a')).toBe(2);
    expect(cache.size).toBe(3);
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
    expect(() => new BoundedCache(1)).toThrow(RangeError);
  });

  it('with maxBytes: never accounts more than maxBytes, keeps accounting exact across hits and deletes', () => {
    const cache = new BoundedCache<number, { bytes: number }>(1000, {
      maxBytes: 10_000,
      sizeOf: (v) => v.bytes,
    });
    for (let i = 0; i < 5000; i++) {
      cache.set(i, { bytes: 1 + ((i * 37) % 900) });
      if (i % 7 === 0) cache.get(i - 3);
      if (i % 11 === 0) cache.delete(i - 5);
      expect(cache.bytes).toBeLessThanOrEqual(10_000);
    }
    expect(cache.bytes).toBeGreaterThan(0);
    for (let i = 0; i < 5000; i++) cache.delete(i);
    expect([cache.size, cache.bytes]).toEqual([0, 0]);
    // An entry larger than half of maxBytes is not stored.
    cache.set(-1, { bytes: 6000 });
    expect(cache.get(-1)).toBeUndefined();
    expect(() => new BoundedCache(10, { maxBytes: 100 })).toThrow(RangeError);
  });
});
