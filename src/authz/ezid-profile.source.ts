import { Inject, Injectable, Optional } from '@nestjs/common';
import { EzidHttpException } from '../common/ezid-http.exception';
import { SYSTEM_MONOTONIC_CLOCK } from '../common/monotonic-clock';
import { InjectEzidOptions } from '../ezid.module-definition';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import type { EzidTenant, EzidUser } from '../interfaces/ezid-user.interface';
import { EzidStore } from '../store/ezid-store';
import { EzidSharedProfiles } from './shared-profile-cache';

/**
 * Where a user's tenants come from when `profile.source` is `'api'`: by default the EZiD
 * user-organizations endpoint through `EzidService`. Replace it with `overrideProvider(EZID_PROFILE_SOURCE)`
 * in tests, or provide your own (a directory service, a database) under this token.
 */
export interface EzidProfileSource {
  /** The user's tenants, already mapped to `EzidTenant`. Rejects when the source cannot be reached. */
  getUserTenants(userId: string): Promise<readonly EzidTenant[]>;
}

/** Injection token of the `EzidProfileSource` used with `profile.source: 'api'`. */
export const EZID_PROFILE_SOURCE = Symbol.for('nestjs-ezid:profile-source');

/** Seconds a client is told to wait (`Retry-After`) when the profile API cannot be reached. */
export const PROFILE_RETRY_AFTER_SEC = 5;

/** The 503 of an unreachable profile source: never 401/403 (the user may well be allowed), never 500. */
export function profileUnavailable(): EzidHttpException {
  return new EzidHttpException(
    503,
    'idp_unavailable',
    'The identity provider could not be reached to read your tenants. Try again shortly.',
    { 'Retry-After': String(PROFILE_RETRY_AFTER_SEC) },
  );
}

interface CacheEntry {
  readonly tenants: readonly EzidTenant[];
  readonly expiresAt: number;
}

/** One fetch in flight for a user; replaced (so it no longer counts) when the user is invalidated. */
interface Flight {
  readonly promise: Promise<readonly EzidTenant[]>;
}

/**
 * A per-process cache of users' tenants: a TTL counted from the start of the fetch, a bound on the
 * number of users (least recently stored first out), and one in-flight fetch per user however many
 * requests wait for it. Failures are not cached. `invalidate()` is final: a fetch that started before
 * it never populates the cache, and requests after it start a fresh fetch. Times come from a
 * monotonic clock by default.
 */
export class EzidProfileCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Flight>();
  /** The cache shared by every instance, when the store is shared (`store: { redis }`). */
  private readonly shared?: EzidSharedProfiles;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = () => SYSTEM_MONOTONIC_CLOCK.now(),
    shared?: { readonly store: EzidStore; readonly lockTtlMs: number },
  ) {
    if (shared?.store.shared) {
      this.shared = new EzidSharedProfiles(shared.store, ttlMs, shared.lockTtlMs, (userId) =>
        this.forget(userId),
      );
    }
  }

  /** Entries currently held (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** The cached tenants when fresh (synchronously), else a promise of one shared fetch. */
  get(
    userId: string,
    load: (userId: string) => Promise<readonly EzidTenant[]>,
  ): readonly EzidTenant[] | Promise<readonly EzidTenant[]> {
    const hit = this.entries.get(userId);
    if (hit) {
      if (hit.expiresAt > this.now()) return hit.tenants;
      this.entries.delete(userId);
    }
    const pending = this.inflight.get(userId);
    if (pending) return pending.promise;
    const flight: { promise?: Promise<readonly EzidTenant[]> } = {};
    this.inflight.set(userId, flight as Flight);
    flight.promise = this.fetch(userId, load, flight as Flight);
    return flight.promise;
  }

  /**
   * Forgets one user (after a membership change) or everyone. A fetch already in flight for them
   * is disowned: its result is not cached, and the next request fetches again.
   */
  invalidate(userId?: string): void {
    this.forget(userId);
    this.shared?.invalidate(userId);
  }

  /** `invalidate()` in this process only. */
  private forget(userId?: string): void {
    if (userId === undefined) {
      this.entries.clear();
      this.inflight.clear();
    } else {
      this.entries.delete(userId);
      this.inflight.delete(userId);
    }
  }

  private async fetch(
    userId: string,
    load: (userId: string) => Promise<readonly EzidTenant[]>,
    flight: Flight,
  ): Promise<readonly EzidTenant[]> {
    const startedAt = this.now();
    try {
      let tenants: readonly EzidTenant[];
      try {
        tenants = this.shared ? await this.shared.load(userId, load) : await load(userId);
      } catch {
        // The cause (an EzidApiError, a network error) is the source's to log; clients get a stable 503.
        throw profileUnavailable();
      }
      if (!Array.isArray(tenants)) throw profileUnavailable();
      const frozen = Object.freeze([...tenants]);
      // Only the user's current flight may populate the cache: invalidate() disowns older ones.
      if (this.inflight.get(userId) === flight) {
        this.entries.delete(userId);
        this.entries.set(userId, { tenants: frozen, expiresAt: startedAt + this.ttlMs });
        while (this.entries.size > this.maxEntries) {
          this.entries.delete(this.entries.keys().next().value as string);
        }
      }
      return frozen;
    } finally {
      if (this.inflight.get(userId) === flight) this.inflight.delete(userId);
    }
  }
}

const NO_TENANTS: readonly EzidTenant[] = Object.freeze([]);

/**
 * Gives the guard and `EzidAuthorizer` a user's tenants: the token's `tenants` (synchronously) with
 * `profile.source: 'token'`, or the cached profile API result with `'api'`. Inject it to call
 * `cache.invalidate(userId)` after a membership change.
 */
@Injectable()
export class EzidProfileStore {
  readonly source: 'token' | 'api';
  readonly cache: EzidProfileCache;

  constructor(
    @InjectEzidOptions() options: ResolvedEzidOptions,
    @Optional() @Inject(EZID_PROFILE_SOURCE) private readonly api?: EzidProfileSource,
    @Optional() store?: EzidStore,
  ) {
    this.source = options.profile.source;
    this.cache = new EzidProfileCache(
      options.profile.cacheTtlSec * 1000,
      options.profile.cacheMaxEntries,
      undefined,
      store && options.profile.source === 'api'
        ? { store, lockTtlMs: options.http.timeoutMs + 5_000 }
        : undefined,
    );
  }

  /** The user's tenants; a promise only while an API fetch is needed. */
  tenantsOf(user: EzidUser | undefined): readonly EzidTenant[] | Promise<readonly EzidTenant[]> {
    if (typeof user !== 'object' || user === null) return NO_TENANTS;
    if (this.source === 'token') return Array.isArray(user.tenants) ? user.tenants : NO_TENANTS;
    const id = user.id;
    if (typeof id !== 'string' || id.length === 0) return NO_TENANTS;
    const api = this.api;
    if (!api) return Promise.reject(profileUnavailable());
    return this.cache.get(id, (userId) => api.getUserTenants(userId));
  }
}
