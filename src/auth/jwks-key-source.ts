import { Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { JwksClient } from 'jwks-rsa';
import { type EzidMonotonicClock, SYSTEM_MONOTONIC_CLOCK } from '../common/monotonic-clock';
import { EzidConfigurationError } from '../ezid.errors';
import { EzidKeysUnavailableError, EzidTokenError } from './ezid-token.errors';
import type { EzidJwksFetchResult, EzidTelemetry } from '../telemetry/ezid-telemetry';

/** A public key ready for `crypto.verify`, parsed once and reused for every request. */
export interface EzidVerificationKey {
  readonly key: crypto.KeyObject;
  readonly kid?: string;
  /** The JWK's `alg`, when it names one: the token's `alg` must then equal it (one key, one algorithm). */
  readonly alg?: string;
}

/** Where the verifier gets its keys: a JWKS endpoint or a static PEM. */
export interface EzidKeySource {
  /**
   * The key for a token header. Returns synchronously when the key is cached, fresh or stale within
   * the stale-if-error window (no I/O on the request path; a stale set is refreshed in the
   * background), a promise when the request must wait for a JWKS fetch. Throws / rejects with
   * `EzidTokenError` (unknown or ambiguous key: 401) or `EzidKeysUnavailableError` (503).
   */
  getKey(kid: string | undefined, alg: string): EzidVerificationKey | Promise<EzidVerificationKey>;
  /** Whether a key returned earlier is still in the current, fresh key set (used by the verified-token cache). */
  isCurrent(key: EzidVerificationKey): boolean;
  /** The state of the keys, for health checks (no I/O). */
  health(): EzidKeySetHealth;
  /**
   * For health checks: when the set is not fresh or the last fetch failed, waits for a fetch (the one
   * in flight, or a new one once the cooldown allows it: at most one per `cooldownMs` whatever the
   * number of callers); else resolves at once. Never rejects.
   */
  revalidate(): Promise<void>;
}

/** The state of the signing keys (`EzidKeySource.health()`). */
export interface EzidKeySetHealth {
  /**
   * `fresh`: the key set is younger than `token.jwks.cacheMaxAgeSec`. `stale`: older, still served
   * (stale-if-error window) because the JWKS could not be fetched again. `unavailable`: no usable
   * key: token verification answers 503. `static`: `token.publicKey`.
   */
  readonly state: 'fresh' | 'stale' | 'unavailable' | 'static';
  /** Age of the key set in ms (monotonic clock); `undefined` when no set was ever fetched, or `static`. */
  readonly ageMs?: number;
  /** Usable keys in the set. */
  readonly keys: number;
  /** Whether the last JWKS fetch failed. */
  readonly lastFetchFailed: boolean;
}

/** Smallest RSA modulus accepted, in bits (RFC 7518 §3.3, RFC 8725 §3.5). */
export const MIN_RSA_BITS = 2048;
/** Largest JWKS document accepted, in bytes. */
export const MAX_JWKS_BYTES = 256 * 1024;

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A static PEM public key (`token.publicKey`), parsed once at boot. Any `kid` maps to it. */
export class StaticKeySource implements EzidKeySource {
  private readonly vk: EzidVerificationKey;

  constructor(pem: string) {
    let key: crypto.KeyObject;
    try {
      key = crypto.createPublicKey(pem);
    } catch {
      throw EzidConfigurationError.create([
        { path: 'token.publicKey', problem: 'is not a valid PEM public key' },
      ]);
    }
    if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
      throw EzidConfigurationError.create([
        { path: 'token.publicKey', problem: `must be an RSA public key of at least ${MIN_RSA_BITS} bits` },
      ]);
    }
    this.vk = Object.freeze({ key });
  }

  getKey(): EzidVerificationKey {
    return this.vk;
  }

  isCurrent(): boolean {
    return true;
  }

  health(): EzidKeySetHealth {
    return { state: 'static', keys: 1, lastFetchFailed: false };
  }

  revalidate(): Promise<void> {
    return Promise.resolve();
  }
}

