import { Inject, Injectable } from '@nestjs/common';
import { EZID_KEY_SOURCE } from '../auth/auth.constants';
import { type EzidKeySource, jwksFailureReason } from '../auth/jwks-key-source';
import { EzidHttpClient, EZID_USER_AGENT } from '../client/ezid-http.client';
import { EZID_MONOTONIC_CLOCK, type EzidMonotonicClock } from '../common/monotonic-clock';
import { EzidError } from '../ezid.errors';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { InjectEzidOptions } from '../ezid.module-definition';
import { EzidStore } from '../store/ezid-store';

/** A health status, as `@nestjs/terminus` names them. */
export type EzidHealthStatus = 'up' | 'degraded' | 'down';

/** What `EzidHealthIndicator.check()` reports. Never a secret, a token or a URL. */
export interface EzidHealthReport {
  /**
   * `down`: no usable signing key (token verification answers 503). `degraded`: still serving, but
   * on stale keys, without the shared store, or without the EZiD API. `up` otherwise.
   */
  readonly status: EzidHealthStatus;
  readonly jwks: {
    /** See `EzidKeySetHealth.state`. */
    readonly state: 'fresh' | 'stale' | 'unavailable' | 'static';
    /** Age of the key set in whole seconds; absent when none was fetched, or with `token.publicKey`. */
    readonly ageSec?: number;
    /** Usable keys in the set. */
    readonly keys: number;
    /** Outcome of the last JWKS fetch. */
    readonly lastFetch: 'ok' | 'failed';
  };
  readonly store: {
    readonly kind: 'memory' | 'redis';
    readonly status: 'up' | 'down';
    /** When the store's status last changed (ISO 8601). */
    readonly since: string;
  };
  /** Only with `health.api`. */
  readonly api?: {
    readonly status: 'up' | 'down';
    /** Why it is down: `HTTP <status>`, `timeout`, `connection refused`, ... (a fixed vocabulary). */
    readonly reason?: string;
    /** Seconds since the reachability call this result comes from. */
    readonly checkedSecAgo: number;
  };
}

/**
 * The result of `EzidHealthIndicator.isHealthy()`: Terminus's `HealthIndicatorResult` shape. `status` is
 * typed as Terminus 11 declares it (`'up' | 'down'`) so the result fits `HealthCheckService.check()` on
 * Terminus 11 and 12; on Terminus 12.1 and later a degraded report's status is `'degraded'` at run time
 * (on Terminus 11 it is `'up'` with `degraded: true`).
 */
export type EzidHealthIndicatorResult<Key extends string = string> = Record<
  Key,
  { status: 'up' | 'down' } & Record<string, unknown>
>;

interface ApiProbe {
  readonly at: number;
  readonly status: 'up' | 'down';
  readonly reason?: string;
}

interface TerminusSession {
  up(data: object): unknown;
  down(data: object): unknown;
  degraded?(data: object): unknown;
}

/** `@nestjs/terminus`, loaded when a check first runs (an optional peer: never loaded by `nestjs-ezid` alone). */
function loadTerminus(): { HealthIndicatorService: new () => { check(key: string): TerminusSession } } {
  try {
    return require('@nestjs/terminus') as ReturnType<typeof loadTerminus>;
  } catch (err) {
    if ((err as { code?: string }).code === 'MODULE_NOT_FOUND') {
      throw new EzidError(
        'EzidHealthIndicator.isHealthy() needs @nestjs/terminus: npm install @nestjs/terminus ' +
          '(or call EzidHealthIndicator.check() for the report without Terminus)',
      );
    }
    throw err;
  }
}

/**
 * Health of the module for `@nestjs/terminus` (`HealthCheckService`):
 *
 * - the signing keys: `fresh`, `stale` (the JWKS cannot be fetched again and the cached set is
 *   served within `token.jwks.staleIfErrorSec`: degraded, still up), `unavailable` (no usable key:
 *   down, Terminus answers 503); with the key set's age. A check on a set that is not fresh waits for
 *   a refetch first (at most one per `token.jwks.cooldownSec`, shared with requests), so it also
 *   sees the JWKS come back;
 * - the shared store (`EzidStore.health()`): down is degraded (every feature runs on its
 *   per-process fallback);
 * - with `health.api`, whether the EZiD API answers: one `GET` of `auth.status` naming no user,
 *   with a deadline of `health.apiTimeoutMs`, cached for `health.apiIntervalSec` with one call in
 *   flight at most, so a storm of probes makes at most one call per interval; any answer below 500
 *   is up; down is degraded (verification needs only the keys).
 *
 * The body names no secret, token, URL or host. `@nestjs/terminus` is loaded by `isHealthy()` only.
 *
 * @example
 * ```ts
 * @Controller('health')
 * export class HealthController {
 *   constructor(private readonly health: HealthCheckService, private readonly ezid: EzidHealthIndicator) {}
 *
 *   @Public() @Get() @HealthCheck()
 *   check() {
 *     return this.health.check([() => this.ezid.isHealthy('ezid')]);
 *   }
 * }
 * ```
 */
