// The `store` option end to end: validation (URLs, clients, bounds, no password in an error), the
// module booting with a URL or with the app's own ioredis client (never frozen, never closed by the
// module), and the default staying in memory with no Redis at all.
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import {
  EzidConfigurationError,
  EzidModule,
  EzidRevocationList,
  EzidSharedRevocationList,
  EzidStore,
} from '../../src';
import { resolveEzidOptions } from '../../src/ezid-options.validation';
import type { EzidModuleOptions } from '../../src/ezid.options';
import { describeWithRedis, RedisServer } from '../support/redis-server';

const BASE: EzidModuleOptions = {
  clientId: 'cli_store',
  token: {
    publicKey: undefined,
    jwksUri: 'https://idp.example.com/jwks.json',
    issuer: 'https://idp.example.com',
  },
};

function problems(store: unknown): readonly { path: string; problem: string }[] {
  try {
    resolveEzidOptions({ ...BASE, store } as EzidModuleOptions);
  } catch (e) {
    expect(e).toBeInstanceOf(EzidConfigurationError);
    return (e as EzidConfigurationError).issues;
  }
  return [];
}

describe('store option validation', () => {
  it('accepts redis:// and rediss:// URLs and an object with ioredis call/duplicate, with defaults', () => {
    const o = resolveEzidOptions({ ...BASE, store: { redis: 'rediss://user:pw@redis.internal:6380/2' } });
    expect(o.store).toMatchObject({ keyPrefix: 'ezid:', commandTimeoutMs: 500, connectTimeoutMs: 2000 });
    expect(problems({ redis: 'redis://127.0.0.1:6379' })).toEqual([]);
    expect(problems({ redis: { call: () => undefined, duplicate: () => undefined } })).toEqual([]);
    expect(resolveEzidOptions(BASE).store).toBeUndefined();
  });

  it.each([
    ['an http URL', 'http://redis.internal:6379'],
    ['a bare host', 'redis.internal:6379'],
    ['a URL without a host', 'redis://'],
    ['an empty string', ''],
    ['an object that is not a client', { host: 'redis' }],
    ['null', null],
    ['a number', 6379],
  ])('refuses %s', (_name, redis) => {
    expect(problems({ redis }).map((p) => p.path)).toContain('store.redis');
  });

  it('refuses bad bounds and unknown keys, and never shows the URL password', () => {
    const issues = problems({
      redis: 'redis://:hunter2-secret@redis.internal:6379',
      commandTimeoutMs: 0,
      connectTimeoutMs: 120_000,
      keyPrefix: '',
      keyPrefx: 'typo',
    });
    expect(issues.map((p) => p.path).sort()).toEqual(
      ['store.commandTimeoutMs', 'store.connectTimeoutMs', 'store.keyPrefix', 'store.keyPrefx'].sort(),
    );
    try {
      resolveEzidOptions({
        ...BASE,
        store: { redis: 'http://:hunter2-secret@redis.internal' },
      } as EzidModuleOptions);
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('hunter2');
      expect(JSON.stringify((e as EzidConfigurationError).issues)).not.toContain('hunter2');
    }
  });
});

describe('the default store', () => {
  it('is in memory: not shared, up, with the per-process revocation list', async () => {
    const ref = await Test.createTestingModule({
      imports: [EzidModule.forRoot({ ...BASE, callback: false })],
    }).compile();
    const store = ref.get(EzidStore);
    expect(store.shared).toBe(false);
    expect(store.health()).toMatchObject({ kind: 'memory', status: 'up' });
    expect(ref.get(EzidRevocationList)).not.toBeInstanceOf(EzidSharedRevocationList);
    await ref.close();
  });
});

describeWithRedis('EzidModule with store.redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis.stop());

  it('boots with a URL, shares the revocation list, and closes its connections at shutdown', async () => {
    const ref = await Test.createTestingModule({
      imports: [
        EzidModule.forRoot({ ...BASE, callback: false, store: { redis: redis.url, keyPrefix: 'mod1:' } }),
      ],
    }).compile();
    await ref.init();
    const store = ref.get(EzidStore);
    expect(store.health()).toMatchObject({ kind: 'redis', status: 'up' });
    expect(ref.get(EzidRevocationList)).toBeInstanceOf(EzidSharedRevocationList);
    await ref.close();
    expect(store.health().status).toBe('down');
  });

  it("boots with the app's own ioredis client from forRootAsync: the client is not frozen and stays open", async () => {
    const client = new Redis(redis.url, { enableOfflineQueue: false, lazyConnect: true });
    await client.connect();
    const ref = await Test.createTestingModule({
      imports: [
        EzidModule.forRootAsync({
          useFactory: async () => ({
            ...BASE,
            callback: false,
            store: { redis: client, keyPrefix: 'mod2:' },
          }),
        }),
      ],
    }).compile();
    await ref.init();
    expect(Object.isFrozen(client)).toBe(false);
    const store = ref.get(EzidStore);
    expect(store.health().status).toBe('up');
    await store.set('k', 'v', 10_000);
    expect(await client.get('mod2:k')).toBe('v');
    await ref.close();
    expect(client.status).toBe('ready');
    await client.quit();
  });
});