/** Options of `JwksKeySource`, in milliseconds. */
export interface JwksKeySourceOptions {
  jwksUri: string;
  algorithms: readonly string[];
  cacheMaxAgeMs: number;
  cooldownMs: number;
  timeoutMs: number;
  staleIfErrorMs: number;
  /** Fetch the key set in the background when the app has booted (`token.jwks.prefetch`). Default `false`. */
  prefetch?: boolean;
  /** Clock of ages and cooldowns. Default `SYSTEM_MONOTONIC_CLOCK`. */
  clock?: EzidMonotonicClock;
  /** @internal A span and a metric per fetch (docs/telemetry.md). */
  telemetry?: EzidTelemetry;
}

interface KeySet {
  /** Monotonic ms. */
  readonly fetchedAt: number;
  readonly byKid: Map<string, EzidVerificationKey>;
  readonly all: readonly EzidVerificationKey[];
}

/** A JWKS fetch that failed for a known reason; `reason` is a short class safe to log. */
export class JwksFetchError extends Error {
  override readonly name = 'JwksFetchError';
  constructor(
    message: string,
    readonly reason: string,
    /** The HTTP status of the response, when one was received. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * A JWKS document fetcher for jwks-rsa's `fetcher` option: one total deadline for the whole
 * exchange, body included (`AbortSignal.timeout`, so a server dribbling bytes cannot hold it),
 * no redirects, only 200, a size cap, and a JSON object with a `keys` array.
 */
export async function fetchJwksDocument(
  uri: string,
  timeoutMs: number,
  cancel?: AbortSignal,
): Promise<{ keys: unknown[] }> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;
  const res = await fetch(uri, { signal, redirect: 'manual', headers: { accept: 'application/json' } });
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    throw new JwksFetchError(`JWKS endpoint answered HTTP ${res.status}`, `HTTP ${res.status}`, res.status);
  }
  const declared = Number(res.headers.get('content-length'));
  if (declared > MAX_JWKS_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    throw new JwksFetchError('JWKS document too large', 'document too large', 200);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > MAX_JWKS_BYTES) {
        await reader.cancel().catch(() => undefined);
        throw new JwksFetchError('JWKS document too large', 'document too large', 200);
      }
      chunks.push(value);
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new JwksFetchError('JWKS document is not JSON', 'invalid JSON', 200);
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray((doc as { keys?: unknown }).keys)) {
    throw new JwksFetchError('JWKS document has no "keys" array', 'no "keys" array', 200);
  }
  return doc as { keys: unknown[] };
}

/**
 * Keys from a JWKS endpoint, fetched with jwks-rsa's `JwksClient` (custom `fetcher`, its own
 * per-kid cache and rate limiter off) and cached here as a whole set of parsed `KeyObject`s.
 * Ages and cooldowns are measured on a monotonic clock, so a wall clock stepped back or forward
 * neither freezes nor expires the set (token claims stay on the wall clock, in the verifier):
 *
 * - one fetch in flight at a time: every request that has to wait (any kid) waits for the same fetch;
 * - an unknown `kid` triggers at most one fetch per `cooldownMs`; during the cooldown it is
 *   rejected (401) straight away, so a flood of junk kids costs nothing, and a newly rotated kid is
 *   picked up by the first fetch after it is published (at worst one cooldown later);
 * - stale-while-revalidate: once the set is older than `cacheMaxAgeMs`, a known kid is answered at
 *   once from the cached set and one background refresh starts (subject to the same cooldown); only
 *   an unknown kid waits for a fetch. A successful refresh replaces the set, so a removed key stops
 *   working then (revocation latency: `cacheMaxAgeMs` plus one fetch);
 * - stale-if-error: known keys keep working until `cacheMaxAgeMs + staleIfErrorMs` after the last
 *   good fetch; after that a request waits for a fetch like a cold start;
 * - no usable key and no fetch possible: `EzidKeysUnavailableError` (503), never 401.
 */
export class JwksKeySource implements EzidKeySource, OnApplicationBootstrap, OnModuleDestroy {
  /** The jwks-rsa client (one per process: this source is a singleton provider). */
  readonly client: JwksClient;
  private set?: KeySet;
  private lastAttemptAt = -Infinity;
  private lastFetchFailed = false;
  private inflight?: Promise<boolean>;
  private lastStaleLogAt = -Infinity;
  private readonly logger = new Logger('EzidJwks');
  private readonly clock: EzidMonotonicClock;
  /** Aborted when the app shuts down: a fetch still running (a boot prefetch) does not outlive it. */
  private readonly shutdown = new AbortController();
  private bootPrefetch?: Promise<boolean>;

