/** Options of `BoundedCache` beyond the entry count. */
export interface BoundedCacheOptions<V> {
  /** Bound on the sum of `sizeOf(value)` over the entries held. Default: unbounded. */
  maxBytes?: number;
  /** The bytes an entry is accounted for (its key included). Required with `maxBytes`. */
  sizeOf?: (value: V) => number;
}

/**
 * A size-bounded cache with constant-time eviction: two generations of `Map`, each holding at most
 * half of `maxEntries` (and, with `maxBytes`, half of the bytes). Inserts go to the young generation;
 * when it is full it becomes the old one and the previous old generation is dropped whole. A hit in
 * the old generation moves the entry to the young one, so entries in use survive a rotation. Deleting
 * the first key of one big `Map` instead costs O(deleted entries) per insert once full (V8 keeps
 * deleted slots at the front until it rehashes), which the verified-token benchmark measured at
 * ~8 µs per insert. An entry larger than half of `maxBytes` is not stored.
 */
export class BoundedCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private youngBytes = 0;
  private oldBytes = 0;
  private readonly half: number;
  private readonly halfBytes: number;
  private readonly sizeOf: (value: V) => number;

  constructor(
    readonly maxEntries: number,
    options: BoundedCacheOptions<V> = {},
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 2)
      throw new RangeError('maxEntries must be an integer >= 2');
    const { maxBytes = Infinity, sizeOf } = options;
    if (maxBytes !== Infinity && (!(maxBytes > 0) || !sizeOf))
      throw new RangeError('maxBytes must be positive and needs sizeOf');
    this.half = Math.floor(maxEntries / 2);
    this.halfBytes = maxBytes / 2;
    this.sizeOf = sizeOf ?? (() => 0);
  }

  /** Entries held now; never more than `maxEntries`. */
  get size(): number {
    return this.young.size + this.old.size;
  }

  /** Bytes accounted for the entries held now; never more than `maxBytes`. */
  get bytes(): number {
    return this.youngBytes + this.oldBytes;
  }

  get(key: K): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const aged = this.old.get(key);
    if (aged !== undefined) {
      this.old.delete(key);
      this.oldBytes -= this.sizeOf(aged);
      this.insert(key, aged);
    }
    return aged;
  }

  set(key: K, value: V): void {
    this.delete(key);
    this.insert(key, value);
  }

  delete(key: K): void {
    const y = this.young.get(key);
    if (y !== undefined) {
      this.young.delete(key);
      this.youngBytes -= this.sizeOf(y);
    }
    const o = this.old.get(key);
    if (o !== undefined) {
      this.old.delete(key);
      this.oldBytes -= this.sizeOf(o);
    }
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
    this.youngBytes = 0;
    this.oldBytes = 0;
  }

  private insert(key: K, value: V): void {
    const bytes = this.sizeOf(value);
    if (bytes > this.halfBytes) return;
    if (this.young.size >= this.half || this.youngBytes + bytes > this.halfBytes) {
      this.old = this.young;
      this.oldBytes = this.youngBytes;
      this.young = new Map();
      this.youngBytes = 0;
    }
    this.young.set(key, value);
    this.youngBytes += bytes;
  }
}
