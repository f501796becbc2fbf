import { Logger } from '@nestjs/common';
import * as crypto from 'node:crypto';
import type { EzidTenant } from '../interfaces/ezid-user.interface';
import type { EzidStore } from '../store/ezid-store';
import { tenantsFromOrganizations } from './ezid-api-profile.source';

const CHANNEL = 'profile';
const GENERATION_KEY = 'profile:generation';
/** The generation key outlives any profile entry (re-set on every invalidate-all). */
const GENERATION_TTL_MS = 30 * 86_400_000;

/**
 * The `profile.source: 'api'` cache shared by every instance (docs/scaling.md), behind each
 * instance's local cache (`EzidProfileCache`, read on the request path without I/O):
 * - a local miss reads the store; a store miss fetches from the source under a per-user lock, so
 *   one instance fetches while the others wait for its result (one EZiD call for all of them);
 * - `invalidate(userId)` moves the user's version on (entries carry the version read before their
 *   fetch, so one fetched before the invalidation is never served after it), deletes the entry and
 *   tells every instance to drop its local copy;
 *   `invalidate()` moves every instance to a new generation of keys (old entries expire unread);
 * - after a reconnect every instance drops its local copies (invalidations may have been missed).
 * Store down: the source is called directly, as with one process.
 */
export class EzidSharedProfiles {
  private readonly logger = new Logger('EzidStore');
  private readonly waiters = new Map<string, Set<() => void>>();
  private generation = '0';
  /** This instance's invalidations, in order: a load waits for them to reach the store. */
  private invalidating: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: EzidStore,
    private readonly ttlMs: number,
    private readonly lockTtlMs: number,
    /** Drops local copies: one user's, or everyone's. */
    private readonly dropLocal: (userId?: string) => void,
  ) {
    store.subscribe(CHANNEL, (message) => this.receive(message));
    store.onAvailable(() => void this.resync());
  }

  /** The user's tenants from the store, or from `load` under the store's per-user lock. */
  async load(
    userId: string,
    load: (userId: string) => Promise<readonly EzidTenant[]>,
  ): Promise<readonly EzidTenant[]> {
    await this.invalidating; // this instance's invalidations reach the store before it reads again
    const key = this.key(userId);
    const version = await this.version(userId).catch(() => undefined);
    if (version === undefined) return load(userId); // store unavailable: this process only
    const hit = await this.read(key, version).catch(() => undefined);
    if (hit) return hit;
    const lockKey = `profile:lock:${this.generation}:${userId}`;
    const lockValue = crypto.randomUUID();
    const locked = await this.store.set(lockKey, lockValue, this.lockTtlMs, true).catch(() => null);
    if (locked === false) {
      this.logger.debug({ event: 'profile_fetch_joined' });
      const theirs = await this.awaitOther(userId, key).catch(() => undefined);
      if (theirs) return theirs;
    }
    try {
      const tenants = await load(userId);
      if (locked === true && Array.isArray(tenants)) {
        // Tagged with the version read before the fetch: if the user was invalidated meanwhile (here or
        // on another instance), the version moved on and every reader ignores this entry.
        const entry = JSON.stringify({ v: version, t: tenants });
        await this.store.set(key, entry, this.ttlMs).catch(() => undefined);
      }
      return tenants;
    } finally {
      if (locked === true) {
        await this.store.delete(lockKey, lockValue).catch(() => undefined);
        await this.store.publish(CHANNEL, `f:${userId}`).catch(() => undefined);
      }
    }
  }

  /** Forgets one user (or everyone) in every instance. */
  invalidate(userId?: string): void {
    const shareIt = async (): Promise<void> => {
      if (userId === undefined) {
        const generation = crypto.randomUUID();
        this.generation = generation;
        await this.store.set(GENERATION_KEY, generation, GENERATION_TTL_MS);
        await this.store.publish(CHANNEL, `*:${generation}`);
      } else {
        await this.store.set(this.versionKey(userId), crypto.randomUUID(), 2 * (this.ttlMs + this.lockTtlMs));
        await this.store.delete(this.key(userId));
        await this.store.publish(CHANNEL, `u:${userId}`);
      }
    };
    this.invalidating = this.invalidating
      .then(shareIt)
      .catch(() => this.logger.warn({ event: 'profile_invalidation_not_shared' }));
  }

  /** The user's entry version: moved on by every invalidation; `0` until the first. */
  private async version(userId: string): Promise<string> {
    return (await this.store.get(this.versionKey(userId))) ?? '0';
  }

  private versionKey(userId: string): string {
    return `profile:version:${this.generation}:${userId}`;
  }

  /** The stored entry when it carries `version`, else `undefined`. */
  private async read(key: string, version: string): Promise<readonly EzidTenant[] | undefined> {
    const raw = await this.store.get(key);
    if (raw === undefined) return undefined;
    try {
      const entry = JSON.parse(raw) as { v?: unknown; t?: unknown };
      return entry.v === version ? parseTenants(entry.t) : undefined;
    } catch {
      return undefined;
    }
  }

  private key(userId: string): string {
    return `profile:${this.generation}:${userId}`;
  }

  private receive(message: string): void {
    const kind = message.slice(0, 2);
    const rest = message.slice(2);
    if (kind === 'f:') for (const w of this.waiters.get(rest) ?? []) w();
    else if (kind === 'u:') this.dropLocal(rest);
    else if (kind === '*:' && rest.length > 0) {
      this.generation = rest;
      this.dropLocal();
    }
  }

  /** Waits (at most the lock's lifetime) for the instance fetching `userId`, then reads its result. */
  private async awaitOther(userId: string, key: string): Promise<readonly EzidTenant[] | undefined> {
    let wake!: () => void;
    const woken = new Promise<void>((r) => (wake = r));
    let set = this.waiters.get(userId);
    if (!set) this.waiters.set(userId, (set = new Set()));
    set.add(wake);
    let timer: NodeJS.Timeout | undefined;
    try {
      const now = await this.read(key, await this.version(userId));
      if (now) return now;
      await Promise.race([woken, new Promise<void>((r) => (timer = setTimeout(r, this.lockTtlMs)))]);
      return await this.read(key, await this.version(userId));
    } finally {
      clearTimeout(timer);
      set.delete(wake);
      if (set.size === 0) this.waiters.delete(userId);
    }
  }

  private async resync(): Promise<void> {
    try {
      const generation = await this.store.get(GENERATION_KEY);
      if (generation) this.generation = generation;
    } catch {
      // keep the current generation
    }
    this.dropLocal();
  }
}

/** Tenants as the store keeps them (`EzidTenant[]`), re-validated; `undefined` when malformed. */
function parseTenants(value: unknown): readonly EzidTenant[] | undefined {
  try {
    return tenantsFromOrganizations(value);
  } catch {
    return undefined;
  }
}