  constructor(private readonly options: JwksKeySourceOptions) {
    this.clock = options.clock ?? SYSTEM_MONOTONIC_CLOCK;
    this.client = new JwksClient({
      jwksUri: options.jwksUri,
      cache: false,
      rateLimit: false,
      timeout: options.timeoutMs,
      fetcher: (uri: string) => fetchJwksDocument(uri, options.timeoutMs, this.shutdown.signal),
    });
  }

  /** Boot-time prefetch (`token.jwks.prefetch`): started here, never awaited, so boot does not wait on the JWKS. */
  onApplicationBootstrap(): void {
    if (this.options.prefetch) this.bootPrefetch = this.prefetch();
  }

  /** The boot-time prefetch, when one was started (resolves to whether it succeeded; never rejects). For tests and health checks. */
  get prefetched(): Promise<boolean> | undefined {
    return this.bootPrefetch;
  }

  onModuleDestroy(): void {
    this.shutdown.abort();
  }

  /**
   * Fetches the key set once, in the background of boot. A failure is one warning naming the JWKS
   * host and the reason class (never the URL's path or query), and does not start the cooldown: the
   * first request that needs a key tries again. Resolves to whether it succeeded; never rejects.
   */
  prefetch(): Promise<boolean> {
    if (this.inflight) return this.inflight;
    const before = this.lastAttemptAt;
    return this.refresh((err) => {
      this.lastAttemptAt = before;
      if (this.shutdown.signal.aborted) return;
      this.logger.warn(
        `JWKS prefetch at boot failed: host ${jwksHost(this.options.jwksUri)}, ${jwksFailureReason(err)}. ` +
          'Requests will retry the fetch; check token.jwksUri if this persists',
      );
    });
  }

  getKey(kid: string | undefined, alg: string): EzidVerificationKey | Promise<EzidVerificationKey> {
    const now = this.clock.now();
    const set = this.set;
    if (set) {
      const age = now - set.fetchedAt;
      if (age < this.options.cacheMaxAgeMs) {
        const vk = select(set, kid, alg);
        if (vk) return vk;
        if (this.inflight) return this.inflight.then((ok) => this.afterFetch(kid, alg, ok));
        if (now - this.lastAttemptAt < this.options.cooldownMs)
          throw new EzidTokenError('token_invalid', 'kid_unknown');
        return this.refresh().then((ok) => this.afterFetch(kid, alg, ok));
      }
      if (age < this.options.cacheMaxAgeMs + this.options.staleIfErrorMs) {
        const vk = select(set, kid, alg);
        if (vk) {
          // Stale-while-revalidate: answer now, refresh in the background (never awaited here).
          if (!this.inflight && now - this.lastAttemptAt >= this.options.cooldownMs) void this.refresh();
          this.warnIfServingAfterFailure(now, age);
          return vk;
        }
      }
    }
    if (this.inflight) return this.inflight.then((ok) => this.afterFetch(kid, alg, ok));
    if (now - this.lastAttemptAt >= this.options.cooldownMs) {
      return this.refresh().then((ok) => this.afterFetch(kid, alg, ok));
    }
    return this.staleOrUnavailable(kid, alg, now, 'jwks_cooldown');
  }

  isCurrent(key: EzidVerificationKey): boolean {
    const set = this.set;
    if (!set || this.clock.now() - set.fetchedAt >= this.options.cacheMaxAgeMs) return false;
    return key.kid !== undefined
      ? set.byKid.get(key.kid) === key
      : set.all.length === 1 && set.all[0] === key;
  }

  health(): EzidKeySetHealth {
    const set = this.set;
    if (!set) return { state: 'unavailable', keys: 0, lastFetchFailed: this.lastFetchFailed };
    const ageMs = Math.max(0, this.clock.now() - set.fetchedAt);
    const state =
      ageMs < this.options.cacheMaxAgeMs
        ? 'fresh'
        : ageMs < this.options.cacheMaxAgeMs + this.options.staleIfErrorMs
          ? 'stale'
          : 'unavailable';
    return { state, ageMs, keys: set.all.length, lastFetchFailed: this.lastFetchFailed };
  }

