// Issue 15: two Nest apps (each its own HTTP server) sharing one real redis-server and one emulator
// behave as one: the rate limit counts across both, a refresh raced on both makes one EZiD call,
// a replay on the other instance is reuse, a logout on one is refused by the other, the profile cache
// makes one EZiD call for both, and Redis killed mid-run (SIGKILL) then restarted costs no request a
// 500 and loses no revocation. Races are ordered with emulator gates and log events, never sleeps.
import { Controller, Get } from '@nestjs/common';
import Redis from 'ioredis';
import {
  accessTokenRevocationId,
  CurrentUser,
  EzidRevocationList,
  EzidSharedRevocationList,
  EzidStore,
  Roles,
} from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type CallbackTestApp,
  createGate,
  eventCount,
  signInJson,
  PLATFORMS,
  startCallbackApp,
  until,
} from '../callback/callback-test-app';
import { describeWithRedis, RedisServer } from '../support/redis-server';

const REFRESH = 'legacy.emailLinkRefresh';
const ORGS = 'users.getOrganizations';
const T1 = EMULATOR_IDS.tenant1;

@Controller('x')
class ProbeController {
  @Get('me')
  me(@CurrentUser('id') id: string) {
    return { id };
  }

  @Get('orgs/:tenantId/admin')
  @Roles('Admin')
  admin() {
    return { ok: true };
  }
}

interface Session {
  accessToken: string;
  refreshToken: string;
}

/** The id the revocation list keeps for an access token (its jti, else its signature's hash). */
function revocationId(accessToken: string): string {
  const [, payload, signature] = accessToken.split('.');
  return accessTokenRevocationId(
    JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
    Buffer.from(signature, 'base64url'),
  );
}

const storeOf = (t: CallbackTestApp): EzidStore => t.app.get(EzidStore);
const revocationsOf = (t: CallbackTestApp): EzidSharedRevocationList =>
  t.app.get(EzidRevocationList) as EzidSharedRevocationList;

