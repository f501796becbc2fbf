import { EzidError } from '../ezid.errors';

/** What the shared store reports to health checks (`EzidStore.health()`). */
export interface EzidStoreHealth {
  /** `memory`: this process only (the default). `redis`: shared by every instance. */
  readonly kind: 'memory' | 'redis';
  /** `up`: commands and push notifications work. `down`: every feature runs on its per-process fallback. */
  readonly status: 'up' | 'down';
  /** When `status` last changed. */
  readonly since: Date;
}

/** One rate-limit hit counted by `EzidStore.hit()` (the shape of `@nestjs/throttler`'s storage record). */
export interface EzidStoreHitRecord {
  readonly totalHits: number;
  /** Seconds until the window ends. */
  readonly timeToExpire: number;
  readonly isBlocked: boolean;
  /** Seconds until the block ends (0 when not blocked). */
  readonly timeToBlockExpire: number;
}

/** A store command failed or timed out, or the store is disconnected: the caller uses its fallback. */
export class EzidStoreUnavailableError extends EzidError {
  constructor(readonly operation: string) {
    super(`The shared store is unavailable (${operation})`);
  }
}

/**
 * The state several instances of an app share (docs/scaling.md): the rate-limit counters, the
 * refresh lock, rotation records and results, the revocation list and the profile cache. Two
 * implementations: `EzidMemoryStore` (the default: one process, no dependency) and `EzidRedisStore`
 * (`store: { redis }`). Keys and channels are given unprefixed; the store adds its prefix.
 *
 * Every command is async and may reject with `EzidStoreUnavailableError`; no request's hot path
 * (token verification, tenant check) calls the store: shared state it needs is kept in local state
 * fed by `subscribe()` and resynchronised on `onAvailable()`.
 */
export abstract class EzidStore {
  /** Whether other processes see this store's state. `false` for the in-memory store. */
  abstract readonly shared: boolean;

  abstract health(): EzidStoreHealth;

  /** The value of `key`, `undefined` when absent or expired. */
  abstract get(key: string): Promise<string | undefined>;

  /** Sets `key` for `ttlMs`. With `ifAbsent`, only when absent: resolves whether it was set (a lock). */
  abstract set(key: string, value: string, ttlMs: number, ifAbsent?: boolean): Promise<boolean>;

  /** Sets `key` when absent and resolves `undefined`; else resolves its current value (atomically: a lock that says who holds it). */
  abstract setIfAbsent(key: string, value: string, ttlMs: number): Promise<string | undefined>;

  /** Sets `key` to `value` for `ttlMs` only while it holds `expected` (atomically); resolves whether it did. */
  abstract replace(key: string, expected: string, value: string, ttlMs: number): Promise<boolean>;

  /** Deletes `key`; with `ifValue`, only while it still holds that value (releasing one's own lock). */
  abstract delete(key: string, ifValue?: string): Promise<void>;

  /**
   * Counts one hit of `key` in a fixed window of `ttlMs`; past `limit` hits the key is blocked for
   * `blockMs` (atomically, for every instance).
   */
  abstract hit(key: string, ttlMs: number, limit: number, blockMs: number): Promise<EzidStoreHitRecord>;

  /** Adds `member` to the expiring set `key` until `expiresAtMs` (epoch ms; a later expiry wins). */
  abstract addExpiring(key: string, member: string, expiresAtMs: number): Promise<void>;

  /** Whether `member` is in the expiring set `key` and has not expired. */
  abstract hasExpiring(key: string, member: string): Promise<boolean>;

  /** The members of the expiring set `key` that have not expired, with their expiry (epoch ms). */
  abstract readExpiring(key: string): Promise<Array<[member: string, expiresAtMs: number]>>;

  /** Sends `message` to every subscriber of `channel` in every instance (this one included). */
  abstract publish(channel: string, message: string): Promise<void>;

  /** Calls `listener` for every message published on `channel`, from any instance. */
  abstract subscribe(channel: string, listener: (message: string) => void): void;

  /**
   * Calls `listener` each time the store becomes available (at start and after every reconnect):
   * messages may have been missed while it was down, so local copies resynchronise then.
   */
  abstract onAvailable(listener: () => void): void;
}
