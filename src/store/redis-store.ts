import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EzidConfigurationError } from '../ezid.errors';
import {
  EzidStore,
  type EzidStoreHealth,
  type EzidStoreHitRecord,
  EzidStoreUnavailableError,
} from './ezid-store';

/**
 * The part of an ioredis client this store uses (ioredis 5 and 6). Typed structurally so that the
 * package's types never import `ioredis`, an optional peer dependency.
 */
export interface EzidRedisClient {
  readonly status: string;
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  duplicate(): EzidRedisClient;
  subscribe(...channels: string[]): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  connect(): Promise<void>;
  quit(): Promise<unknown>;
  disconnect(): void;
}

export interface EzidRedisStoreConfig {
  /** An ioredis client, or a `redis://` / `rediss://` URL or unix socket path the store connects to. */
  readonly redis: EzidRedisClient | string;
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** Fixed-window hit counter with a block, atomic for every instance: [hits, windowMs, blocked, blockMs]. */
const HIT_SCRIPT = `
local bttl = redis.call('PTTL', KEYS[2])
if bttl > 0 then
  local hits = tonumber(redis.call('GET', KEYS[1]) or (tonumber(ARGV[2]) + 1))
  return {hits, redis.call('PTTL', KEYS[1]), 1, bttl}
end
local hits = redis.call('INCR', KEYS[1])
local kttl = redis.call('PTTL', KEYS[1])
if kttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  kttl = tonumber(ARGV[1])
end
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, kttl, 1, tonumber(ARGV[3])}
end
return {hits, kttl, 0, 0}`;

/** How long the store fails fast after a command timed out on an open connection. */
const SUSPEND_MS = 1_000;

/** SET NX PX, or the current value when the key exists: [1] when set, [0, value] otherwise. */
const SET_IF_ABSENT_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {0, redis.call('GET', KEYS[1])}`;

/** Compare-and-set: SET KEYS[1] ARGV[2] PX ARGV[3] only while it holds ARGV[1]. */
const REPLACE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;

/** Deletes KEYS[1] only while it holds ARGV[1] (releasing one's own lock). */
const DELETE_IF_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Adds a member with a later expiry only (ZADD GT), prunes expired members, keeps the key as long as its latest member. */
const ADD_EXPIRING_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1`;

/** Loads ioredis (an optional peer dependency) only when a URL is configured. */
function loadIoredis(): new (url: string, options: Record<string, unknown>) => EzidRedisClient {
  try {
    const mod = require('ioredis') as { default?: unknown; Redis?: unknown };
    return (mod.Redis ?? mod.default ?? mod) as new (
      url: string,
      options: Record<string, unknown>,
    ) => EzidRedisClient;
  } catch {
    throw EzidConfigurationError.create([
      { path: 'store.redis', problem: 'a Redis URL needs the ioredis package (npm i ioredis)' },
    ]);
  }
}

/**
 * The Redis `EzidStore` (`store: { redis }`), on ioredis: one connection for commands and one for
 * pub/sub. Commands fail fast while Redis is unreachable (no offline queue on the connections this
 * store opens; a deadline of `commandTimeoutMs` on every command, also on a client you pass in) and
 * the features fall back as docs/scaling.md says. Boot never fails because Redis is down: it waits
 * at most `connectTimeoutMs` for it. A client you pass in is never closed by the module (the pub/sub
 * connection it duplicates is).
 */
export class EzidRedisStore extends EzidStore implements OnModuleInit, OnApplicationShutdown {
  readonly shared = true;
  private readonly logger = new Logger('EzidStore');
  private readonly client: EzidRedisClient;
  private readonly sub: EzidRedisClient;
  private readonly ownsClient: boolean;
  private readonly channels = new Map<string, Set<(message: string) => void>>();
  private readonly availableListeners: Array<() => void> = [];
  private state: { status: 'up' | 'down'; since: Date } = { status: 'down', since: new Date() };
  private firstAvailable?: () => void;
  private readonly firstAvailablePromise = new Promise<void>((r) => (this.firstAvailable = r));
  private closed = false;
  /** While `performance.now()` is below this, commands fail fast (see `suspend`). */
  private suspendedUntil = 0;
  private probe?: NodeJS.Timeout;

