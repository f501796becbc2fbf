// Attack pass on the shared (Redis) refresh rotation: the sealed result slot outlives the lock it
// answers, so a waiter that arrives after the rotation settled gets the rotated-into session.
// Real Nest apps (Express) against the emulator and a real redis-server on loopback.
import { refreshTokenRevocationId } from '../../src/auth/ezid-revocation-list';
import { type CallbackTestApp, signInJson } from '../callback/callback-test-app';
import { describeWithRedis } from '../support/redis-server';
import { useRedisCallbackWorld } from './redis-callback-world';

interface Session {
  accessToken: string;
  refreshToken: string;
}

describeWithRedis('attack: shared refresh rotation', () => {
  const world = useRedisCallbackWorld();
  const start = () => world.start();

  const refresh = (t: CallbackTestApp, refreshToken: string, ua: string) =>
    t.request('POST', '/refresh', { body: { refreshToken }, headers: { 'user-agent': ua } });
  const me = (t: CallbackTestApp, accessToken: string) =>
    t.request('GET', '/me', { headers: { authorization: `Bearer ${accessToken}` } });

  it('a rotated refresh token replayed by another client on another instance, while any request holds its lock, is reuse (not the rotated-into session)', async () => {
    const a = await start();
    const b = await start();
    const s0 = await signInJson(world.emu, a);
    // The victim rotates s0 on instance A.
    const r1 = await refresh(a, s0.refreshToken, 'victim-browser');
    expect(r1.status).toBe(200);
    const s1 = r1.json as unknown as Session;

    // Moments later some request for the same token holds its lock on a third instance (e.g. the
    // victim's second tab being answered 409 there, or the thief's own first request being
    // judged as reuse). Simulated by taking the lock exactly as an instance does (SET NX PX).
    const id = refreshTokenRevocationId(s0.refreshToken);
    expect(await world.raw.set(`ezid:refresh:lock:${id}`, 'other-instance', 'PX', 15_000, 'NX')).toBe('OK');

    // The thief replays the stolen s0 on instance B from another client.
    const stolen = await refresh(b, s0.refreshToken, 'thief-tool');
    const loot = stolen.json as Partial<Session> | undefined;
    // What the thief can do with whatever it was given (on the current code: the victim's live
    // session, whose access token works and whose refresh token rotates on).
    const outcome = {
      status: stolen.status,
      code: stolen.json?.code,
      gotVictimsSession: loot?.accessToken === s1.accessToken,
      accessWorks: loot?.accessToken ? (await me(a, loot.accessToken)).status === 200 : false,
    };
    // Single-process contract (docs/callback.md): after the rotation settled, a rotated refresh
    // token never gets tokens again; another client's replay is reuse.
    expect(outcome).toEqual({
      status: 401,
      code: 'refresh_token_reused',
      gotVictimsSession: false,
      accessWorks: false,
    });
  });

  it('a thief replaying a rotated token on two instances at once gets no usable session', async () => {
    const a = await start();
    const b = await start();
    const s0 = await signInJson(world.emu, a);
    const r1 = await refresh(a, s0.refreshToken, 'victim-browser');
    expect(r1.status).toBe(200);
    const s1 = r1.json as unknown as Session;

    const [x, y] = await Promise.all([
      refresh(a, s0.refreshToken, 'thief-tool'),
      refresh(b, s0.refreshToken, 'thief-tool'),
    ]);
    const got = [x, y].filter((r) => r.status === 200).map((r) => r.json as unknown as Session);
    // Whatever the race, the thief must not leave with a session that still works anywhere.
    for (const s of got) {
      for (const t of [a, b]) expect((await me(t, s.accessToken)).status).toBe(401);
      for (const t of [a, b]) expect((await refresh(t, s.refreshToken, 'thief-tool')).status).toBe(401);
    }
    expect(got.map((s) => s.accessToken)).not.toContain(s1.accessToken);
  });
  it('no injected lock: a thief who knows the victim UA races a grace request against a replay on another instance and leaves with a live session', async () => {
    // Same IP for everyone here (loopback), as behind a proxy without trust-proxy: the grace
    // window's client fingerprint is then the User-Agent only, which a thief can copy.
    const a = await start();
    const b = await start();
    const c = await start();
    const wins: string[] = [];
    for (let i = 0; i < 10 && wins.length === 0; i++) {
      const s0 = await signInJson(world.emu, a);
      const r1 = await refresh(a, s0.refreshToken, 'victim-browser');
      expect(r1.status).toBe(200);
      const [onC, onB] = await Promise.all([
        refresh(c, s0.refreshToken, 'victim-browser'), // 409 refresh_superseded, holding the lock meanwhile
        refresh(b, s0.refreshToken, 'thief-tool'),
      ]);
      for (const r of [onC, onB]) {
        const at = (r.json as Partial<Session> | undefined)?.accessToken;
        if (r.status === 200 && at && (await me(a, at)).status === 200)
          wins.push(`attempt ${i}: ${r === onB ? 'B' : 'C'}`);
      }
    }
    // Single process: every one of these requests is 409 or 401, never tokens.
    expect(wins).toEqual([]);
  });
});
