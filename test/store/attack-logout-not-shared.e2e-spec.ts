// Attack pass on the shared revocation list: a logout whose revocation could not be shared answers
// 503 the first time, but the retry answers 204 (the access token is already revoked in this
// process, so nothing is written again) while the other instances still accept the token.
import Redis from 'ioredis';
import { EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type CallbackTestApp,
  signInJson,
  startCallbackApp,
  until,
} from '../callback/callback-test-app';
import { EzidStore } from '../../src/store/ezid-store';
import { describeWithRedis, RedisServer } from '../support/redis-server';

describeWithRedis('attack: logout reported done while its revocation is not shared', () => {
  let emu: EzidEmulator;
  let redis: RedisServer;
  const apps: CallbackTestApp[] = [];

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  beforeEach(async () => {
    redis = await RedisServer.start();
  });
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
    await redis.stop();
  });
  afterAll(() => emu.stop());

  async function start(): Promise<CallbackTestApp> {
    const t = await startCallbackApp({
      platform: 'express',
      emu,
      callback: { mode: 'json' },
      extra: { store: { redis: redis.url } },
    });
    apps.push(t);
    return t;
  }

  const me = (t: CallbackTestApp, accessToken: string) =>
    t.request('GET', '/me', { headers: { authorization: `Bearer ${accessToken}` } });
  const logoutBearer = (t: CallbackTestApp, accessToken: string) =>
    t.request('POST', '/logout', { headers: { authorization: `Bearer ${accessToken}` }, body: {} });

  it('Redis down: the retried logout still answers 503 (not 204) while no other instance can know', async () => {
    const a = await start();
    const b = await start();
    const s = await signInJson(emu, a);
    expect((await me(b, s.accessToken)).status).toBe(200);
    await redis.kill();
    await until(() => a.app.get(EzidStore).health().status === 'down');
    const first = await logoutBearer(a, s.accessToken);
    expect(first.status).toBe(503);
    const retry = await logoutBearer(a, s.accessToken);
    // Nothing was shared (Redis is still down): the retry must not report success.
    expect(retry.status).toBe(503);
  });

  it('Redis refusing writes with an error reply (NOREPLICAS) while up: after a 503 then a 204 retry, the other instance keeps accepting the token once Redis is healthy', async () => {
    const a = await start();
    const b = await start();
    const s = await signInJson(emu, a);
    expect((await me(b, s.accessToken)).status).toBe(200);
    const admin = new Redis(redis.url);
    try {
      // Writes are refused with an error reply (the connection stays up: no reconnect, no timeout).
      await admin.config('SET', 'min-replicas-to-write', '1');
      const first = await logoutBearer(a, s.accessToken);
      expect(first.status).toBe(503);
      const retry = await logoutBearer(a, s.accessToken);
      await admin.config('SET', 'min-replicas-to-write', '0');
      // Redis is healthy again and the user was told 204: every instance must refuse the token.
      const onB = await me(b, s.accessToken);
      // Acceptable: the retry still says 503, or it says 204 and the token is refused everywhere.
      const acceptable = [
        { retry: 503, onB: 200 },
        { retry: 503, onB: 401 },
        { retry: 204, onB: 401 },
      ];
      expect(acceptable).toContainEqual({ retry: retry.status, onB: onB.status });
    } finally {
      admin.disconnect();
    }
  });
});
