// Attack pass on the `store.redis` option given as an ioredis client (documented: "An ioredis
// client (`new Redis(...)`; the module duplicates it for pub/sub and never closes it)").
import Redis from 'ioredis';
import { EzidStore } from '../../src/store/ezid-store';
import { EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type CallbackTestApp,
  startCallbackApp,
} from '../callback/callback-test-app';
import { describeWithRedis, RedisServer } from '../support/redis-server';

describeWithRedis('attack: store.redis given as an ioredis client', () => {
  let emu: EzidEmulator;
  let redis: RedisServer;
  const apps: CallbackTestApp[] = [];
  const clients: Redis[] = [];

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    for (const a of apps.splice(0)) await a.close().catch(() => undefined);
    for (const c of clients) {
      try {
        c.disconnect();
      } catch {
        // A frozen client cannot even disconnect: close its socket's handle directly.
        try {
          (c as unknown as { stream?: { _handle?: { close(): void } } }).stream?._handle?.close();
        } catch {
          // nothing more to do
        }
      }
    }
    await redis.stop();
    await emu.stop();
  });

  // The client is created with lazyConnect so that a frozen one leaves no socket behind; with a
  // connected client the same freeze also breaks its socket streams (WritableState is frozen).
  it("the app's own client keeps working after EzidModule boots with it, and the store is up", async () => {
    const client = new Redis(redis.url, { lazyConnect: true });
    clients.push(client);
    let boot: string | undefined;
    try {
      const t = await startCallbackApp({
        platform: 'express',
        emu,
        callback: { mode: 'json' },
        extra: { store: { redis: client } },
      });
      apps.push(t);
      boot = t.app.get(EzidStore).health().status;
    } catch (err) {
      boot = `boot failed: ${(err as Error).message}`;
    }
    let own: string;
    try {
      if (client.status === 'wait') await client.connect();
      own = String(await client.set('app:own-key', 'v'));
    } catch (err) {
      own = `app's client broken: ${(err as Error).message}`;
    }
    expect({ boot, own, frozen: Object.isFrozen(client) }).toEqual({ boot: 'up', own: 'OK', frozen: false });
  });
});
