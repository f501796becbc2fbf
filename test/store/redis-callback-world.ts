import Redis from 'ioredis';
import { EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type CallbackTestApp,
  startCallbackApp,
} from '../callback/callback-test-app';
import { RedisServer } from '../support/redis-server';

/** An emulator, a real redis-server and a raw client to it, plus Express callback apps on that store. */
export interface RedisCallbackWorld {
  readonly emu: EzidEmulator;
  readonly redis: RedisServer;
  readonly raw: Redis;
  /** Starts a json-mode callback app on the shared store, with `extra` options; closed after each test. */
  start(extra?: Record<string, unknown>): Promise<CallbackTestApp>;
}

/**
 * Registers the lifecycle the store attack suites share (call it inside their `describe`): the emulator
 * and redis-server for the whole suite; after each test Redis resumed (a test may SIGSTOP it), faults
 * cleared, the apps closed and Redis flushed.
 */
export function useRedisCallbackWorld(): RedisCallbackWorld {
  let emu: EzidEmulator;
  let redis: RedisServer;
  let raw: Redis;
  const apps: CallbackTestApp[] = [];
  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    redis = await RedisServer.start();
    raw = new Redis(redis.url);
    raw.on('error', () => undefined); // a test may kill the server: ioredis reconnects, nothing to report
  });
  afterEach(async () => {
    redis.resume();
    emu.clearFaults();
    for (const a of apps.splice(0)) await a.close();
    await raw.flushall();
  });
  afterAll(async () => {
    raw.disconnect();
    await redis.stop();
    await emu.stop();
  });
  return {
    get emu() {
      return emu;
    },
    get redis() {
      return redis;
    },
    get raw() {
      return raw;
    },
    async start(extra = {}) {
      const t = await startCallbackApp({
        platform: 'express',
        emu,
        callback: { mode: 'json' },
        extra: { store: { redis: redis.url }, ...extra },
      });
      apps.push(t);
      return t;
    },
  };
}
