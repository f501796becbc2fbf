// Issue 13 defects 7 and 9: refresh concurrency and reuse, and logout revocation, against the emulator
// over real HTTP on Express and Fastify, in json and cookie mode. Races are ordered with a gate on the
// emulator's refresh endpoint, never with sleeps.
import { accessTokenRevocationId, EzidInMemoryRevocationList, EzidRevocationList } from '../../src';
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
  until,
} from './callback-test-app';

type Mode = 'json' | 'cookie';
const MODES: Mode[] = ['json', 'cookie'];
const REFRESH = 'legacy.emailLinkRefresh';
const N = 5;

/** A signed-in browser (cookie mode) or API client (json mode). */
interface Session {
  accessToken: string;
  refreshToken: string;
  /** Cookie mode: the browser's cookies. */
  jar?: CookieJar;
}

/** Flips the unused low bits of the last base64url character: another string, the same signature bytes. */
function reencodeSignature(token: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(token[token.length - 1]);
  const sigChars = token.length - token.lastIndexOf('.') - 1;
  const unusedBits = (6 - ((Math.floor((sigChars * 6) / 8) * 8) % 6)) % 6;
  const flipped = alphabet[last ^ ((1 << unusedBits) - 1)];
  return token.slice(0, -1) + flipped;
}

