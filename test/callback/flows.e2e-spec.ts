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

/** Every secret a test saw; the captured logs must contain none of them (checklist E4, F8). */
const secrets = new Set<string>([CLIENT_SECRET]);
const allLogs: string[] = [];
const remember = (...values: unknown[]): void => {
  for (const v of values) if (typeof v === 'string' && v.length >= 6) secrets.add(v);
};

function expectHygiene(res: Response): void {
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
}

describe.each(PLATFORMS)('callback flows end to end (%s)', (platform) => {
  let emu: EzidEmulator;
  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterAll(() => emu.stop());

  const apps: CallbackTestApp[] = [];
  afterEach(async () => {
    for (const a of apps.splice(0)) {
      allLogs.push(...a.logger.lines);
      await a.close();
    }
  });
  const start = async (o: Omit<Parameters<typeof startCallbackApp>[0], 'platform' | 'emu'>) => {
    const a = await startCallbackApp({ platform, emu, ...o });
    apps.push(a);
    return a;
  };

  describe('json mode', () => {
    it('magic link (email link with the client secret): send, follow the emailed code, verified tokens, /me with the access token; a replayed code is rejected', async () => {
      const t = await start({});
      const sent = await t.request('POST', '/magic-link', {
        body: { email: 'alice@example.com', redirectPath: '/' },
      });
      expect(sent.status).toBe(200);
      expect(sent.json).toEqual({ sent: true });
      expectHygiene(sent.res);
      const msg = emu.outbox.last('alice@example.com')!;
      expect(msg.kind).toBe('legacy-email-link');
      const code = linkParam(msg.link, 'code');
      remember(code);
      expect(sent.text).not.toContain(code); // the link is never handed to the requester
      // json mode: the link opens the app page (redirectPath), which posts the code to /callback
      expect(new URL(msg.link!).origin + new URL(msg.link!).pathname).toBe(`${t.url}/`);

      const done = await t.request('POST', '/callback', { body: { code } });
      expect(done.status).toBe(200);
      expectHygiene(done.res);
      const body = done.json as {
        accessToken: string;
        refreshToken: string;
        tokenType: string;
        expiresAt: string;
        user: { email: string };
      };
      remember(body.accessToken, body.refreshToken);
      expect(body.tokenType).toBe('Bearer');
      expect(body.user.email).toBe('alice@example.com');
      expect(body.refreshToken).toMatch(/^legacy\./);
      expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());
      expect(done.json).not.toHaveProperty('idToken');
      expect(done.res.headers.getSetCookie()).toEqual([]);

      const me = await t.request('GET', '/me', { headers: { authorization: `Bearer ${body.accessToken}` } });
      expect(me.status).toBe(200);
      expect((me.json as { user: { email: string } }).user.email).toBe('alice@example.com');
      expect(me.json!.user).not.toHaveProperty('claims');

      const replay = await t.request('POST', '/callback', { body: { code } });
      expect(replay.status).toBe(400);
      expect(replay.json).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'invalid_code',
        message: expect.any(String),
      });
      expectHygiene(replay.res);
    });

    it('magic link without a client secret (status flow): 401 login_pending until the emailed link is opened, then tokens; the state cannot be reused', async () => {
      const t = await start({ noSecret: true });
      const sent = await t.request('POST', '/magic-link', { body: { email: 'bob@example.com' } });
      expect(sent.status).toBe(200);
      const state = (sent.json as { state: string }).state;
      remember(state);
      const pending = await t.request('POST', '/callback', { body: { state } });
      expect(pending.status).toBe(401);
      expect(pending.json).toMatchObject({ code: 'login_pending' });
      expect(Number(pending.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const link = emu.outbox.last('bob@example.com')!.link!;
      remember(linkParam(link, 'magictext'));
      expect((await fetch(link)).status).toBe(200); // the user clicks the link
      const done = await t.request('POST', '/callback', { body: { state } });
      expect(done.status).toBe(200);
      const body = done.json as { accessToken: string; refreshToken: string; user: { email: string } };
      remember(body.accessToken, body.refreshToken);
      expect(body.user.email).toBe('bob@example.com');
      expect(body.refreshToken).toMatch(/^api\./);
      const again = await t.request('POST', '/callback', { body: { state } });
      expect(again.status).toBe(400);
      expect(again.json).toMatchObject({ code: 'invalid_code' });
    });

    it('email code: send, verify with the emailed code; a wrong code is 400 invalid_code', async () => {
      const t = await start({});
      const sent = await t.request('POST', '/email-code', { body: { email: 'alice@example.com' } });
      expect(sent.status).toBe(200);
      const state = (sent.json as { state: string }).state;
      const code = emu.outbox.last('alice@example.com')!.code!;
      remember(state, code);
      const wrong = await t.request('POST', '/email-code/verify', {
        body: { state, code: code === '000000' ? '111111' : '000000' },
      });
      expect(wrong.status).toBe(400);
      expect(wrong.json).toMatchObject({ code: 'invalid_code' });
      const done = await t.request('POST', '/email-code/verify', { body: { state, code } });
      expect(done.status).toBe(200);
      remember(
        (done.json as { accessToken: string }).accessToken,
        (done.json as { refreshToken: string }).refreshToken,
      );
      expect((done.json as { user: { email: string } }).user.email).toBe('alice@example.com');
      const replay = await t.request('POST', '/email-code/verify', { body: { state, code } });
      expect(replay.status).toBe(400);
    });

    it('SMS code: send to an E.164 number, verify', async () => {
      const t = await start({});
      const sent = await t.request('POST', '/sms', { body: { phone: '+15550000002' } });
      expect(sent.status).toBe(200);
      const state = (sent.json as { state: string }).state;
      const code = emu.outbox.last('+15550000002')!.code!;
      remember(state, code);
      const done = await t.request('POST', '/sms/verify', { body: { state, code } });
      expect(done.status).toBe(200);
      remember(
        (done.json as { accessToken: string }).accessToken,
        (done.json as { refreshToken: string }).refreshToken,
      );
      expect((done.json as { user: { id: string } }).user.id).toBeTruthy();
    });

    it('SSO code + state: exchanged once; a replayed or mismatched code is rejected', async () => {
      const t = await start({});
      const code = emu.issueAuthCode('alice@example.com', 'sso-state-1');
      remember(code);
      const mismatch = await t.request('POST', '/callback', { body: { code, state: 'other-state' } });
      expect(mismatch.status).toBe(400); // the emulator spends the code on any attempt
      const code2 = emu.issueAuthCode('alice@example.com', 'sso-state-2');
      remember(code2);
      const done = await t.request('POST', '/callback', { body: { code: code2, state: 'sso-state-2' } });
      expect(done.status).toBe(200);
      remember(
        (done.json as { accessToken: string }).accessToken,
        (done.json as { refreshToken: string }).refreshToken,
      );
      const replay = await t.request('POST', '/callback', { body: { code: code2, state: 'sso-state-2' } });
      expect(replay.status).toBe(400);
      expect(replay.json).toMatchObject({ code: 'invalid_code' });
    });

    it('refresh rotates both token families; the old refresh token is then reuse (401 refresh_token_reused, no EZiD call) and ends the new session', async () => {
      // No grace window (its replays are tested in refresh-hardening.e2e-spec.ts).
      const t = await start({ callback: { refresh: { reuseGraceSec: 0 } } });
      for (const family of ['legacy', 'api'] as const) {
        let first: { accessToken: string; refreshToken: string };
        if (family === 'legacy') {
          await t.request('POST', '/magic-link', { body: { email: 'alice@example.com' } });
          const code = linkParam(emu.outbox.last('alice@example.com')!.link, 'code');
          first = (await t.request('POST', '/callback', { body: { code } })).json as typeof first;
        } else {
          const code = emu.issueAuthCode('alice@example.com', 's');
          first = (await t.request('POST', '/callback', { body: { code, state: 's' } })).json as typeof first;
        }
        remember(first.accessToken, first.refreshToken);
        const rotated = await t.request('POST', '/refresh', { body: { refreshToken: first.refreshToken } });
        expect(rotated.status).toBe(200);
        expectHygiene(rotated.res);
        const second = rotated.json as typeof first;
        remember(second.accessToken, second.refreshToken);
        expect(second.refreshToken).not.toBe(first.refreshToken);
        expect(second.refreshToken.startsWith(`${family}.`)).toBe(true);
        const me = await t.request('GET', '/me', {
          headers: { authorization: `Bearer ${second.accessToken}` },
        });
        expect(me.status).toBe(200);
        const endpoint = family === 'legacy' ? 'legacy.emailLinkRefresh' : 'tokens.refresh';
        const calls = emu.requestCount(endpoint);
        const reuse = await t.request('POST', '/refresh', { body: { refreshToken: first.refreshToken } });
        expect(reuse.status).toBe(401);
        expect(reuse.json).toMatchObject({ code: 'refresh_token_reused' });
        expect(emu.requestCount(endpoint)).toBe(calls);
        const after = await t.request('POST', '/refresh', { body: { refreshToken: second.refreshToken } });
        expect(after.json).toMatchObject({ code: 'session_expired' });
      }
      const none = await t.request('POST', '/refresh', { body: {} });
      expect(none.status).toBe(401);
      const untagged = await t.request('POST', '/refresh', { body: { refreshToken: 'not-issued-here' } });
      expect(untagged.status).toBe(401);
    });

    it('GET /callback is not mounted in json mode; POST /logout answers 204', async () => {
      const t = await start({});
      const code = emu.issueAuthCode('alice@example.com', 's');
      const get = await t.request('GET', `/callback?code=${code}&state=s`);
      expect(get.status).toBe(404);
      expect(emu.store.authCodes.has(code)).toBe(true); // nothing was exchanged
      const out = await t.request('POST', '/logout');
      expect(out.status).toBe(204);
    });
  });

  describe('cookie mode', () => {
    const cookieOf = (jar: CookieJar, name: string) =>
      jar.setCookies.filter((c) => c.startsWith(`${name}=`)).pop();

    it('magic link: the emailed link lands on GET /callback, which sets the cookies and 303-redirects to the requested allowed path; /me and logout work with the cookies', async () => {
      const t = await start({
        callback: { mode: 'cookie', redirectAllowList: ['/', '/dashboard'] },
        ownPublicUrl: true,
      });
      const jar = new CookieJar();
      const sent = await t.request('POST', '/magic-link', {
        body: { email: 'alice@example.com', redirectPath: '/dashboard' },
        jar,
      });
      expect(sent.status).toBe(200);
      expect(sent.json).toEqual({ sent: true });
      const flow = cookieOf(jar, 'ezid_flow')!;
      expect(flow).toMatch(/Max-Age=600/);
      expect(flow).toMatch(/HttpOnly/);
      expect(flow).toMatch(/SameSite=Lax/);
      expect(flow).not.toMatch(/Secure/); // plain-http localhost only
      const link = emu.outbox.last('alice@example.com')!.link!;
      remember(linkParam(link, 'code'));
      expect(link.startsWith(`${t.url}${t.prefix}/callback?`)).toBe(true);
      expect(flow).not.toContain(linkParam(link, 'code'));

      const res = await fetch(link, { headers: { cookie: jar.header()! }, redirect: 'manual' });
      jar.store(res);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`${t.url}/dashboard`);
      expectHygiene(res);
      const at = cookieOf(jar, 'ezid_at')!;
      const rt = cookieOf(jar, 'ezid_rt')!;
      for (const c of [at, rt]) {
        expect(c).toMatch(/HttpOnly/);
        expect(c).toMatch(/SameSite=Lax/);
        expect(c).toMatch(/Path=\//);
        expect(c).not.toMatch(/Domain/i);
      }
      expect(cookieOf(jar, 'ezid_flow')).toMatch(/Max-Age=0/); // the flow cookie is cleared after the callback
      remember(jar.cookies.get('ezid_at'), jar.cookies.get('ezid_rt'));

      const me = await t.request('GET', '/me', { jar });
      expect(me.status).toBe(200);
      expect((me.json as { user: { email: string } }).user.email).toBe('alice@example.com');

      const out = await t.request('POST', '/logout', { jar });
      expect(out.status).toBe(204);
      expect(jar.cookies.size).toBe(0);
      const after = await t.request('GET', '/me', { jar });
      expect(after.status).toBe(401);
    });

    it('defaults: without publicUrl the cookies are Secure and __Host- prefixed, and the guard reads __Host-ezid_at', async () => {
      const t = await start({ callback: { mode: 'cookie' } });
      const jar = new CookieJar();
      await t.request('POST', '/email-code', { body: { email: 'alice@example.com' }, jar });
      const flow = cookieOf(jar, '__Host-ezid_flow')!;
      expect(flow).toMatch(/; Secure/);
      const state = [...jar.cookies.keys()].length && (emu.outbox.last('alice@example.com')!.state as string);
      const code = emu.outbox.last('alice@example.com')!.code!;
      remember(state, code);
      const done = await t.request('POST', '/email-code/verify', { body: { state, code }, jar });
      expect(done.status).toBe(200);
      expect(Object.keys(done.json!)).toEqual(['user']); // cookie mode: no token in the body
      for (const n of ['__Host-ezid_at', '__Host-ezid_rt']) {
        const c = cookieOf(jar, n)!;
        expect(c).toMatch(/; Secure/);
        expect(c).toMatch(/HttpOnly/);
        expect(c).toMatch(/Path=\//);
        expect(c).not.toMatch(/Domain/i);
      }
      remember(jar.cookies.get('__Host-ezid_at'), jar.cookies.get('__Host-ezid_rt'));
      const me = await t.request('GET', '/me', { jar });
      expect(me.status).toBe(200);
    });

    it('magic link without a client secret (status flow): POST /callback { state } from the browser that started it', async () => {
      const t = await start({
        noSecret: true,
        callback: { mode: 'cookie', flowSecret: 'test-flow-secret' },
        ownPublicUrl: true,
      });
      const jar = new CookieJar();
      const sent = await t.request('POST', '/magic-link', { body: { email: 'bob@example.com' }, jar });
      const state = (sent.json as { state: string }).state;
      remember(state);
      expect((await t.request('POST', '/callback', { body: { state }, jar })).status).toBe(401);
      await fetch(emu.outbox.last('bob@example.com')!.link!);
      const done = await t.request('POST', '/callback', { body: { state }, jar });
      expect(done.status).toBe(200);
      expect(Object.keys(done.json!)).toEqual(['user']);
      remember(jar.cookies.get('ezid_at'), jar.cookies.get('ezid_rt'));
      expect((await t.request('GET', '/me', { jar })).status).toBe(200);
    });

    it('GET /callback?state= after the hosted redirect lands on the flow redirect path', async () => {
      const t = await start({
        noSecret: true,
        callback: { mode: 'cookie', flowSecret: 'test-flow-secret', redirectAllowList: ['/', '/app/'] },
        ownPublicUrl: true,
      });
      const jar = new CookieJar();
      const sent = await t.request('POST', '/magic-link', {
        body: { email: 'bob@example.com', redirectPath: '/app/home' },
        jar,
      });
      const state = (sent.json as { state: string }).state;
      await fetch(emu.outbox.last('bob@example.com')!.link!);
      const res = await t.request('GET', `/callback?state=${state}`, { jar });
      expect(res.status).toBe(303);
      expect(res.res.headers.get('location')).toBe(`${t.url}/app/home`);
      remember(jar.cookies.get('ezid_at'), jar.cookies.get('ezid_rt'));
    });

    it('SMS code with the flow cookie', async () => {
      const t = await start({ callback: { mode: 'cookie' }, ownPublicUrl: true });
      const jar = new CookieJar();
      const sent = await t.request('POST', '/sms', { body: { phone: '+15550000001' }, jar });
      const state = (sent.json as { state: string }).state;
      const code = emu.outbox.last('+15550000001')!.code!;
      remember(state, code);
      const done = await t.request('POST', '/sms/verify', { body: { state, code }, jar });
      expect(done.status).toBe(200);
      remember(jar.cookies.get('ezid_at'), jar.cookies.get('ezid_rt'));
      expect((await t.request('GET', '/me', { jar })).status).toBe(200);
    });

    it('refresh from the cookie: rotation, one upstream refresh for concurrent requests, and reuse of the old cookie ends the session', async () => {
      const t = await start({
        callback: { mode: 'cookie', refresh: { reuseGraceSec: 0 } },
        ownPublicUrl: true,
      });
      const jar = new CookieJar();
      await t.request('POST', '/magic-link', { body: { email: 'alice@example.com' }, jar });
      const link = emu.outbox.last('alice@example.com')!.link!;
      jar.store(await fetch(link, { headers: { cookie: jar.header()! }, redirect: 'manual' }));
      const oldRt = jar.cookies.get('ezid_rt')!;
      const oldCookieHeader = jar.header()!;
      remember(oldRt, jar.cookies.get('ezid_at'));

      const before = emu.requestCount('legacy.emailLinkRefresh');
      const gate = createGate(); // hold EZiD's answer until every request has joined the refresh in flight
      emu.fault('legacy.emailLinkRefresh', { gate: gate.promise, times: 1 });
      const all = Promise.all([
        t.request('POST', '/refresh', { headers: { cookie: oldCookieHeader } }),
        t.request('POST', '/refresh', { headers: { cookie: oldCookieHeader } }),
        t.request('POST', '/refresh', { headers: { cookie: oldCookieHeader } }),
      ]);
      await until(() => eventCount(t.logger, 'refresh_joined') === 2);
      gate.open();
      const [a, b, c] = await all;
      expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
      expect(emu.requestCount('legacy.emailLinkRefresh') - before).toBe(1); // single-flight
      const newRts = [a, b, c].map((r) =>
        r.res.headers.getSetCookie().find((s) => s.startsWith('ezid_rt='))!,
      );
      expect(new Set(newRts).size).toBe(1);
      jar.store(a.res);
      expect(jar.cookies.get('ezid_rt')).not.toBe(oldRt);
      remember(jar.cookies.get('ezid_rt'), jar.cookies.get('ezid_at'));
      expect((await t.request('GET', '/me', { jar })).status).toBe(200);

      // Reuse of the superseded refresh token: 401, no EZiD call, and every session cookie cleared.
      const reuse = await t.request('POST', '/refresh', { headers: { cookie: oldCookieHeader } });
      expect(reuse.status).toBe(401);
      expect(reuse.json).toMatchObject({ code: 'refresh_token_reused' });
      const cleared = reuse.res.headers.getSetCookie();
      for (const n of ['ezid_at', 'ezid_rt'])
        expect(cleared.some((s) => s.startsWith(`${n}=;`) && /Max-Age=0/.test(s))).toBe(true);
      expect(emu.requestCount('legacy.emailLinkRefresh') - before).toBe(1);
    });
  });

  afterAll(() => {
    // Checklist E4 / F8: no secret in any log line, nor the usual giveaways.
    const logs = allLogs.join('\n');
    for (const s of secrets) expect(logs).not.toContain(s);
    expect(logs).not.toMatch(/eyJ|Bearer ey|client_secret|\brefresh_token\b|authorization|code=/i);
    expect(logs).toContain('signed_in');
  });
});