  async revalidate(): Promise<void> {
    const h = this.health();
    if (h.state === 'fresh' && !h.lastFetchFailed) return;
    if (this.inflight) {
      await this.inflight;
      return;
    }
    if (this.clock.now() - this.lastAttemptAt < this.options.cooldownMs) return;
    await this.refresh();
  }

  /** The fetch in flight, if any (resolves to whether it succeeded; never rejects). For tests and health checks. */
  get refreshing(): Promise<boolean> | undefined {
    return this.inflight;
  }

  /** Starts a fetch now (used by tests and to warm the cache at boot). Resolves to whether it succeeded. */
  refresh(onFailure?: (err: unknown) => void): Promise<boolean> {
    if (this.inflight) return this.inflight;
    this.lastAttemptAt = this.clock.now();
    const t = this.options.telemetry;
    const fetched = t
      ? t.traceJwksFetch(this.options.jwksUri, () => this.fetchSet(), describeJwksFetch)
      : this.fetchSet();
    const p = fetched.then(
      (set) => {
        this.set = set;
        this.lastFetchFailed = false;
        return true;
      },
      (err: unknown) => {
        this.lastFetchFailed = true;
        if (onFailure) onFailure(err);
        else if (!this.shutdown.signal.aborted) this.logger.warn(`JWKS fetch failed: ${describeError(err)}`);
        return false;
      },
    );
    this.inflight = p;
    void p.finally(() => {
      if (this.inflight === p) this.inflight = undefined;
    });
    return p;
  }

  private afterFetch(kid: string | undefined, alg: string, ok: boolean): EzidVerificationKey {
    const now = this.clock.now();
    const set = this.set;
    if (ok && set) {
      const vk = select(set, kid, alg);
      if (vk) return vk;
      throw new EzidTokenError('token_invalid', 'kid_unknown');
    }
    return this.staleOrUnavailable(kid, alg, now, 'jwks_fetch_failed');
  }

  private warnIfServingAfterFailure(now: number, age: number): void {
    if (!this.lastFetchFailed || now - this.lastStaleLogAt < this.options.cooldownMs) return;
    this.lastStaleLogAt = now;
    this.logger.warn(
      `Serving cached signing keys ${Math.round(age / 1000)} s old: the JWKS cannot be fetched`,
    );
  }

  private staleOrUnavailable(
    kid: string | undefined,
    alg: string,
    now: number,
    reason: string,
  ): EzidVerificationKey {
    const set = this.set;
    const retryAfterSec = Math.max(1, (this.options.cooldownMs - (now - this.lastAttemptAt)) / 1000);
    if (set) {
      const age = now - set.fetchedAt;
      if (age < this.options.cacheMaxAgeMs + this.options.staleIfErrorMs) {
        const vk = select(set, kid, alg);
        if (vk) {
          if (age >= this.options.cacheMaxAgeMs) this.warnIfServingAfterFailure(now, age);
          return vk;
        }
        // A fresh set that does not know this kid: an unknown key, not an outage.
        if (age < this.options.cacheMaxAgeMs && reason === 'jwks_cooldown') {
          throw new EzidTokenError('token_invalid', 'kid_unknown');
        }
      }
    }
    throw new EzidKeysUnavailableError(reason, retryAfterSec);
  }

  private async fetchSet(): Promise<KeySet> {
    const keys = (await this.client.getKeys()) as unknown[];
    const previous = new Map<string, EzidVerificationKey>();
    for (const vk of this.set?.all ?? []) previous.set(materialId(vk), vk);
    const parsed: EzidVerificationKey[] = [];
    const kidCount = new Map<string, number>();
    for (const jwk of keys) {
      const vk = this.importJwk(jwk, previous);
      if (!vk) continue;
      parsed.push(vk);
      if (vk.kid !== undefined) kidCount.set(vk.kid, (kidCount.get(vk.kid) ?? 0) + 1);
    }
    // Two keys under one kid are ambiguous: use neither.
    const all = parsed.filter((vk) => vk.kid === undefined || kidCount.get(vk.kid) === 1);
    if (all.length === 0)
      throw new JwksFetchError('JWKS document has no usable signing key', 'no usable signing key', 200);
    const byKid = new Map<string, EzidVerificationKey>();
    for (const vk of all) if (vk.kid !== undefined) byKid.set(vk.kid, vk);
    return { fetchedAt: this.clock.now(), byKid, all };
  }

