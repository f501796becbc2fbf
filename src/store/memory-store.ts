import { Injectable } from '@nestjs/common';
import { EzidStore, type EzidStoreHealth, type EzidStoreHitRecord } from './ezid-store';

/** Most keys (and expiring-set members) the in-memory store holds; the oldest key goes first. */
export const EZID_MEMORY_STORE_MAX_KEYS = 100_000;

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * The default `EzidStore`: this process only, no dependency. With it, every feature keeps its
 * per-process implementation (docs/scaling.md); it implements the store contract in memory, so that
 * code written against `EzidStore` also runs in one process (and is tested against both stores).
 * Bounded: at most `EZID_MEMORY_STORE_MAX_KEYS` keys, oldest evicted first.
 */
@Injectable()
export class EzidMemoryStore extends EzidStore {
  readonly shared = false;
  private readonly keys = new Map<string, Entry>();
  private readonly sets = new Map<string, Map<string, number>>();
  private readonly listeners = new Map<string, Set<(message: string) => void>>();
  private readonly since = new Date();

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  health(): EzidStoreHealth {
    return { kind: 'memory', status: 'up', since: this.since };
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async set(key: string, value: string, ttlMs: number, ifAbsent = false): Promise<boolean> {
    if (ifAbsent && this.live(key)) return false;
    this.keys.delete(key);
    this.keys.set(key, { value, expiresAt: this.now() + ttlMs });
    if (this.keys.size > EZID_MEMORY_STORE_MAX_KEYS)
      this.keys.delete(this.keys.keys().next().value as string);
    return true;
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<string | undefined> {
    const current = this.live(key);
    if (current) return current.value;
    await this.set(key, value, ttlMs);
    return undefined;
  }

  async replace(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.live(key)?.value !== expected) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  async delete(key: string, ifValue?: string): Promise<void> {
    if (ifValue === undefined || this.live(key)?.value === ifValue) this.keys.delete(key);
  }

  async hit(key: string, ttlMs: number, limit: number, blockMs: number): Promise<EzidStoreHitRecord> {
    const now = this.now();
    const blocked = this.live(`${key}:blocked`);
    if (blocked) {
      return {
        totalHits: Number(this.live(key)?.value ?? limit + 1),
        timeToExpire: secondsUntil(this.live(key)?.expiresAt ?? now, now),
        isBlocked: true,
        timeToBlockExpire: secondsUntil(blocked.expiresAt, now),
      };
    }
    const cur = this.live(key);
    const hits = (cur ? Number(cur.value) : 0) + 1;
    const expiresAt = cur ? cur.expiresAt : now + ttlMs;
    this.keys.set(key, { value: String(hits), expiresAt });
    if (hits > limit) {
      this.keys.set(`${key}:blocked`, { value: '1', expiresAt: now + blockMs });
      return {
        totalHits: hits,
        timeToExpire: secondsUntil(expiresAt, now),
        isBlocked: true,
        timeToBlockExpire: secondsUntil(now + blockMs, now),
      };
    }
    return {
      totalHits: hits,
      timeToExpire: secondsUntil(expiresAt, now),
      isBlocked: false,
      timeToBlockExpire: 0,
    };
  }

  async addExpiring(key: string, member: string, expiresAtMs: number): Promise<void> {
    let set = this.sets.get(key);
    if (!set) this.sets.set(key, (set = new Map()));
    const now = this.now();
    if (set.size >= EZID_MEMORY_STORE_MAX_KEYS) for (const [m, exp] of set) if (exp <= now) set.delete(m);
    if (set.size >= EZID_MEMORY_STORE_MAX_KEYS && !set.has(member))
      set.delete(set.keys().next().value as string);
    set.set(member, Math.max(expiresAtMs, set.get(member) ?? 0));
  }

  async hasExpiring(key: string, member: string): Promise<boolean> {
    return (this.sets.get(key)?.get(member) ?? 0) > this.now();
  }

  async readExpiring(key: string): Promise<Array<[string, number]>> {
    const now = this.now();
    return [...(this.sets.get(key) ?? [])].filter(([, exp]) => exp > now);
  }

  async publish(channel: string, message: string): Promise<void> {
    for (const l of this.listeners.get(channel) ?? []) l(message);
  }

  subscribe(channel: string, listener: (message: string) => void): void {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
  }

  onAvailable(listener: () => void): void {
    queueMicrotask(listener);
  }

  private live(key: string): Entry | undefined {
    const e = this.keys.get(key);
    if (e && e.expiresAt <= this.now()) {
      this.keys.delete(key);
      return undefined;
    }
    return e;
  }
}

function secondsUntil(atMs: number, now: number): number {
  return Math.max(0, Math.ceil((atMs - now) / 1000));
}