@Injectable()
export class EzidHealthIndicator {
  private readonly apiUrl: string;
  private apiLast?: ApiProbe;
  private apiInflight?: Promise<ApiProbe>;

  constructor(
    @Inject(EZID_KEY_SOURCE) private readonly keys: EzidKeySource,
    private readonly store: EzidStore,
    @InjectEzidOptions() private readonly options: ResolvedEzidOptions,
    @Inject(EZID_MONOTONIC_CLOCK) private readonly clock: EzidMonotonicClock,
  ) {
    this.apiUrl = new EzidHttpClient(options).url('auth.status');
  }

  /**
   * The module's health as a Terminus indicator result under `key` (default `'ezid'`): `up`,
   * `degraded` (Terminus 12.1 and later; earlier versions get `up` with `degraded: true`) or `down`.
   */
  async isHealthy<Key extends string = 'ezid'>(
    key: Key = 'ezid' as Key,
  ): Promise<EzidHealthIndicatorResult<Key>> {
    const { HealthIndicatorService } = loadTerminus();
    const { status, ...data } = await this.check();
    const session = new HealthIndicatorService().check(key);
    let result: unknown;
    if (status === 'down') result = session.down(data);
    else if (status === 'up') result = session.up(data);
    else if (typeof session.degraded === 'function') result = session.degraded(data);
    else result = session.up({ ...data, degraded: true });
    return result as EzidHealthIndicatorResult<Key>;
  }

  /** The same report as a plain object, without `@nestjs/terminus`. */
  async check(): Promise<EzidHealthReport> {
    const [, api] = await Promise.all([
      this.keys.revalidate(),
      this.options.health.api ? this.apiProbe() : undefined,
    ]);
    const keys = this.keys.health();
    const store = this.store.health();
    const jwks: EzidHealthReport['jwks'] = {
      state: keys.state,
      ...(keys.ageMs !== undefined ? { ageSec: Math.floor(keys.ageMs / 1000) } : {}),
      keys: keys.keys,
      lastFetch: keys.lastFetchFailed ? 'failed' : 'ok',
    };
    const report = {
      jwks,
      store: { kind: store.kind, status: store.status, since: store.since.toISOString() },
      ...(api
        ? {
            api: {
              status: api.status,
              ...(api.reason ? { reason: api.reason } : {}),
              checkedSecAgo: Math.max(0, Math.floor((this.clock.now() - api.at) / 1000)),
            },
          }
        : {}),
    };
    let status: EzidHealthStatus = 'up';
    if (keys.state === 'unavailable') status = 'down';
    else if (
      keys.state === 'stale' ||
      keys.lastFetchFailed ||
      store.status === 'down' ||
      api?.status === 'down'
    ) {
      status = 'degraded';
    }
    return { status, ...report };
  }

  /** The cached reachability result, or one call (shared by every concurrent caller). */
  private apiProbe(): Promise<ApiProbe> {
    const last = this.apiLast;
    if (last && this.clock.now() - last.at < this.options.health.apiIntervalSec * 1000) {
      return Promise.resolve(last);
    }
    if (this.apiInflight) return this.apiInflight;
    const p = this.callApi().then((r) => {
      this.apiLast = r;
      return r;
    });
    this.apiInflight = p;
    void p.finally(() => {
      if (this.apiInflight === p) this.apiInflight = undefined;
    });
    return p;
  }

  private async callApi(): Promise<ApiProbe> {
    try {
      const res = await fetch(this.apiUrl, {
        signal: AbortSignal.timeout(this.options.health.apiTimeoutMs),
        redirect: 'manual',
        headers: { accept: 'application/json', 'user-agent': EZID_USER_AGENT },
      });
      await res.body?.cancel().catch(() => undefined);
      const at = this.clock.now();
      return res.status < 500 ? { at, status: 'up' } : { at, status: 'down', reason: `HTTP ${res.status}` };
    } catch (err) {
      return { at: this.clock.now(), status: 'down', reason: jwksFailureReason(err) };
    }
  }
}
