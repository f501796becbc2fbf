// Found by the second attack pass on the shared store (issue 15); kept as regression tests.
// Attack pass 15b: timers left running after shutdown. A revocation that could not be written keeps
// the shared revocation list's retry timer going every second after app.close(), forever (until the
// entry expires: the refresh cookie's max-age), holding the closed app's object graph.
// Real Nest app (Express), the emulator and a real redis-server on loopback; no sleeps.
import Redis from 'ioredis';
import { EzidRevocationList } from '../../src/auth/ezid-revocation-list';
import { EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type CallbackTestApp,
  linkParam,
  startCallbackApp,
  until,
} from '../callback/callback-test-app';
import { describeWithRedis, RedisServer } from '../support/redis-server';

interface Session {
  accessToken: string;
  refreshToken: string;
}

describeWithRedis('attack 15b: shared store timers after shutdown', () => {
  jest.setTimeout(30_000);
  let emu: EzidEmulator;
  let redis: RedisServer;
  let raw: Redis;
  let app: CallbackTestApp | undefined;

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    redis = await RedisServer.start();
    raw = new Redis(redis.url);
  });
  afterAll(async () => {
    await app?.close().catch(() => undefined);
    raw.disconnect();
    await redis.stop();
    await emu.stop();
  });

  it('no revocation retry runs after app.close()', async () => {
    const t = (app = await startCallbackApp({
      platform: 'express',
      emu,
      callback: { mode: 'json' },
      extra: { store: { redis: redis.url } },
    }));
    await t.request('POST', '/magic-link', { body: { email: 'alice@example.com' } });
    const code = linkParam(emu.outbox.last('alice@example.com')!.link, 'code');
    const s = (await t.request('POST', '/callback', { body: { code } })).json as unknown as Session;

    // Redis refuses writes while connected: the logout's revocations stay pending (503).
    await raw.config('SET', 'min-replicas-to-write', '1');
    const out = await t.request('POST', '/logout', {
      body: { refreshToken: s.refreshToken },
      headers: { authorization: `Bearer ${s.accessToken}` },
    });
    expect(out.status).toBe(503);

    const list = t.app.get(EzidRevocationList);
    const flush = jest.spyOn(list, 'flush');
    await t.close();
    app = undefined;
    await raw.config('SET', 'min-replicas-to-write', '0');
    const callsAtClose = flush.mock.calls.length;
    // Wait (bounded) for the 1 s retry timer to fire once more.
    const firedAfterClose = await until(() => flush.mock.calls.length > callsAtClose, 3_000).then(
      () => true,
      () => false,
    );
    expect({ retryTimerFiredAfterClose: firedAfterClose }).toEqual({ retryTimerFiredAfterClose: false });
  });
});
