// The EzidStore contract, run against both implementations: EzidMemoryStore and EzidRedisStore on a
// real redis-server (its own instance, killed after). Then what only Redis has: a server killed
// mid-run (SIGKILL) and restarted, and a client passed in by the app.
import Redis from 'ioredis';
import { EzidMemoryStore, EzidRedisStore, EzidStore, EzidStoreUnavailableError } from '../../src';
import { until } from '../callback/callback-test-app';
import { describeWithRedis, RedisServer } from '../support/redis-server';

let redis: RedisServer | undefined;
let prefixes = 0;

async function redisStore(
  extra: Partial<ConstructorParameters<typeof EzidRedisStore>[0]> = {},
): Promise<EzidRedisStore> {
  const store = new EzidRedisStore({
    redis: redis!.url,
    keyPrefix: `contract${++prefixes}:`,
    commandTimeoutMs: 500,
    connectTimeoutMs: 2000,
    ...extra,
  });
  await store.onModuleInit();
  return store;
}

function nextMessage(store: EzidStore, channel: string): Promise<string> {
  return new Promise((resolve) => store.subscribe(channel, resolve));
}

/** Resolves once Redis counts a subscriber on `channel` (PUBSUB NUMSUB), so a publish cannot race the SUBSCRIBE. */
async function subscribed(url: string, channel: string): Promise<void> {
  const probe = new Redis(url);
  try {
    for (;;) {
      const [, n] = (await probe.pubsub('NUMSUB', channel)) as [string, number];
      if (Number(n) > 0) return;
    }
  } finally {
    probe.disconnect();
  }
}

const IMPLEMENTATIONS: Array<[string, () => Promise<EzidStore>]> = [
  ['memory', async () => new EzidMemoryStore()],
  ['redis', () => redisStore()],
];

describeWithRedis('EzidStore contract', () => {
  const open: EzidStore[] = [];
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterEach(async () => {
    for (const s of open.splice(0)) if (s instanceof EzidRedisStore) await s.onApplicationShutdown();
  });
  afterAll(() => redis?.stop());

  describe.each(IMPLEMENTATIONS)('%s', (kind, create) => {
    let store: EzidStore;
    beforeEach(async () => {
      store = await create();
      open.push(store);
    });

    it('reports its kind and is up', () => {
      expect(store.health()).toMatchObject({ kind, status: 'up' });
      expect(store.shared).toBe(kind === 'redis');
    });

    it('get/set with a TTL, set-if-absent as a lock, delete only with the right value', async () => {
      expect(await store.get('k')).toBeUndefined();
      expect(await store.set('k', 'v1', 60_000)).toBe(true);
      expect(await store.get('k')).toBe('v1');
      expect(await store.set('k', 'v2', 60_000, true)).toBe(false);
      expect(await store.get('k')).toBe('v1');
      await store.delete('k', 'not-mine');
      expect(await store.get('k')).toBe('v1');
      await store.delete('k', 'v1');
      expect(await store.get('k')).toBeUndefined();
      expect(await store.set('k', 'v3', 60_000, true)).toBe(true);
      await store.delete('k');
      expect(await store.get('k')).toBeUndefined();
    });

    it('setIfAbsent says who holds a key, replace is a compare-and-set', async () => {
      expect(await store.setIfAbsent('lock', 'me', 60_000)).toBeUndefined();
      expect(await store.setIfAbsent('lock', 'you', 60_000)).toBe('me');
      expect(await store.replace('lock', 'you', 'done:you', 60_000)).toBe(false);
      expect(await store.replace('lock', 'me', 'done:me', 60_000)).toBe(true);
      expect(await store.get('lock')).toBe('done:me');
      expect(await store.replace('absent', 'x', 'y', 60_000)).toBe(false);
      expect(await store.get('absent')).toBeUndefined();
    });

    it('counts hits in a window and blocks past the limit', async () => {
      const hits = [];
      for (let i = 0; i < 4; i++) hits.push(await store.hit('ip', 60_000, 3, 30_000));
      expect(hits.map((h) => [h.totalHits, h.isBlocked])).toEqual([
        [1, false],
        [2, false],
        [3, false],
        [4, true],
      ]);
      expect(hits[0].timeToExpire).toBeGreaterThan(55);
      expect(hits[3].timeToBlockExpire).toBeGreaterThan(25);
      const again = await store.hit('ip', 60_000, 3, 30_000);
      expect(again.isBlocked).toBe(true);
      expect((await store.hit('other-ip', 60_000, 3, 30_000)).totalHits).toBe(1);
    });

    it('keeps an expiring set: a later expiry wins, expired members are not read', async () => {
      const now = Date.now();
      await store.addExpiring('set', 'a', now + 60_000);
      await store.addExpiring('set', 'a', now + 30_000);
      await store.addExpiring('set', 'b', now + 120_000);
      await store.addExpiring('set', 'old', now - 1);
      const read = new Map(await store.readExpiring('set'));
      expect([...read.keys()].sort()).toEqual(['a', 'b']);
      expect(read.get('a')).toBe(now + 60_000);
    });

    it('delivers published messages to subscribers (this instance included)', async () => {
      const got = nextMessage(store, 'chan');
      if (store instanceof EzidRedisStore) await subscribed(redis!.url, `contract${prefixes}:chan`);
      await store.publish('chan', 'hello world');
      expect(await got).toBe('hello world');
    });

    it('calls onAvailable listeners once it is available', async () => {
      let called = 0;
      store.onAvailable(() => called++);
      await until(() => called === 1);
    });
  });
});

