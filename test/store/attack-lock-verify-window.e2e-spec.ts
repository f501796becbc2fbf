// Found by the second attack pass on the shared store (issue 15); kept as regression tests.
// Attack pass 15b on the shared refresh lock: the lock says "in flight" (and its TTL only covers the
// upstream call) for as long as the holder VERIFIES the new access token, which may need a JWKS fetch
// (a key rotation at EZiD) bounded by token.jwks.timeoutMs, not by http.timeoutMs.
// Real Nest apps (Express) against the emulator and a real redis-server on loopback; no sleeps.
import { refreshTokenRevocationId } from '../../src/auth/ezid-revocation-list';
import {
  type CallbackTestApp,
  createGate,
  eventCount,
  linkParam,
  until,
} from '../callback/callback-test-app';
import { describeWithRedis } from '../support/redis-server';
import { useRedisCallbackWorld } from './redis-callback-world';

interface Session {
  accessToken: string;
  refreshToken: string;
}

describeWithRedis('attack 15b: the shared refresh lock while the holder verifies', () => {
  jest.setTimeout(60_000);
  const world = useRedisCallbackWorld();
  const start = (http?: { timeoutMs: number }) =>
    world.start({
      // cooldownSec 0: a new kid is fetched at once; a JWKS fetch may take up to 30 s.
      token: {
        jwksUri: world.emu.jwksUri,
        issuer: world.emu.issuer,
        jwks: { cooldownSec: 0, timeoutMs: 30_000 },
      },
      ...(http ? { http } : {}),
    });

  async function signIn(t: CallbackTestApp, email = 'alice@example.com'): Promise<Session> {
    await t.request('POST', '/magic-link', { body: { email } });
    const code = linkParam(world.emu.outbox.last(email)!.link, 'code');
    const r = await t.request('POST', '/callback', { body: { code } });
    expect(r.status).toBe(200);
    return r.json as unknown as Session;
  }

  const refresh = (t: CallbackTestApp, refreshToken: string, ua: string) =>
    t.request('POST', '/refresh', { body: { refreshToken }, headers: { 'user-agent': ua } });
  const me = (t: CallbackTestApp, accessToken: string) =>
    t.request('GET', '/me', { headers: { authorization: `Bearer ${accessToken}` } });

  it('a replay from another client that arrives after the upstream refresh returned (holder still verifying) is reuse, not the victim session', async () => {
    const a = await start();
    const b = await start();
    const s0 = await signIn(a);
    const lockKey = `ezid:refresh:lock:${refreshTokenRevocationId(s0.refreshToken)}`;

    // EZiD rotates its signing key: the next access token has a kid the instances have not fetched.
    world.emu.rotateKeys();
    const jwksGate = createGate();
    world.emu.fault('jwks', { gate: jwksGate.promise });
    const refreshesBefore = world.emu.requestCount('legacy.emailLinkRefresh');
    const jwksBefore = world.emu.requestCount('jwks');

    const victim = refresh(a, s0.refreshToken, 'victim-browser');
    // The upstream refresh has RETURNED (EZiD consumed s0): instance A now fetches the JWKS to verify.
    await until(() => world.emu.requestCount('jwks') > jwksBefore, 10_000);
    expect(world.emu.requestCount('legacy.emailLinkRefresh')).toBe(refreshesBefore + 1);
    const lockNow = await world.raw.get(lockKey);

    // Only now does the thief replay the stolen s0, on instance B, from another client.
    const joinedBefore = eventCount(b.logger, 'refresh_joined');
    const thief = refresh(b, s0.refreshToken, 'thief-tool');
    await until(() => eventCount(b.logger, 'refresh_joined') > joinedBefore, 10_000);
    jwksGate.open();

    const [v, t] = await Promise.all([victim, thief]);
    expect(v.status).toBe(200);
    const s1 = v.json as unknown as Session;
    const loot = t.json as Partial<Session> | undefined;
    const outcome = {
      lockSaidDoneAfterUpstreamReturned: lockNow?.startsWith('done:') ?? false,
      status: t.status,
      code: t.json?.code,
      gotVictimsSession: loot?.accessToken === s1.accessToken,
      thiefAccessWorks: loot?.accessToken ? (await me(a, loot.accessToken)).status === 200 : false,
    };
    // docs/scaling.md: "a request that arrives after the call returned never reads a result, it waits
    // for the release and is judged by the rotation record (grace or reuse)".
    expect(outcome).toEqual({
      lockSaidDoneAfterUpstreamReturned: true,
      status: 401,
      code: 'refresh_token_reused',
      gotVictimsSession: false,
      thiefAccessWorks: false,
    });
  });

  it("the lock outlives the holder's verification: a second tab on another instance shares the session, one EZiD refresh", async () => {
    // http.timeoutMs 1000 and token.jwks.timeoutMs 30 s: the lock must cover both deadlines.
    const a = await start({ timeoutMs: 1000 });
    const b = await start({ timeoutMs: 1000 });
    const s0 = await signIn(a);
    const lockKey = `ezid:refresh:lock:${refreshTokenRevocationId(s0.refreshToken)}`;

    world.emu.rotateKeys();
    const upstreamGate = createGate();
    const jwksGate = createGate();
    world.emu.fault('legacy.emailLinkRefresh', { gate: upstreamGate.promise, times: 1 });
    world.emu.fault('jwks', { gate: jwksGate.promise });
    const refreshesBefore = world.emu.requestCount('legacy.emailLinkRefresh');
    const jwksBefore = world.emu.requestCount('jwks');

    // Tab 1 on A: its upstream refresh is in flight.
    const tab1 = refresh(a, s0.refreshToken, 'victim-browser');
    await until(() => world.emu.requestCount('legacy.emailLinkRefresh') > refreshesBefore, 10_000);
    // Tab 2 of the same browser on B, while that call is in flight: it must share its result.
    const joinedBefore = eventCount(b.logger, 'refresh_joined');
    const tab2 = refresh(b, s0.refreshToken, 'victim-browser');
    await until(() => eventCount(b.logger, 'refresh_joined') > joinedBefore, 10_000);

    upstreamGate.open(); // EZiD answers at once (well within http.timeoutMs)
    await until(() => world.emu.requestCount('jwks') > jwksBefore, 10_000);
    // A is verifying the new token (a JWKS fetch, within token.jwks.timeoutMs): its lock outlives that
    // deadline (it was taken for http.timeoutMs + token.jwks.timeoutMs + 5 s), so it cannot expire under
    // a verification and let another instance call EZiD with the same token.
    expect(await world.raw.pttl(lockKey)).toBeGreaterThan(30_000);

    jwksGate.open();
    const second = await tab2;
    const first = await tab1;
    expect(first.status).toBe(200);
    const outcome = {
      upstreamRefreshes: world.emu.requestCount('legacy.emailLinkRefresh') - refreshesBefore,
      tab2: { status: second.status, code: second.json?.code },
    };
    // docs/scaling.md: "a refresh token raced on two instances must make one EZiD call and log nobody
    // out"; tab 2 found the lock while the call was in flight: it gets the same session.
    expect(outcome).toEqual({ upstreamRefreshes: 1, tab2: { status: 200, code: undefined } });
    expect((second.json as unknown as Session).accessToken).toBe(
      (first.json as unknown as Session).accessToken,
    );
  });
});
