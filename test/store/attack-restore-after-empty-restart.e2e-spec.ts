// Found by the second attack pass on the shared store (issue 15); kept as regression tests.
// Attack pass 15b: Redis restarted empty. Each instance writes its revocation copy back when it
// reconnects, but only once: if that write-back fails (Redis refusing writes for a moment after the
// restart: read-only replica, min-replicas, OOM), it is never retried while the connection stays up
// (the retry timer only re-sends `unshared`), and restored entries are never published. An instance
// started afterwards reads an empty set and accepts every revoked token.
// Real Nest apps (Express), the emulator and a real redis-server on loopback; no sleeps.
import Redis from 'ioredis';
import { EzidStore } from '../../src/store';
import { type CallbackTestApp, eventCount, linkParam, until } from '../callback/callback-test-app';
import { describeWithRedis } from '../support/redis-server';
import { useRedisCallbackWorld } from './redis-callback-world';

interface Session {
  accessToken: string;
  refreshToken: string;
}

describeWithRedis('attack 15b: revocations after Redis restarted empty', () => {
  jest.setTimeout(60_000);
  const world = useRedisCallbackWorld();
  const start = () => world.start();

  const me = (t: CallbackTestApp, accessToken: string) =>
    t.request('GET', '/me', { headers: { authorization: `Bearer ${accessToken}` } });

  it('a write-back that fails after an empty restart is retried until it lands: an instance started afterwards refuses the logged-out token', async () => {
    const a = await start();
    await a.request('POST', '/magic-link', { body: { email: 'alice@example.com' } });
    const { emu, redis } = world;
    const code = linkParam(emu.outbox.last('alice@example.com')!.link, 'code');
    const s = (await a.request('POST', '/callback', { body: { code } })).json as unknown as Session;
    const out = await a.request('POST', '/logout', {
      body: { refreshToken: s.refreshToken },
      headers: { authorization: `Bearer ${s.accessToken}` },
    });
    expect(out.status).toBe(204);
    expect((await me(a, s.accessToken)).status).toBe(401);

    // Redis restarts empty (no persistence) and refuses writes for a moment after it comes back.
    await redis.kill();
    const store = a.app.get(EzidStore);
    await until(() => store.health().status === 'down', 10_000);
    await redis.restart();
    // A client of its own, connected at once: the setting must be in place before A reconnects.
    const admin = new Redis(redis.url);
    await admin.config('SET', 'min-replicas-to-write', '1');
    expect(store.health().status).toBe('down'); // A had not reconnected yet: it will find Redis refusing writes
    const failedBefore = eventCount(a.logger, 'revocations_sync_failed');
    await until(() => store.health().status === 'up', 10_000);
    await until(() => eventCount(a.logger, 'revocations_sync_failed') > failedBefore, 10_000);

    // Redis accepts writes again and stays up; A stays connected (no reconnect, so no new resync).
    const sharedBefore = eventCount(a.logger, 'revocations_shared');
    await admin.config('SET', 'min-replicas-to-write', '0');
    expect((await me(a, s.accessToken)).status).toBe(401);
    // The write-back is retried (every second) until it lands.
    await until(() => eventCount(a.logger, 'revocations_shared') > sharedBefore, 10_000);

    // Later a new instance starts (autoscaling, a deploy): it reads the shared set.
    const c = await start();
    const outcome = {
      revokedInRedis: await admin.zcard('ezid:revoked'),
      acceptedOnNewInstance: (await me(c, s.accessToken)).status === 200,
    };
    admin.disconnect();
    // docs/scaling.md: "Redis restarted empty: the instances write their revocation copies back, so an
    // instance started afterwards still refuses them".
    expect(outcome.acceptedOnNewInstance).toBe(false);
  });
});
