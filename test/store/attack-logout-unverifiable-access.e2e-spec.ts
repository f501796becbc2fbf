// Found by the second attack pass on the shared store (issue 15); kept as regression tests.
// Attack pass 15b: a logout on an instance that cannot verify the access token right now (its JWKS
// does not have the new signing key yet: cooldown, or the JWKS unreachable) treats the token as
// "invalid, nothing to revoke" and answers 204, while another instance, which has the key, keeps
// accepting it. Real Nest apps (Express), the emulator and a real redis-server on loopback; no sleeps.
import { type CallbackTestApp, linkParam } from '../callback/callback-test-app';
import { describeWithRedis } from '../support/redis-server';
import { useRedisCallbackWorld } from './redis-callback-world';

interface Session {
  accessToken: string;
  refreshToken: string;
}

describeWithRedis('attack 15b: logout on an instance that cannot verify the access token yet', () => {
  jest.setTimeout(60_000);
  const world = useRedisCallbackWorld();
  const start = () =>
    world.start({
      token: {
        jwksUri: world.emu.jwksUri,
        issuer: world.emu.issuer,
        jwks: { cooldownSec: 3600, timeoutMs: 2000 },
      },
    });

  async function signIn(t: CallbackTestApp, email: string): Promise<Session> {
    await t.request('POST', '/magic-link', { body: { email } });
    const code = linkParam(world.emu.outbox.last(email)!.link, 'code');
    const r = await t.request('POST', '/callback', { body: { code } });
    expect(r.status).toBe(200);
    return r.json as unknown as Session;
  }

  const me = (t: CallbackTestApp, accessToken: string) =>
    t.request('GET', '/me', { headers: { authorization: `Bearer ${accessToken}` } });

  it('logout answers 204 on instance A while instance B still accepts the access token', async () => {
    const a = await start(); // A has fetched the JWKS at boot (its cooldown runs from now)
    await signIn(a, 'bob@example.com');
    world.emu.rotateKeys(); // EZiD rotates its signing key
    const b = await start(); // B boots (or refetches) after the rotation: it knows the new key
    const s = await signIn(b, 'alice@example.com'); // B fetches the new key set: the session is signed with the new key
    expect((await me(b, s.accessToken)).status).toBe(200);

    // The user signs out; the load balancer sends the logout to A.
    const out = await a.request('POST', '/logout', {
      body: { refreshToken: s.refreshToken },
      headers: { authorization: `Bearer ${s.accessToken}` },
    });
    const outcome = {
      logout: out.status,
      accessTokenStillAcceptedOnB: (await me(b, s.accessToken)).status === 200,
    };
    // docs/scaling.md: "a logout on one instance must be refused by all of them"; a 204 promises it.
    expect(outcome).not.toEqual({ logout: 204, accessTokenStillAcceptedOnB: true });
  });
});
