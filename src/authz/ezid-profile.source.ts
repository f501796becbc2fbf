import { Inject, Injectable, Optional } from '@nestjs/common';
import { EzidHttpException } from '../common/ezid-http.exception';
import { InjectEzidOptions } from '../ezid.module-definition';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import type { EzidTenant, EzidUser } from '../interfaces/ezid-user.interface';

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

/**
 * A per-process cache of users' tenants: a TTL, a bound on the number of users (least recently used
 * first out), and one in-flight fetch per user however many requests wait for it. Failures are not cached.
 */
export class EzidProfileCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<readonly EzidTenant[]>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

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
    let pending = this.inflight.get(userId);
    if (!pending) {
      pending = this.fetch(userId, load);
      this.inflight.set(userId, pending);
    }
    return pending;
  }

  /** Forgets one user (after a membership change) or everyone. */
  invalidate(userId?: string): void {
    if (userId === undefined) this.entries.clear();
    else this.entries.delete(userId);
  }

  private async fetch(
    userId: string,
    load: (userId: string) => Promise<readonly EzidTenant[]>,
  ): Promise<readonly EzidTenant[]> {
    try {
      let tenants: readonly EzidTenant[];
      try {
        tenants = await load(userId);
      } catch {
        // The cause (an EzidApiError, a network error) is the source's to log; clients get a stable 503.
        throw profileUnavailable();
      }
      if (!Array.isArray(tenants)) throw profileUnavailable();
      const frozen = Object.freeze([...tenants]);
      this.entries.set(userId, { tenants: frozen, expiresAt: this.now() + this.ttlMs });
      while (this.entries.size > this.maxEntries) {
        this.entries.delete(this.entries.keys().next().value as string);
      }
      return frozen;
    } finally {
      this.inflight.delete(userId);
    }
  }
}

const NO_TENANTS: readonly EzidTenant[] = Object.freeze([]);

/**
 * Gives the guard and `EzidAuthorizer` a user's tenants: the token's `tenants` (synchronously) with
 * `profile.source: 'token'`, or the cached profile API result with `'api'`. Internal.
 */
@Injectable()
export class EzidProfileStore {
  readonly source: 'token' | 'api';
  readonly cache: EzidProfileCache;

  constructor(
    @InjectEzidOptions() options: ResolvedEzidOptions,
    @Optional() @Inject(EZID_PROFILE_SOURCE) private readonly api?: EzidProfileSource,
  ) {
    this.source = options.profile.source;
    this.cache = new EzidProfileCache(options.profile.cacheTtlSec * 1000, options.profile.cacheMaxEntries);
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