describeWithRedis.each(PLATFORMS)('two instances sharing one Redis (%s)', (platform) => {
  let redis: RedisServer;
  let emu: EzidEmulator;
  const apps: CallbackTestApp[] = [];
  let prefixes = 0;
  let prefix = '';

  beforeAll(async () => {
    redis = await RedisServer.start();
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterEach(async () => {
    emu.clearFaults();
    for (const t of apps.splice(0)) await t.close();
  });
  afterAll(async () => {
    await emu.stop();
    await redis.stop();
  });

  async function instance(o: { callback?: object; extra?: object } = {}): Promise<CallbackTestApp> {
    const t = await startCallbackApp({
      platform,
      emu,
      controllers: [ProbeController],
      callback: o.callback,
      extra: { store: { redis: redis.url, keyPrefix: prefix }, ...o.extra },
    });
    apps.push(t);
    await until(() => storeOf(t).health().status === 'up');
    return t;
  }

  /** Two instances on a fresh key prefix (so tests never see each other's state). */
  async function pair(
    o: { callback?: object; extra?: object } = {},
  ): Promise<[CallbackTestApp, CallbackTestApp]> {
    prefix = `two-${platform}-${++prefixes}:`;
    return [await instance(o), await instance(o)];
  }

  /** Log events of every instance: Nest's static logger is process-wide (the last app's `useLogger`). */
  const events = (event: string): number => apps.reduce((n, t) => n + eventCount(t.logger, event), 0);

  const refresh = (t: CallbackTestApp, s: Pick<Session, 'refreshToken'>) =>
    t.request('POST', '/refresh', { body: { refreshToken: s.refreshToken } });
  const me = (t: CallbackTestApp, accessToken: string) =>
    t.request('GET', '/x/me', { headers: { authorization: `Bearer ${accessToken}` } });
  const logout = (t: CallbackTestApp, s: Session) =>
    t.request('POST', '/logout', {
      headers: { authorization: `Bearer ${s.accessToken}` },
      body: { refreshToken: s.refreshToken },
    });

  it('the login rate limit counts per client IP across both instances', async () => {
    const [a, b] = await pair({ callback: { rateLimit: { limit: 4, ttlSec: 60 } } });
    const start = (t: CallbackTestApp) =>
      t.request('POST', '/magic-link', { body: { email: 'alice@example.com' } });
    const first = [await start(a), await start(b), await start(a), await start(b)];
    expect(first.map((r) => r.status).every((s) => s < 300)).toBe(true);
    const over = [await start(b), await start(a)];
    expect(over.map((r) => r.status)).toEqual([429, 429]);
    expect(over[0].json).toMatchObject({ code: 'rate_limited' });
    expect(Number(over[0].res.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('a refresh raced on A and B makes one EZiD call; both get the same session and the user stays signed in', async () => {
    const [a, b] = await pair();
    const s = await signInJson(emu, a);
    const before = emu.requestCount(REFRESH);
    const gate = createGate();
    emu.fault(REFRESH, { gate: gate.promise, times: 1 });
    const onA = refresh(a, s);
    await until(() => emu.requestCount(REFRESH) === before + 1);
    const onB = refresh(b, s);
    await until(() => events('refresh_joined') === 1);
    gate.open();
    const [ra, rb] = await Promise.all([onA, onB]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    expect(rb.json?.accessToken).toBe(ra.json?.accessToken);
    expect(rb.json?.refreshToken).toBe(ra.json?.refreshToken);
    expect(emu.requestCount(REFRESH)).toBe(before + 1);
    const next = ra.json as unknown as Session;
    expect((await me(a, next.accessToken)).status).toBe(200);
    expect((await me(b, next.accessToken)).status).toBe(200);
    expect((await refresh(b, next)).status).toBe(200); // the session lives on, on either instance
  });

  it('a replay of the rotated refresh token on B gets no tokens and ends the session it was rotated into, on both instances', async () => {
    const [a, b] = await pair({ callback: { refresh: { reuseGraceSec: 0 } } });
    const s = await signInJson(emu, a);
    const r1 = await refresh(a, s);
    expect(r1.status).toBe(200);
    const next = r1.json as unknown as Session;
    const calls = emu.requestCount(REFRESH);
    const replay = await refresh(b, s);
    expect(replay.status).toBe(401);
    expect(replay.json).toMatchObject({ code: 'refresh_token_reused' });
    expect(replay.json?.accessToken).toBeUndefined();
    expect(emu.requestCount(REFRESH)).toBe(calls); // decided from the shared rotation record
    await until(() => revocationsOf(a).isRevoked(revocationId(next.accessToken))); // revoked on B, pushed to A
    expect((await me(a, next.accessToken)).json).toMatchObject({ code: 'token_revoked' });
    expect((await me(b, next.accessToken)).json).toMatchObject({ code: 'token_revoked' });
    expect((await refresh(a, next)).status).toBe(401);
  });

  it('within the grace window the same client replaying on B gets 409 refresh_superseded, no tokens, and the session survives', async () => {
    const [a, b] = await pair();
    const s = await signInJson(emu, a);
    const r1 = await refresh(a, s);
    const next = r1.json as unknown as Session;
    const replay = await refresh(b, s);
    expect(replay.status).toBe(409);
    expect(replay.json).toMatchObject({ code: 'refresh_superseded' });
    expect(replay.text).not.toContain(next.accessToken);
    expect((await me(b, next.accessToken)).status).toBe(200);
    // A re-tagged copy of the same token is not the exact token: reuse, on any instance.
    const retagged = await refresh(b, { refreshToken: `api.${s.refreshToken.slice('legacy.'.length)}` });
    expect(retagged.status).toBe(401);
  });

  it('logout on A refuses the access token on B (cached as verified there) and the refresh token everywhere', async () => {
    const [a, b] = await pair();
    const s = await signInJson(emu, a);
    expect((await me(b, s.accessToken)).status).toBe(200); // in B's verified-token cache
    const out = await logout(a, s);
    expect(out.status).toBe(204);
    const loggedOutAt = performance.now();
    await until(() => revocationsOf(b).isRevoked(revocationId(s.accessToken)));
    const latencyMs = performance.now() - loggedOutAt;
    expect(latencyMs).toBeLessThan(5000);
    expect((await me(b, s.accessToken)).json).toMatchObject({ code: 'token_revoked' });
    expect((await refresh(b, s)).status).toBe(401);
  });

  it('profile.source api: the shared cache makes one EZiD call for both instances, sequentially and when raced', async () => {
    const [a, b] = await pair({ extra: { profile: { source: 'api' } } });
    const admin = (t: CallbackTestApp, headers: Record<string, string>) =>
      t.request('GET', `/x/orgs/${T1}/admin`, { headers });
    const demo = emu.authHeader('demo@example.com');
    const before = emu.requestCount(ORGS);
    expect((await admin(a, demo)).status).toBe(200);
    expect((await admin(b, demo)).status).toBe(200);
    expect(emu.requestCount(ORGS)).toBe(before + 1);

    // Raced: B waits for A's fetch instead of making its own. (alice is a Member in org1: 403.)
    const alice = emu.authHeader('alice@example.com');
    const gate = createGate();
    emu.fault(ORGS, { gate: gate.promise, times: 1 });
    const onA = admin(a, alice);
    await until(() => emu.requestCount(ORGS) === before + 2);
    const onB = admin(b, alice);
    await until(() => events('profile_fetch_joined') === 1);
    gate.open();
    expect([(await onA).status, (await onB).status]).toEqual([403, 403]);
    expect(emu.requestCount(ORGS)).toBe(before + 2);
  });

  it('the hot path (token verification, @Roles tenant check, revocation check) sends Redis no command', async () => {
    const [a, b] = await pair({ extra: { profile: { source: 'token' } } });
    const probe = new Redis(redis.url);
    const processed = async (): Promise<number> =>
      Number(/total_commands_processed:(\d+)/.exec(await probe.info('stats'))![1]);
    const header = emu.authHeader('demo@example.com');
    for (const t of [a, b]) {
      expect((await t.request('GET', `/x/orgs/${T1}/admin`, { headers: header })).status).toBe(200); // warm
    }
    const idle = -(await processed()) + (await processed()); // the INFO call itself
    const before = await processed();
    for (let i = 0; i < 20; i++) {
      for (const t of [a, b]) {
        expect((await t.request('GET', `/x/orgs/${T1}/admin`, { headers: header })).status).toBe(200);
        expect((await me(t, header.authorization.slice('Bearer '.length))).status).toBe(200);
      }
    }
    expect((await processed()) - before).toBe(idle);
    probe.disconnect();
  });

  it('Redis hung (SIGSTOP): guarded routes answer, refresh answers on its per-process fallback, health says down, then up again once Redis answers', async () => {
    prefix = `hung-${platform}-${++prefixes}:`;
    const store = { redis: redis.url, keyPrefix: prefix, commandTimeoutMs: 100 };
    const a = await instance({ extra: { store } });
    const s = await signInJson(emu, a);
    redis.pause();
    try {
      expect((await me(a, s.accessToken)).status).toBe(200);
      const r = await refresh(a, s);
      expect(r.status).toBe(200);
      expect(storeOf(a).health().status).toBe('down');
      expect((await me(a, (r.json as unknown as Session).accessToken)).status).toBe(200);
    } finally {
      redis.resume();
    }
    await until(() => storeOf(a).health().status === 'up', 10_000);
  });

  it('Redis killed mid-run: no request gets a 500, every feature falls back, and nothing promised is lost after the restart', async () => {
    const [a, b] = await pair();
    const statuses: number[] = [];
    const track = async <T extends { status: number }>(r: Promise<T>): Promise<T> => {
      const out = await r;
      statuses.push(out.status);
      return out;
    };
    const early = await signInJson(emu, a);
    expect((await track(logout(a, early))).status).toBe(204); // revoked before the outage
    const s = await signInJson(emu, a);
    expect((await track(me(b, s.accessToken))).status).toBe(200);

    await redis.kill();
    await until(() => storeOf(a).health().status === 'down' && storeOf(b).health().status === 'down', 10_000);

    // Login and its rate limit (per process now), refresh (single flight per process), auth.
    const during = await signInJson(emu, b);
    const r = await track(refresh(a, during));
    expect(r.status).toBe(200);
    expect((await track(me(b, early.accessToken))).status).toBe(401); // B's copy kept the early revocation
    // Logout cannot reach the other instances: 503, refused here at once, shared on reconnect.
    const out = await track(logout(a, s));
    expect(out.status).toBe(503);
    expect(out.json).toMatchObject({ code: 'revocation_unavailable' });
    expect((await track(me(a, s.accessToken))).status).toBe(401);
    expect(events('rate_limit_per_process')).toBeGreaterThan(0);
    expect(events('refresh_per_process')).toBeGreaterThan(0);

    await redis.restart(); // empty: no persistence
    await until(() => storeOf(a).health().status === 'up' && storeOf(b).health().status === 'up', 15_000);
    // The logout made during the outage reaches B (written and published on reconnect).
    await until(() => revocationsOf(b).isRevoked(revocationId(s.accessToken)), 10_000);
    expect((await track(me(b, s.accessToken))).json).toMatchObject({ code: 'token_revoked' });
    // A third instance started now learns both revocations from the restarted Redis (re-seeded).
    const c = await instance();
    await until(
      () =>
        revocationsOf(c).isRevoked(revocationId(early.accessToken)) &&
        revocationsOf(c).isRevoked(revocationId(s.accessToken)),
      10_000,
    );
    expect((await track(me(c, early.accessToken))).json).toMatchObject({ code: 'token_revoked' });
    expect((await track(me(c, s.accessToken))).json).toMatchObject({ code: 'token_revoked' });
    expect(statuses.filter((x) => x >= 500 && x !== 503)).toEqual([]);
  });
});