describeWithRedis('EzidRedisStore: Redis killed and restarted', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(() => server.stop());

  it('goes down at once, fails fast, and comes back with onAvailable (no crash, no hang)', async () => {
    const store = new EzidRedisStore({
      redis: server.url,
      keyPrefix: 'kill:',
      // Long enough that a command waiting on it would be unmistakable: failing fast means well under it.
      commandTimeoutMs: 5000,
      connectTimeoutMs: 2000,
    });
    await store.onModuleInit();
    let available = 0;
    store.onAvailable(() => available++);
    await until(() => available === 1);
    const messages: string[] = [];
    store.subscribe('c', (m) => messages.push(m));
    await store.set('k', 'v', 60_000);

    await server.kill();
    await until(() => store.health().status === 'down', 10_000);
    const started = Date.now();
    await expect(store.get('k')).rejects.toBeInstanceOf(EzidStoreUnavailableError);
    await expect(store.hit('ip', 1000, 1, 1000)).rejects.toBeInstanceOf(EzidStoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(2500); // both commands, against 5000 ms for one that waited

    await server.restart();
    await until(() => available === 2, 10_000);
    expect(store.health().status).toBe('up');
    expect(await store.get('k')).toBeUndefined(); // the restarted server is empty
    await store.publish('c', 'after restart'); // re-subscribed before onAvailable fired
    await until(() => messages.includes('after restart'));
    await store.onApplicationShutdown();
  });

  it('a client passed in is used, duplicated for pub/sub, and never closed by the module', async () => {
    const client = new Redis(server.url, { lazyConnect: true });
    await client.connect();
    const store = new EzidRedisStore({
      redis: client,
      keyPrefix: 'mine:',
      commandTimeoutMs: 500,
      connectTimeoutMs: 2000,
    });
    await store.onModuleInit();
    expect(store.health().status).toBe('up');
    await store.set('k', 'v', 60_000);
    expect(await client.get('mine:k')).toBe('v');
    const got = nextMessage(store, 'c');
    await subscribed(server.url, 'mine:c');
    await store.publish('c', 'm');
    expect(await got).toBe('m');
    await store.onApplicationShutdown();
    expect(client.status).toBe('ready');
    await client.quit();
  });

  it('boot does not wait past connectTimeoutMs when Redis is down, and never throws', async () => {
    const down = await RedisServer.start();
    const url = down.url;
    await down.stop();
    const store = new EzidRedisStore({
      redis: url,
      keyPrefix: 'down:',
      commandTimeoutMs: 500,
      connectTimeoutMs: 300,
    });
    const started = Date.now();
    await store.onModuleInit();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(store.health().status).toBe('down');
    await expect(store.set('k', 'v', 1000)).rejects.toBeInstanceOf(EzidStoreUnavailableError);
    await store.onApplicationShutdown();
  });
});
