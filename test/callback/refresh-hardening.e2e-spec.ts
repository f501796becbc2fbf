// The refresh and logout path under attack: re-tagged refresh tokens (F6), rotations filling the
// revocation list (F1), junk logouts while EZiD fails (F2), unthrottled refresh chains (F3) and the
// grace window for a second tab (F4). Real Nest apps on Express and Fastify against the emulator.
import { EZID_MONOTONIC_CLOCK, EzidInMemoryRevocationList, EzidRevocationList } from '../../src';
import { EzidCallbackService } from '../../src/callback/ezid-callback.service';
import { EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  CallbackTestApp,
  CookieJar,
  PLATFORMS,
  createGate,
  eventCount,
  linkParam,
  startCallbackApp,
  type StartOptions,
} from './callback-test-app';

const LEGACY_REFRESH = 'legacy.emailLinkRefresh';
const API_REFRESH = 'tokens.refresh';
/** Rotations in the capacity test (each one a real EZiD refresh against the emulator). */
const ROTATIONS = 2000;

interface Session {
  accessToken: string;
  refreshToken: string;
}

/** Resolves once `done()` holds, checking on every turn of the event loop (no fixed sleeps). */
async function waitFor(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setImmediate(r));
}

describe.each(PLATFORMS)('refresh and logout hardening (%s)', (platform) => {
  let emu: EzidEmulator;
  const apps: CallbackTestApp[] = [];

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterEach(async () => {
    emu.clearFaults();
    for (const a of apps.splice(0)) await a.close();
  });
  afterAll(() => emu.stop());

  async function start(o: Partial<StartOptions> = {}): Promise<CallbackTestApp> {
    const t = await startCallbackApp({ platform, emu, callback: { mode: 'json' }, ...o });
    apps.push(t);
    return t;
  }

  /** json mode: a legacy email-link sign-in; the refresh token is `legacy.<uuid>`. */
  async function signIn(t: CallbackTestApp, email = 'alice@example.com'): Promise<Session> {
    await t.request('POST', '/magic-link', { body: { email } });
    const code = linkParam(emu.outbox.last(email)!.link, 'code');
    const r = await t.request('POST', '/callback', { body: { code } });
    expect(r.status).toBe(200);
    return r.json as unknown as Session;
  }

  const refresh = (t: CallbackTestApp, refreshToken: string) =>
    t.request('POST', '/refresh', { body: { refreshToken } });
  const me = (t: CallbackTestApp, accessToken: string) =>
    t.request('GET', '/me', { headers: { authorization: `Bearer ${accessToken}` } });
  const logout = (t: CallbackTestApp, s: Partial<Session>) =>
    t.request('POST', '/logout', {
      headers: s.accessToken ? { authorization: `Bearer ${s.accessToken}` } : {},
      body: s.refreshToken ? { refreshToken: s.refreshToken } : {},
    });
  const upstreamCalls = () => emu.requestCount(LEGACY_REFRESH) + emu.requestCount(API_REFRESH);

  describe('F1: rotations do not consume the revocation list', () => {
    it(`${ROTATIONS} rotations leave a 4-entry revocation list empty; logout then still records the session, and the first token is still reuse`, async () => {
      const list = new EzidInMemoryRevocationList(4);
      const t = await start({ customize: (b) => b.overrideProvider(EzidRevocationList).useValue(list) });
      const service = t.app.get(EzidCallbackService);
      const first = await signIn(t);
      let s: Session = first;
      for (let i = 0; i < ROTATIONS; i++) {
        const next = await service.refresh(s.refreshToken);
        s = { accessToken: next.accessToken, refreshToken: next.refreshToken! };
      }
      expect(list.size).toBe(0);
      expect(service.rotationRecords).toBe(ROTATIONS);

      const out = await logout(t, s);
      expect(out.status).toBe(204);
      // The presented access token, the refresh token, and the session logout rotated it into.
      expect(list.size).toBe(4);
      expect((await me(t, s.accessToken)).json).toMatchObject({ code: 'token_revoked' });

      const replay = await refresh(t, first.refreshToken);
      expect(replay.status).toBe(401);
      expect(replay.json).toMatchObject({ code: 'refresh_token_reused' });
    }, 120_000);
  });

  describe('F2: refresh tokens EZiD did not validate never reach the revocation list', () => {
    const FAULTS = [{ status: 503 }, { status: 429 }, { status: 500 }, { redirect: 'http://127.0.0.1:1/' }];

    it('logout with junk refresh tokens while EZiD fails records nothing: 503 idp_unavailable with Retry-After; a real logout afterwards still works', async () => {
      const list = new EzidInMemoryRevocationList(4);
      const t = await start({
        extra: { http: { retries: 0 } },
        customize: (b) => b.overrideProvider(EzidRevocationList).useValue(list),
      });
      let n = 0;
      for (const fault of FAULTS) {
        emu.fault(LEGACY_REFRESH, fault);
        emu.fault(API_REFRESH, fault);
        for (const tag of ['legacy', 'api']) {
          const r = await logout(t, { refreshToken: `${tag}.junk-${n++}` });
          expect(r.status).toBe(503);
          expect(r.json).toEqual({
            statusCode: 503,
            error: 'Service Unavailable',
            code: 'idp_unavailable',
            message: expect.any(String),
          });
          expect(r.res.headers.get('retry-after')).toMatch(/^\d+$/);
        }
      }
      expect(list.size).toBe(0);

      emu.clearFaults();
      const s = await signIn(t);
      expect((await logout(t, s)).status).toBe(204);
      expect(list.size).toBe(4);
      expect((await me(t, s.accessToken)).json).toMatchObject({ code: 'token_revoked' });
    });

    it('cookie mode: a junk refresh cookie during an outage is 503 idp_unavailable, nothing goes on the list, and every cookie is cleared', async () => {
      const list = new EzidInMemoryRevocationList(4);
      const t = await start({
        callback: { mode: 'cookie' },
        ownPublicUrl: true,
        extra: { http: { retries: 0 } },
        customize: (b) => b.overrideProvider(EzidRevocationList).useValue(list),
      });
      emu.fault(API_REFRESH, { status: 503 });
      for (let i = 0; i < 10; i++) {
        const r = await t.request('POST', '/logout', { headers: { cookie: `ezid_rt=api.junk-${i}` } });
        expect(r.status).toBe(503);
        expect(r.json).toMatchObject({ code: 'idp_unavailable' });
        expect(r.res.headers.getSetCookie().some((c) => c.startsWith('ezid_at=;'))).toBe(true);
        expect(r.res.headers.getSetCookie().some((c) => c.startsWith('ezid_rt=;'))).toBe(true);
      }
      expect(list.size).toBe(0);
    });

    it('cookie mode: a logout during an outage clears every cookie, and this process refuses the refresh token from then on (a stolen copy too), without calling EZiD', async () => {
      const t = await start({
        callback: { mode: 'cookie' },
        ownPublicUrl: true,
        extra: { http: { retries: 0 } },
      });
      const jar = new CookieJar();
      await t.request('POST', '/magic-link', { body: { email: 'alice@example.com' }, jar });
      jar.store(
        await fetch(emu.outbox.last('alice@example.com')!.link!, {
          headers: { cookie: jar.header()! },
          redirect: 'manual',
        }),
      );
      const stolen = jar.cookies.get('ezid_rt')!;
      expect(stolen).toBeTruthy();
      emu.fault(LEGACY_REFRESH, { status: 503 });
      const failed = await t.request('POST', '/logout', { jar });
      expect(failed.status).toBe(503);
      expect(jar.cookies.size).toBe(0); // signed out in this browser
      emu.clearFaults();
      const before = upstreamCalls();
      const replay = await t.request('POST', '/refresh', {
        headers: { cookie: `ezid_rt=${encodeURIComponent(stolen)}` },
      });
      expect(replay.status).toBe(401);
      expect(replay.json).toMatchObject({ code: 'session_expired' });
      expect(upstreamCalls()).toBe(before);
    });

    it('a valid access token is still revoked when EZiD cannot validate the refresh token', async () => {
      const t = await start({ extra: { http: { retries: 0 } } });
      const s = await signIn(t);
      emu.fault(LEGACY_REFRESH, { status: 503 });
      const r = await logout(t, s);
      expect(r.status).toBe(503);
      expect(r.json).toMatchObject({ code: 'idp_unavailable' });
      expect((await me(t, s.accessToken)).json).toMatchObject({ code: 'token_revoked' });
      emu.clearFaults();
      expect((await logout(t, { refreshToken: s.refreshToken })).status).toBe(204); // the retry
      const after = await refresh(t, s.refreshToken);
      expect(after.json).toMatchObject({ code: 'session_expired' });
    });
  });

  describe('F3: refresh and logout are rate limited per IP; rotation records are evicted oldest first', () => {
    it.each([
      ['/refresh', 401],
      ['/logout', 204],
    ])(
      '%s over callback.sessionRateLimit: 429 rate_limited with Retry-After, EZiD not called',
      async (path, allowed) => {
        const t = await start({ callback: { mode: 'json', sessionRateLimit: { limit: 3, ttlSec: 60 } } });
        const before = upstreamCalls();
        const answers = [];
        for (let i = 0; i < 5; i++)
          answers.push(await t.request('POST', path, { body: { refreshToken: `legacy.junk-${i}` } }));
        expect(answers.map((a) => a.status)).toEqual([allowed, allowed, allowed, 429, 429]);
        const last = answers[4];
        expect(last.json).toEqual({
          statusCode: 429,
          error: 'Too Many Requests',
          code: 'rate_limited',
          message: expect.any(String),
        });
        expect(Number(last.res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(last.res.headers.get('cache-control')).toBe('no-store');
        expect(upstreamCalls() - before).toBe(3);
      },
    );

    it('the default is 60 requests per 60 s per route; refresh and logout count separately', async () => {
      const t = await start({ callback: { mode: 'json', sessionRateLimit: undefined } });
      const statuses: number[] = [];
      for (let i = 0; i < 61; i++) statuses.push((await t.request('POST', '/logout')).status);
      expect(statuses.slice(0, 60)).toEqual(Array(60).fill(204));
      expect(statuses[60]).toBe(429);
      expect((await t.request('POST', '/refresh', { body: {} })).status).toBe(401);
    });

    it('cookie mode: the limit applies to the refresh cookie route too', async () => {
      const t = await start({
        callback: { mode: 'cookie', sessionRateLimit: { limit: 2, ttlSec: 60 } },
        ownPublicUrl: true,
      });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push(
          (await t.request('POST', '/refresh', { headers: { cookie: 'ezid_rt=api.junk' } })).status,
        );
      expect(statuses).toEqual([401, 401, 429]);
    });

    it('a thief refresh chain shorter than rotationMaxEntries cannot flush the victim record: the replay is still reuse; a longer one is logged', async () => {
      const t = await start({ callback: { mode: 'json', refresh: { rotationMaxEntries: 20 } } });
      const chain = async (s: Session, n: number): Promise<Session> => {
        for (let i = 0; i < n; i++) {
          const r = await refresh(t, s.refreshToken);
          expect(r.status).toBe(200);
          s = r.json as unknown as Session;
        }
        return s;
      };
      const victim = await signIn(t);
      const thief = await chain(victim, 20); // the victim's token, then 19 more rotations
      const replay = await refresh(t, victim.refreshToken);
      expect(replay.json).toMatchObject({ code: 'refresh_token_reused' });
      expect((await me(t, thief.accessToken)).json).toMatchObject({ code: 'token_revoked' });
      expect(eventCount(t.logger, 'refresh_rotation_evicted')).toBe(0);

      const victim2 = await signIn(t, 'demo@example.com');
      await chain(victim2, 25);
      expect(eventCount(t.logger, 'refresh_rotation_evicted')).toBe(1);
      // Evicted: no longer detected as reuse, but still refused (EZiD refresh tokens are single use).
      expect((await refresh(t, victim2.refreshToken)).json).toMatchObject({ code: 'session_expired' });
    });
  });

  describe('F4: a grace window for the refresh token that was just rotated (a second tab)', () => {
    /** A monotonic clock the test steps (no sleeping). */
    function manualClock() {
      let offset = 0;
      const origin = performance.now();
      return { clock: { now: () => origin + offset }, advance: (sec: number) => (offset += sec * 1000) };
    }

    async function startWithClock(callback: Partial<StartOptions['callback']> = {}) {
      const c = manualClock();
      const t = await start({
        callback: { mode: 'json', ...callback },
        customize: (b) => b.overrideProvider(EZID_MONOTONIC_CLOCK).useValue(c.clock),
      });
      return { t, advance: c.advance };
    }

    it('within the default 10 s the exact just-rotated token from the same client is 409 refresh_superseded: no tokens, no EZiD call, nothing revoked; after it, reuse', async () => {
      const { t, advance } = await startWithClock();
      const s = await signIn(t);
      const first = await refresh(t, s.refreshToken);
      expect(first.status).toBe(200);
      const next = first.json as unknown as Session;

      const before = upstreamCalls();
      advance(9);
      const tab2 = await refresh(t, s.refreshToken);
      expect(tab2.status).toBe(409);
      expect(tab2.json).toEqual({
        statusCode: 409,
        error: 'Conflict',
        code: 'refresh_superseded',
        message: expect.any(String),
      });
      // A replay never receives tokens, not even inside the window.
      expect(tab2.text).not.toContain(next.accessToken);
      expect(tab2.text).not.toContain(next.refreshToken);
      expect(upstreamCalls()).toBe(before);
      expect((await me(t, next.accessToken)).status).toBe(200);

      advance(2); // 11 s after the rotation
      const late = await refresh(t, s.refreshToken);
      expect(late.status).toBe(401);
      expect(late.json).toMatchObject({ code: 'refresh_token_reused' });
      expect(upstreamCalls()).toBe(before);
      expect((await me(t, next.accessToken)).json).toMatchObject({ code: 'token_revoked' });
    });

    it('another client (a different User-Agent) inside the window is reuse at once: the session it was rotated into is revoked', async () => {
      const { t, advance } = await startWithClock();
      const s = await signIn(t);
      const next = (await refresh(t, s.refreshToken)).json as unknown as Session;
      advance(1);
      const thief = await t.request('POST', '/refresh', {
        headers: { 'user-agent': 'another-client/1.0' },
        body: { refreshToken: s.refreshToken },
      });
      expect(thief.status).toBe(401);
      expect(thief.json).toMatchObject({ code: 'refresh_token_reused' });
      expect(thief.text).not.toContain(next.accessToken);
      expect((await me(t, next.accessToken)).json).toMatchObject({ code: 'token_revoked' });
    });

    it('only the exact same refresh token gets the grace result: a re-tagged one is reuse, even inside the window', async () => {
      const { t, advance } = await startWithClock();
      const s = await signIn(t);
      const next = (await refresh(t, s.refreshToken)).json as unknown as Session;
      advance(1);
      const retagged = await refresh(t, `api.${s.refreshToken.slice('legacy.'.length)}`);
      expect(retagged.status).toBe(401);
      expect(retagged.json).toMatchObject({ code: 'refresh_token_reused' });
      expect(retagged.text).not.toContain(next.accessToken);
      expect((await me(t, next.accessToken)).json).toMatchObject({ code: 'token_revoked' });
      // And the grace is over for the exact token too: its successor is revoked.
      expect((await refresh(t, s.refreshToken)).json).toMatchObject({ code: 'refresh_token_reused' });
    });

    it('no grace once the successor was itself rotated or logged out', async () => {
      const { t, advance } = await startWithClock();
      const a = await signIn(t);
      const a2 = (await refresh(t, a.refreshToken)).json as unknown as Session;
      expect((await refresh(t, a2.refreshToken)).status).toBe(200);
      advance(1);
      expect((await refresh(t, a.refreshToken)).json).toMatchObject({ code: 'refresh_token_reused' });

      const b = await signIn(t, 'demo@example.com');
      const b2 = (await refresh(t, b.refreshToken)).json as unknown as Session;
      expect((await logout(t, b2)).status).toBe(204);
      advance(1);
      const late = await refresh(t, b.refreshToken);
      expect(late.status).toBe(401);
      expect(late.json).toMatchObject({ code: 'refresh_token_reused' });
    });

    it('a logout from the second tab inside the window ends the successor session', async () => {
      const { t, advance } = await startWithClock();
      const s = await signIn(t);
      const next = (await refresh(t, s.refreshToken)).json as unknown as Session;
      advance(1);
      expect((await logout(t, { refreshToken: s.refreshToken })).status).toBe(204);
      expect((await me(t, next.accessToken)).json).toMatchObject({ code: 'token_revoked' });
      expect((await refresh(t, next.refreshToken)).json).toMatchObject({ code: 'session_expired' });
    });

    it('reuseGraceSec: 0 disables it; reuseGraceSec: 30 widens it', async () => {
      const off = await startWithClock({ refresh: { reuseGraceSec: 0 } });
      const s = await signIn(off.t);
      expect((await refresh(off.t, s.refreshToken)).status).toBe(200);
      expect((await refresh(off.t, s.refreshToken)).json).toMatchObject({ code: 'refresh_token_reused' });

      const wide = await startWithClock({ refresh: { reuseGraceSec: 30 } });
      const w = await signIn(wide.t, 'demo@example.com');
      expect((await refresh(wide.t, w.refreshToken)).status).toBe(200);
      wide.advance(29);
      expect((await refresh(wide.t, w.refreshToken)).status).toBe(409);
      wide.advance(2);
      expect((await refresh(wide.t, w.refreshToken)).status).toBe(401);
    });

    it('cookie mode: a second tab sending the old cookie inside the window gets 409 and keeps the new cookies the first tab received', async () => {
      const c = manualClock();
      const t = await start({
        callback: { mode: 'cookie' },
        ownPublicUrl: true,
        customize: (b) => b.overrideProvider(EZID_MONOTONIC_CLOCK).useValue(c.clock),
      });
      const jar = new CookieJar();
      await t.request('POST', '/magic-link', { body: { email: 'alice@example.com' }, jar });
      jar.store(
        await fetch(emu.outbox.last('alice@example.com')!.link!, {
          headers: { cookie: jar.header()! },
          redirect: 'manual',
        }),
      );
      const oldCookies = jar.header()!;
      const tab1 = await t.request('POST', '/refresh', { headers: { cookie: oldCookies } });
      expect(tab1.status).toBe(200);
      c.advance(3);
      const tab2 = await t.request('POST', '/refresh', { headers: { cookie: oldCookies } });
      expect(tab2.status).toBe(409);
      expect(tab2.json).toMatchObject({ code: 'refresh_superseded' });
      // No cookie is set or cleared: the browser keeps the session tab 1 received.
      expect(tab2.res.headers.getSetCookie()).toEqual([]);
      jar.store(tab1.res);
      expect((await t.request('POST', '/refresh', { headers: { cookie: jar.header()! } })).status).toBe(200);
    });
  });

  describe('reuse ends the whole chain, however long', () => {
    it('a thief who rotated the stolen token 70 times (past any fixed depth) loses the tip session when the victim presents it', async () => {
      const t = await start();
      const victim = await signIn(t);
      let thief = victim;
      const thiefAccess: string[] = [];
      for (let i = 0; i < 70; i++) {
        const r = await refresh(t, thief.refreshToken);
        expect(r.status).toBe(200);
        thief = r.json as unknown as Session;
        thiefAccess.push(thief.accessToken);
      }
      expect((await me(t, thief.accessToken)).status).toBe(200);
      const replay = await t.request('POST', '/refresh', {
        headers: { 'user-agent': 'victim-browser/1.0' },
        body: { refreshToken: victim.refreshToken },
      });
      expect(replay.json).toMatchObject({ code: 'refresh_token_reused' });
      // The tip and every unexpired access token of the chain are refused.
      expect((await me(t, thief.accessToken)).json).toMatchObject({ code: 'token_revoked' });
      expect((await me(t, thiefAccess[0])).json).toMatchObject({ code: 'token_revoked' });
      const tip = await refresh(t, thief.refreshToken);
      expect(tip.status).toBe(401);
      expect(tip.text).not.toContain('accessToken');
    });

    it('a rotation in flight when reuse is detected is born revoked: the thief never gets a live session out of it', async () => {
      const t = await start();
      const victim = await signIn(t);
      const thief = (await refresh(t, victim.refreshToken)).json as unknown as Session;
      const gate = createGate();
      emu.fault(LEGACY_REFRESH, { gate: gate.promise, times: 1 });
      const inFlight = refresh(t, thief.refreshToken);
      await waitFor(() => emu.requestCount(LEGACY_REFRESH) >= 2);
      const replay = await t.request('POST', '/refresh', {
        headers: { 'user-agent': 'victim-browser/1.0' },
        body: { refreshToken: victim.refreshToken },
      });
      expect(replay.json).toMatchObject({ code: 'refresh_token_reused' });
      gate.open();
      const late = await inFlight;
      expect(late.status).toBe(401);
      expect(late.json).toMatchObject({ code: 'session_expired' });
      expect(late.text).not.toContain('accessToken');
    });
  });

  describe('reuse and logout when the revocation list cannot keep up', () => {
    it('a full list: the logout that detects reuse answers 503 revocation_unavailable, never 204, and the thief’s tip is refused by this process', async () => {
      const list = new EzidInMemoryRevocationList(8);
      const t = await start({
        callback: { mode: 'json', refresh: { reuseGraceSec: 0 } },
        customize: (b) => b.overrideProvider(EzidRevocationList).useValue(list),
      });
      const victim = await signIn(t);
      const thief = (await refresh(t, victim.refreshToken)).json as unknown as Session;
      for (let i = 0; list.size < 8; i++) list.revoke(`filler-${i}`, Date.now() + 3_600_000);
      const out = await logout(t, { refreshToken: victim.refreshToken });
      expect(out.status).toBe(503);
      expect(out.json).toMatchObject({ code: 'revocation_unavailable' });
      const tip = await refresh(t, thief.refreshToken);
      expect(tip.status).toBe(401);
      expect(tip.text).not.toContain('accessToken');
    });

    it('a list whose isRevoked() catches up only after its write: a rotation in flight during reuse detection is still refused', async () => {
      class SlowList extends EzidInMemoryRevocationList {
        readonly gate = createGate();
        writes = 0;
        override async revoke(id: string, expiresAtMs: number): Promise<void> {
          this.writes++;
          await this.gate.promise;
          super.revoke(id, expiresAtMs);
        }
      }
      const list = new SlowList(1000);
      const t = await start({
        callback: { mode: 'json', refresh: { reuseGraceSec: 0 } },
        customize: (b) => b.overrideProvider(EzidRevocationList).useValue(list),
      });
      const victim = await signIn(t);
      const thief = (await refresh(t, victim.refreshToken)).json as unknown as Session;
      const held = createGate();
      const calls = emu.requestCount(LEGACY_REFRESH);
      emu.fault(LEGACY_REFRESH, { holdResponse: held.promise, times: 1 });
      let settled = false;
      const inFlight = refresh(t, thief.refreshToken).finally(() => (settled = true));
      await waitFor(() => emu.requestCount(LEGACY_REFRESH) > calls);
      const replay = t.request('POST', '/refresh', {
        headers: { 'user-agent': 'victim-browser/1.0' },
        body: { refreshToken: victim.refreshToken },
      });
      await waitFor(() => list.writes > 0); // reuse detected; its writes are not acknowledged yet
      held.open(); // EZiD answers the thief's rotation while the list still says "not revoked"
      await waitFor(() => list.writes > 1 || settled); // the escaped rotation is revoked (or, unfixed, answered)
      list.gate.open();
      expect((await replay).json).toMatchObject({ code: 'refresh_token_reused' });
      const late = await inFlight;
      expect(late.status).toBe(401);
      expect(late.text).not.toContain('accessToken');
    });
  });

  describe('F6: every representation of a refresh token has one identity', () => {
    it('a rotated refresh token re-tagged (`api.<raw>`, `legacy.api.<raw>`) is reuse: 401 refresh_token_reused, no EZiD call, the rotated session revoked', async () => {
      const t = await start();
      const s = await signIn(t);
      expect(s.refreshToken.startsWith('legacy.')).toBe(true);
      const raw = s.refreshToken.slice('legacy.'.length);
      const rotated = await refresh(t, s.refreshToken);
      expect(rotated.status).toBe(200);
      const next = rotated.json as unknown as Session;

      const before = upstreamCalls();
      for (const variant of [`api.${raw}`, `legacy.api.${raw}`]) {
        const r = await refresh(t, variant);
        expect(r.status).toBe(401);
        expect(r.json).toMatchObject({ code: 'refresh_token_reused' });
      }
      expect(upstreamCalls()).toBe(before);
      expect((await me(t, next.accessToken)).json).toMatchObject({ code: 'token_revoked' });
    });

    it('a logged-out refresh token re-tagged is still refused (401 session_expired, no EZiD call)', async () => {
      const t = await start();
      const s = await signIn(t);
      const raw = s.refreshToken.slice('legacy.'.length);
      expect((await logout(t, s)).status).toBe(204);
      const before = upstreamCalls();
      for (const variant of [`api.${raw}`, `api.legacy.${raw}`, s.refreshToken]) {
        const r = await refresh(t, variant);
        expect(r.status).toBe(401);
        expect(r.json).toMatchObject({ code: 'session_expired' });
      }
      expect(upstreamCalls()).toBe(before);
    });

    it('a nested tag that was never issued is refused without an EZiD call', async () => {
      const t = await start();
      const s = await signIn(t);
      const before = upstreamCalls();
      const r = await refresh(t, `legacy.api.${s.refreshToken.slice('legacy.'.length)}`);
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ code: 'session_expired' });
      expect(upstreamCalls()).toBe(before);
      expect((await refresh(t, s.refreshToken)).status).toBe(200);
    });
  });
});
