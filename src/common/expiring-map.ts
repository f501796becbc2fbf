import type { EzidMonotonicClock } from './monotonic-clock';

interface Slot<V> {
  readonly key: string;
  readonly value: V;
  /** Monotonic ms when it was set. */
  readonly at: number;
  live: boolean;
}

/** Options of `ExpiringMap`. */
export interface ExpiringMapOptions {
  /** Most entries held at once. */
  readonly maxEntries: number;
  /** How long an entry lives after it is set, ms. */
  readonly ttlMs: number;
  readonly clock: EzidMonotonicClock;
  /** Told the age (ms) of every live entry evicted before its TTL because the map was full. */
  readonly onEvict?: (ageMs: number) => void;
}

/**
 * A bounded map whose entries all live one fixed time (`ttlMs`, on a monotonic clock), kept in a FIFO
 * queue: since every entry has the same TTL, the oldest entry is always the first to expire. Expired
 * entries are dropped from the front on every `set`; when the map is full the **oldest** live entry is
 * evicted (never a newer one, never a whole generation at once) and reported through `onEvict`.
 * `get`, `set` and `delete` are O(1) (amortised), also when full.
 */
export class ExpiringMap<V> {
  private readonly map = new Map<string, Slot<V>>();
  private queue: Slot<V>[] = [];
  private head = 0;

  constructor(private readonly o: ExpiringMapOptions) {
    if (!Number.isInteger(o.maxEntries) || o.maxEntries < 1) throw new RangeError('maxEntries must be >= 1');
    if (!(o.ttlMs >= 0)) throw new RangeError('ttlMs must be >= 0');
  }

  /** Live entries held (expired ones are not counted once swept). */
  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    const slot = this.map.get(key);
    if (!slot) return undefined;
    if (this.o.clock.now() - slot.at >= this.o.ttlMs) {
      this.drop(slot);
      return undefined;
    }
    return slot.value;
  }

  set(key: string, value: V): void {
    const now = this.o.clock.now();
    this.delete(key);
    this.sweep(now);
    while (this.map.size >= this.o.maxEntries) {
      const oldest = this.front()!;
      this.drop(oldest);
      this.o.onEvict?.(now - oldest.at);
    }
    const slot: Slot<V> = { key, value, at: now, live: true };
    this.map.set(key, slot);
    this.queue.push(slot);
    this.compact();
  }

  delete(key: string): void {
    const slot = this.map.get(key);
    if (slot) this.drop(slot);
  }

  private drop(slot: Slot<V>): void {
    slot.live = false;
    if (this.map.get(slot.key) === slot) this.map.delete(slot.key);
  }

  /** The oldest live slot (dead slots at the front are skipped for good). */
  private front(): Slot<V> | undefined {
    while (this.head < this.queue.length && !this.queue[this.head].live) this.head++;
    return this.queue[this.head];
  }

  private sweep(now: number): void {
    for (let s = this.front(); s && now - s.at >= this.o.ttlMs; s = this.front()) this.drop(s);
  }

  /** Keeps the queue within a constant factor of the live entries. */
  private compact(): void {
    const held = this.queue.length - this.head;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    } else if (held > 2 * Math.max(this.map.size, 1024)) {
      this.queue = this.queue.slice(this.head).filter((s) => s.live);
      this.head = 0;
    }
  }
}