describe.each(PLATFORMS)('refresh concurrency, reuse and logout revocation (%s)', (platform) => {
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

  describe.each(MODES)('%s mode', (mode) => {
    let t: CallbackTestApp;
    beforeEach(async () => {
      t = await startCallbackApp({
        platform,
        emu,
        // No grace window: a replay right after the rotation is reuse (the grace window is tested
        // in refresh-hardening.e2e-spec.ts).
        callback: { mode, refresh: { reuseGraceSec: 0 } },
        ownPublicUrl: mode === 'cookie',
      });
      apps.push(t);
    });

    const headers = (): Record<string, string> => (mode === 'cookie' ? { origin: t.url } : {});

    async function signIn(email = 'alice@example.com'): Promise<Session> {
      if (mode === 'json') {
        await t.request('POST', '/magic-link', { body: { email } });
        const code = linkParam(emu.outbox.last(email)!.link, 'code');
        const r = await t.request('POST', '/callback', { body: { code } });
        expect(r.status).toBe(200);
        return r.json as unknown as Session;
      }
      const jar = new CookieJar();
      await t.request('POST', '/magic-link', { body: { email }, jar, headers: headers() });
      const link = emu.outbox.last(email)!.link!;
      jar.store(await fetch(link, { headers: { cookie: jar.header()! }, redirect: 'manual' }));
      return { accessToken: jar.cookies.get('ezid_at')!, refreshToken: jar.cookies.get('ezid_rt')!, jar };
    }

    /** POST /refresh with `s`'s refresh token (the cookie header of that moment in cookie mode). */
    function refresh(s: Session, cookieHeader = s.jar?.header()) {
      return mode === 'json'
        ? t.request('POST', '/refresh', { body: { refreshToken: s.refreshToken } })
        : t.request('POST', '/refresh', { headers: { ...headers(), cookie: cookieHeader ?? '' } });
    }

    /** The session a refresh answer hands out (tokens from the body or from Set-Cookie). */
    function issued(r: { res: Response; json: Record<string, unknown> | undefined }): Partial<Session> {
      if (mode === 'json') {
        return { accessToken: r.json?.accessToken as string, refreshToken: r.json?.refreshToken as string };
      }
      const jar = new CookieJar();
      jar.store(r.res);
      return { accessToken: jar.cookies.get('ezid_at'), refreshToken: jar.cookies.get('ezid_rt') };
    }

    const me = (accessToken: string) =>
      t.request('GET', '/me', { headers: { authorization: `Bearer ${accessToken}` } });

    describe('defect 7: refresh', () => {
      it(`${N} concurrent refreshes of one refresh token sent before EZiD answers: one upstream call, all 200 with the same new session`, async () => {
        const s = await signIn();
        const cookieHeader = s.jar?.header();
        const before = emu.requestCount(REFRESH);
        const gate = createGate();
        emu.fault(REFRESH, { gate: gate.promise, times: 1 });
        const all = Promise.all(Array.from({ length: N }, () => refresh(s, cookieHeader)));
        await until(() => eventCount(t.logger, 'refresh_joined') === N - 1);
        gate.open();
        const answers = await all;
        expect(answers.map((a) => a.status)).toEqual(Array(N).fill(200));
        expect(emu.requestCount(REFRESH) - before).toBe(1);
        const sessions = answers.map(issued);
        expect(new Set(sessions.map((x) => x.refreshToken)).size).toBe(1);
        expect(new Set(sessions.map((x) => x.accessToken)).size).toBe(1);
        expect(sessions[0].refreshToken).not.toBe(s.refreshToken);
        expect((await me(sessions[0].accessToken!)).status).toBe(200);
      });

      it('a replay of the superseded refresh token after the rotation settled gets no tokens (401 refresh_token_reused, no EZiD call) and ends the rotated session', async () => {
        const s = await signIn();
        const cookieHeader = s.jar?.header();
        const rotated = await refresh(s, cookieHeader);
        expect(rotated.status).toBe(200);
        const next = issued(rotated) as Session;
        expect((await me(next.accessToken)).status).toBe(200);

        const before = emu.requestCount(REFRESH);
        const replay = await refresh(s, cookieHeader);
        expect(replay.status).toBe(401);
        expect(replay.json).toEqual({
          statusCode: 401,
          error: 'Unauthorized',
          code: 'refresh_token_reused',
          message: expect.any(String),
        });
        expect(replay.text).not.toContain(next.refreshToken);
        expect(replay.text).not.toContain(next.accessToken);
        const replayed = issued(replay);
        expect(replayed.accessToken).toBeUndefined();
        expect(replayed.refreshToken).toBeUndefined();
        expect(emu.requestCount(REFRESH)).toBe(before);

        // Reuse detection: the session the stolen token was rotated into is revoked too.
        const nextJar = new CookieJar();
        nextJar.cookies.set('ezid_rt', next.refreshToken);
        const again = await refresh({ ...next, jar: nextJar });
        expect(again.status).toBe(401);
        expect(emu.requestCount(REFRESH)).toBe(before);
        expect((await me(next.accessToken)).json).toMatchObject({ statusCode: 401, code: 'token_revoked' });
      });
    });

    describe('defect 9: logout', () => {
      async function logout(s: Session) {
        return mode === 'json'
          ? t.request('POST', '/logout', {
              headers: { authorization: `Bearer ${s.accessToken}` },
              body: { refreshToken: s.refreshToken },
            })
          : t.request('POST', '/logout', { jar: s.jar, headers: headers() });
      }

      it('after logout the access token is 401 token_revoked (even when cached as verified) and the refresh token is 401 without an EZiD call; another session of the same user is unaffected', async () => {
        const a = await signIn();
        const b = await signIn();
        const aCookies = a.jar?.header();
        // Cached on its second verification (admission): now in the verified-token cache.
        for (let i = 0; i < 2; i++) expect((await me(a.accessToken)).status).toBe(200);
        const out = await logout(a);
        expect(out.status).toBe(204);
        if (mode === 'cookie') {
          for (const n of ['ezid_at', 'ezid_rt'])
            expect(out.res.headers.getSetCookie().some((c) => c.startsWith(`${n}=;`))).toBe(true);
        }

        const revoked = await me(a.accessToken);
        expect(revoked.status).toBe(401);
        expect(revoked.json).toEqual({
          statusCode: 401,
          error: 'Unauthorized',
          code: 'token_revoked',
          message: 'The access token has been revoked',
        });
        expect(revoked.res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
        if (mode === 'cookie') {
          const viaCookie = await t.request('GET', '/me', { headers: { cookie: aCookies! } });
          expect(viaCookie.json).toMatchObject({ code: 'token_revoked' });
        }
        expect((await me(reencodeSignature(a.accessToken))).status).toBe(401);

        const before = emu.requestCount(REFRESH);
        const r = await refresh(a, aCookies);
        expect(r.status).toBe(401);
        expect(r.json).toMatchObject({ code: 'session_expired' });
        expect(emu.requestCount(REFRESH)).toBe(before);

        expect((await me(b.accessToken)).status).toBe(200);
        expect((await refresh(b)).status).toBe(200);
      });
    });
  });

  it('a full revocation list fails closed: logout answers 503 revocation_unavailable, clears the cookies, and evicts no live entry', async () => {
    const list = new EzidInMemoryRevocationList(1);
    const t = await startCallbackApp({
      platform,
      emu,
      callback: { mode: 'cookie' },
      ownPublicUrl: true,
      customize: (b) => b.overrideProvider(EzidRevocationList).useValue(list),
    });
    apps.push(t);
    const first = emu.mintAccessToken('alice@example.com');
    const second = emu.mintAccessToken('demo@example.com');
    const logout = (token: string) =>
      t.request('POST', '/logout', { headers: { origin: t.url, cookie: `ezid_at=${token}` } });
    expect((await logout(first)).status).toBe(204);
    const full = await logout(second);
    expect(full.status).toBe(503);
    expect(full.json).toMatchObject({ statusCode: 503, code: 'revocation_unavailable' });
    expect(full.res.headers.get('retry-after')).toBe('5');
    expect(full.res.headers.getSetCookie().some((c) => c.startsWith('ezid_at=;'))).toBe(true);
    const me = (tk: string) => t.request('GET', '/me', { headers: { authorization: `Bearer ${tk}` } });
    expect((await me(first)).json).toMatchObject({ code: 'token_revoked' });
    expect((await me(second)).status).toBe(200);
  });

  describe('access token without jti (keyed on the signature bytes)', () => {
    it('logout revokes it, and a re-encoded signature of the same token is refused too', async () => {
      const t = await startCallbackApp({ platform, emu, callback: { mode: 'json' } });
      apps.push(t);
      const token = emu.mintAccessToken('alice@example.com', { claims: { jti: undefined } });
      const other = emu.mintAccessToken('alice@example.com', {
        claims: { jti: undefined },
        issuedAt: Math.floor(Date.now() / 1000) - 1, // RS256 is deterministic: same claims, same token
      });
      expect(other).not.toBe(token);
      const twin = reencodeSignature(token);
      expect(twin).not.toBe(token);
      const sig = (s: string) => Buffer.from(s.slice(s.lastIndexOf('.') + 1), 'base64url');
      expect(sig(twin).equals(sig(token))).toBe(true);
      const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<
        string,
        unknown
      >;
      expect(accessTokenRevocationId(payload, sig(twin))).toBe(accessTokenRevocationId(payload, sig(token)));

      const get = (tk: string) => t.request('GET', '/me', { headers: { authorization: `Bearer ${tk}` } });
      expect((await get(token)).status).toBe(200);
      const out = await t.request('POST', '/logout', { headers: { authorization: `Bearer ${token}` } });
      expect(out.status).toBe(204);
      expect((await get(token)).json).toMatchObject({ statusCode: 401, code: 'token_revoked' });
      expect((await get(twin)).status).toBe(401);
      expect((await get(other)).status).toBe(200);
    });
  });
});