  private importJwk(
    raw: unknown,
    previous: Map<string, EzidVerificationKey>,
  ): EzidVerificationKey | undefined {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
    const jwk = raw as Record<string, unknown>;
    if (jwk.kty !== 'RSA') return undefined;
    if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify')))
      return undefined;
    if (PRIVATE_JWK_MEMBERS.some((m) => Object.prototype.hasOwnProperty.call(jwk, m))) return undefined;
    if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') return undefined;
    if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return undefined;
    if (
      jwk.alg !== undefined &&
      (typeof jwk.alg !== 'string' || !this.options.algorithms.includes(jwk.alg))
    ) {
      return undefined;
    }
    const id = `${jwk.kid ?? ''}\u0000${jwk.alg ?? ''}\u0000${jwk.n}\u0000${jwk.e}`;
    const known = previous.get(id);
    if (known) return known;
    let key: crypto.KeyObject;
    try {
      key = crypto.createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
    } catch {
      return undefined;
    }
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return undefined;
    const vk: EzidVerificationKey & { [MATERIAL]?: string } = {
      key,
      kid: jwk.kid as string | undefined,
      alg: jwk.alg as string | undefined,
    };
    Object.defineProperty(vk, MATERIAL, { value: id });
    return Object.freeze(vk);
  }
}

const MATERIAL = Symbol('ezid.jwk.material');

function materialId(vk: EzidVerificationKey): string {
  return (vk as { [MATERIAL]?: string })[MATERIAL] ?? '';
}

function select(set: KeySet, kid: string | undefined, alg: string): EzidVerificationKey | undefined {
  let vk: EzidVerificationKey | undefined;
  if (kid !== undefined) vk = set.byKid.get(kid);
  else if (set.all.length === 1) vk = set.all[0];
  else throw new EzidTokenError('token_invalid', 'kid_absent_several_keys');
  if (vk && vk.alg !== undefined && vk.alg !== alg)
    throw new EzidTokenError('token_invalid', 'alg_key_mismatch');
  return vk;
}

/** A JWKS fetch as telemetry records it: outcome, key count, status, failure class (never the URL). */
function describeJwksFetch(outcome: KeySet | { error: unknown }): EzidJwksFetchResult {
  if ('error' in outcome) {
    const err = outcome.error;
    return {
      ok: false,
      reason: jwksFailureReason(err),
      status: err instanceof JwksFetchError ? err.status : undefined,
    };
  }
  return { ok: true, keyCount: outcome.all.length, status: 200 };
}

function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string } };
  const text = `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}${e?.cause?.code ? ` (${e.cause.code})` : ''}`;
  return text.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200);
}

/** The JWKS URL's host (and port) only: never its userinfo, path or query. */
export function jwksHost(uri: string): string {
  try {
    return new URL(uri).host.replace(/[^\x21-\x7e]/g, '?').slice(0, 255) || '(none)';
  } catch {
    return '(invalid URL)';
  }
}

/** A short, fixed-vocabulary class of why a JWKS fetch failed (safe to log: no URL, no value). */
export function jwksFailureReason(err: unknown): string {
  if (err instanceof JwksFetchError) return err.reason;
  const e = err as { name?: string; cause?: { code?: unknown; name?: string } } | undefined;
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return 'timeout';
  if (e?.name === 'AbortError') return 'aborted';
  const code = typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
  }
  if (code && /^[A-Z0-9_]{2,40}$/.test(code)) return `network error ${code}`;
  if (e?.name === 'TypeError')
    return (e.cause as { message?: unknown })?.message === 'bad port' ? 'blocked port' : 'network error';
  return 'unexpected error';
}