  constructor(private readonly config: EzidRedisStoreConfig) {
    super();
    if (typeof config.redis === 'string') {
      const Redis = loadIoredis();
      this.client = new Redis(config.redis, {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: config.connectTimeoutMs,
        retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
      });
      this.ownsClient = true;
    } else {
      this.client = config.redis;
      this.ownsClient = false;
    }
    this.sub = this.client.duplicate();
    for (const c of [this.client, this.sub]) {
      c.on('ready', () => void this.connectionReady());
      c.on('close', () => this.setStatus('down'));
      c.on('end', () => this.setStatus('down'));
      // Never the error's message: it may name the host; the code is enough to act on.
      c.on('error', (err: { code?: string; name?: string }) => this.connectionError(err));
    }
    this.sub.on('message', (channel: string, message: string) => this.dispatch(channel, message));
  }

  health(): EzidStoreHealth {
    return { kind: 'redis', status: this.state.status, since: this.state.since };
  }

  async onModuleInit(): Promise<void> {
    for (const c of [this.client, this.sub]) {
      if (c.status === 'wait') c.connect().catch(() => undefined);
    }
    if (this.client.status === 'ready' && this.sub.status === 'ready') void this.connectionReady();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => (timer = setTimeout(r, this.config.connectTimeoutMs)));
    await Promise.race([this.firstAvailablePromise, deadline]);
    clearTimeout(timer);
    if (this.state.status === 'down') {
      this.logger.warn({ event: 'store_unavailable', phase: 'boot', fallback: 'per_process' });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.probe);
    this.sub.disconnect();
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
    this.state = { status: 'down', since: new Date() };
  }

  async get(key: string): Promise<string | undefined> {
    const v = await this.command('get', 'GET', this.key(key));
    return typeof v === 'string' ? v : undefined;
  }

  async set(key: string, value: string, ttlMs: number, ifAbsent = false): Promise<boolean> {
    const args = [this.key(key), value, 'PX', Math.max(1, Math.ceil(ttlMs))];
    const r = await this.command('set', 'SET', ...(ifAbsent ? [...args, 'NX'] : args));
    return r === 'OK';
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<string | undefined> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const r = (await this.command(
      'set_if_absent',
      'EVAL',
      SET_IF_ABSENT_SCRIPT,
      1,
      this.key(key),
      value,
      ttl,
    )) as [number, string?];
    return Number(r[0]) === 1 ? undefined : String(r[1] ?? '');
  }

  async replace(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const r = await this.command('replace', 'EVAL', REPLACE_SCRIPT, 1, this.key(key), expected, value, ttl);
    return Number(r) === 1;
  }

  async delete(key: string, ifValue?: string): Promise<void> {
    if (ifValue === undefined) await this.command('delete', 'DEL', this.key(key));
    else await this.command('delete', 'EVAL', DELETE_IF_SCRIPT, 1, this.key(key), ifValue);
  }

  async hit(key: string, ttlMs: number, limit: number, blockMs: number): Promise<EzidStoreHitRecord> {
    const k = this.key(key);
    const r = (await this.command(
      'hit',
      'EVAL',
      HIT_SCRIPT,
      2,
      k,
      `${k}:blocked`,
      ttlMs,
      limit,
      blockMs,
    )) as number[];
    const [hits, windowMs, blocked, blockLeftMs] = r.map(Number);
    return {
      totalHits: hits,
      timeToExpire: Math.max(0, Math.ceil(windowMs / 1000)),
      isBlocked: blocked === 1,
      timeToBlockExpire: blocked === 1 ? Math.max(1, Math.ceil(blockLeftMs / 1000)) : 0,
    };
  }

  async addExpiring(key: string, member: string, expiresAtMs: number): Promise<void> {
    await this.command(
      'add_expiring',
      'EVAL',
      ADD_EXPIRING_SCRIPT,
      1,
      this.key(key),
      Math.ceil(expiresAtMs),
      member,
      Date.now(),
    );
  }

  async hasExpiring(key: string, member: string): Promise<boolean> {
    const score = await this.command('has_expiring', 'ZSCORE', this.key(key), member);
    return score !== null && score !== undefined && Number(score) > Date.now();
  }

