// The refresh and logout path under attack: re-tagged refresh tokens (F6), rotations filling the
// revocation list (F1), junk logouts while EZiD fails (F2), unthrottled refresh chains (F3) and the
// grace window for a second tab (F4). Real Nest apps on Express and Fastify against the emulator.
import { EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  CallbackTestApp,
  PLATFORMS,
  linkParam,
  startCallbackApp,
  type StartOptions,
} from './callback-test-app';

const LEGACY_REFRESH = 'legacy.emailLinkRefresh';
const API_REFRESH = 'tokens.refresh';

interface Session {
  accessToken: string;
  refreshToken: string;
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