  async readExpiring(key: string): Promise<Array<[string, number]>> {
    const reply = (await this.command(
      'read_expiring',
      'ZRANGE',
      this.key(key),
      `(${Date.now()}`,
      '+inf',
      'BYSCORE',
      'WITHSCORES',
    )) as unknown[];
    // RESP2 answers [member, score, member, score, …]; RESP3 [[member, score], …].
    const flat = reply.flat() as unknown[];
    const out: Array<[string, number]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), Number(flat[i + 1])]);
    return out;
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.command('publish', 'PUBLISH', this.key(channel), message);
  }

  subscribe(channel: string, listener: (message: string) => void): void {
    let set = this.channels.get(channel);
    if (!set) {
      this.channels.set(channel, (set = new Set()));
      if (this.sub.status === 'ready') this.sub.subscribe(this.key(channel)).catch(() => undefined);
    }
    set.add(listener);
  }

  onAvailable(listener: () => void): void {
    this.availableListeners.push(listener);
    if (this.state.status === 'up') queueMicrotask(listener);
  }

  private key(k: string): string {
    return this.config.keyPrefix + k;
  }

  private async command(operation: string, command: string, ...args: (string | number)[]): Promise<unknown> {
    const probing = operation === 'probe';
    if (this.client.status !== 'ready' || (!probing && performance.now() < this.suspendedUntil)) {
      throw new EzidStoreUnavailableError(operation);
    }
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      const reply = await Promise.race([
        this.client.call(command, ...args),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(new EzidStoreUnavailableError(operation));
          }, this.config.commandTimeoutMs);
        }),
      ]);
      if (this.suspendedUntil > 0) this.recovered();
      return reply;
    } catch (err) {
      if (timedOut) this.suspend();
      throw err instanceof EzidStoreUnavailableError ? err : new EzidStoreUnavailableError(operation);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A command outlived its deadline with the connection still open (a hung or overloaded Redis): the
   * store counts as down and fails fast for `SUSPEND_MS`, then lets the next command probe it, so a
   * request pays at most one deadline per interval instead of one per command.
   */
  private suspend(): void {
    this.suspendedUntil = performance.now() + SUSPEND_MS;
    this.setStatus('down');
    this.scheduleProbe();
  }

  /** PINGs a suspended store after `SUSPEND_MS`, until it answers: an idle app still learns it is back. */
  private scheduleProbe(): void {
    if (this.probe || this.closed) return;
    this.probe = setTimeout(() => {
      this.probe = undefined;
      this.command('probe', 'PING').catch(() => {
        if (this.suspendedUntil > 0) this.scheduleProbe();
      });
    }, SUSPEND_MS);
    this.probe.unref();
  }

  /** A command succeeded after a suspension: up again, and local copies resynchronise. */
  private recovered(): void {
    this.suspendedUntil = 0;
    if (this.client.status !== 'ready' || this.sub.status !== 'ready' || this.state.status === 'up') return;
    this.setStatus('up');
    for (const l of this.availableListeners) l();
  }

  /** Both connections ready: (re)subscribe every channel, then tell the features to resynchronise. */
  private async connectionReady(): Promise<void> {
    if (this.closed || this.client.status !== 'ready' || this.sub.status !== 'ready') return;
    if (this.state.status === 'up') return;
    try {
      if (this.channels.size > 0)
        await this.sub.subscribe(...[...this.channels.keys()].map((c) => this.key(c)));
    } catch {
      return; // the next 'ready' retries
    }
    if (this.client.status !== 'ready' || this.sub.status !== 'ready') return;
    this.suspendedUntil = 0;
    this.setStatus('up');
    this.firstAvailable?.();
    for (const l of this.availableListeners) l();
  }

  private setStatus(status: 'up' | 'down'): void {
    if (this.state.status === status) return;
    this.state = { status, since: new Date() };
    if (this.closed) return;
    if (status === 'up') this.logger.log({ event: 'store_available' });
    else this.logger.warn({ event: 'store_unavailable', fallback: 'per_process' });
  }

  private connectionError(err: { code?: string; name?: string }): void {
    if (this.state.status === 'up') this.logger.debug({ event: 'store_error', code: err?.code ?? err?.name });
  }

  private dispatch(channel: string, message: string): void {
    if (!channel.startsWith(this.config.keyPrefix)) return;
    for (const l of this.channels.get(channel.slice(this.config.keyPrefix.length)) ?? []) l(message);
  }
}
