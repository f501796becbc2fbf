import { createServer, type Server } from 'node:http';
import { EzidModule } from '../../src';
import { deriveFlowKey, EzidFlowCookieSigner, flowBinding } from '../../src/callback/flow-cookie';
import { EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  CallbackTestApp,
  CookieJar,
  PLATFORMS,
  linkParam,
  startCallbackApp,
} from './callback-test-app';

const secrets = new Set<string>([CLIENT_SECRET]);
const allLogs: string[] = [];
const remember = (...values: unknown[]): void => {
  for (const v of values) if (typeof v === 'string' && v.length >= 6) secrets.add(v);
};
const sessionCookies = (res: Response) =>
  res.headers.getSetCookie().filter((c) => /^(__Host-)?ezid_(at|rt)=[^;]/.test(c));

describe.each(PLATFORMS)('callback security, checklist F (%s)', (platform) => {
  let emu: EzidEmulator;
  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterAll(() => emu.stop());
  afterEach(() => emu.clearFaults());

  const apps: CallbackTestApp[] = [];
  afterEach(async () => {
    for (const a of apps.splice(0)) {
      allLogs.push(...a.logger.lines);
      await a.close();
    }
  });
  const start = async (o: Omit<Parameters<typeof startCallbackApp>[0], 'platform' | 'emu'> = {}) => {
    const a = await startCallbackApp({ platform, emu, ...o });
    apps.push(a);
    return a;
  };
  const cookieApp = (callback: Record<string, unknown> = {}) =>
    start({ callback: { mode: 'cookie', ...callback }, ownPublicUrl: true });

  /** Starts a magic link in `jar`'s browser and returns the emailed code. */
  async function startLink(t: CallbackTestApp, jar: CookieJar, email = 'alice@example.com'): Promise<string> {
    const r = await t.request('POST', '/magic-link', { body: { email }, jar });
    expect(r.status).toBe(200);
    const code = linkParam(emu.outbox.last(email)!.link, 'code');
    remember(code);
    return code;
  }

  describe('F1/F2 login CSRF: the callback needs the signed flow cookie of the browser that started the login', () => {
    it('no flow cookie: 400, no call to EZiD, no session cookie', async () => {
      const t = await cookieApp();
      const code = await startLink(t, new CookieJar());
      const before = emu.requestCount('legacy.emailLinkVerify');
      const r = await t.request('POST', '/callback', { body: { code } });
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ code: 'invalid_request' });
      const g = await t.request('GET', `/callback?code=${encodeURIComponent(code)}`);
      // The GET callback is a browser navigation: the same refusal as a 303 to the error path.
      expect(g.status).toBe(303);
      expect(g.res.headers.get('location')).toBe(`${t.url}/?ezid_error=invalid_request`);
      expect(emu.requestCount('legacy.emailLinkVerify')).toBe(before);
      expect(sessionCookies(r.res)).toEqual([]);
      expect(sessionCookies(g.res)).toEqual([]);
    });

    it("another browser's flow cookie (attacker's login in the victim's browser and vice versa): 400, no EZiD call", async () => {
      const t = await cookieApp();
      const victim = new CookieJar();
      const attacker = new CookieJar();
      await startLink(t, victim, 'alice@example.com');
      const attackerCode = await startLink(t, attacker, 'bob@example.com');
      const before = emu.requestCount('legacy.emailLinkVerify');
      const r = await t.request('GET', `/callback?code=${encodeURIComponent(attackerCode)}`, { jar: victim });
      expect(r.status).toBe(303);
      expect(r.res.headers.get('location')).toBe(`${t.url}/?ezid_error=invalid_request`);
      expect(emu.requestCount('legacy.emailLinkVerify')).toBe(before);
      expect(victim.cookies.has('ezid_at')).toBe(false);
    });

    it('a flow cookie of another kind (email code) does not complete a magic link, and vice versa', async () => {
      const t = await cookieApp();
      const jar = new CookieJar();
      const code = await startLink(t, new CookieJar());
      await t.request('POST', '/email-code', { body: { email: 'alice@example.com' }, jar });
      const state = emu.outbox.last('alice@example.com')!.state!;
      remember(state);
      expect((await t.request('POST', '/callback', { body: { code }, jar })).status).toBe(400);
      expect((await t.request('POST', '/sms/verify', { body: { state, code: '123456' }, jar })).status).toBe(
        400,
      );
    });

    it('an expired (older than 10 min), forged or tampered flow cookie: 400', async () => {
      const t = await cookieApp();
      const code = await startLink(t, new CookieJar());
      const signer = new EzidFlowCookieSigner(deriveFlowKey(undefined, CLIENT_SECRET));
      const expired = signer.sign({ kind: 'magic-link', binding: flowBinding(code) }, Date.now() - 601_000);
      const forged = new EzidFlowCookieSigner(deriveFlowKey('attacker', undefined)).sign({
        kind: 'magic-link',
        binding: flowBinding(code),
      });
      const valid = signer.sign({ kind: 'magic-link', binding: flowBinding(code) });
      const tampered = valid.slice(0, -2) + (valid.endsWith('AA') ? 'BB' : 'AA');
      for (const value of [expired, forged, tampered, 'garbage', 'v1..']) {
        const r = await t.request('POST', '/callback', {
          body: { code },
          headers: { cookie: `ezid_flow=${value}` },
        });
        expect(r.status).toBe(400);
      }
      // The same code with a valid cookie still works: nothing above spent it.
      const ok = await t.request('POST', '/callback', {
        body: { code },
        headers: { cookie: `ezid_flow=${valid}` },
      });
      expect(ok.status).toBe(200);
    });

    it('a state of a different length or a wrong state: 400, never 500', async () => {
      const t = await cookieApp();
      const jar = new CookieJar();
      await t.request('POST', '/email-code', { body: { email: 'alice@example.com' }, jar });
      const state = emu.outbox.last('alice@example.com')!.state!;
      for (const s of [state + 'a', state.slice(1), 'x', 'a'.repeat(500)]) {
        const r = await t.request('POST', '/email-code/verify', { body: { state: s, code: '123456' }, jar });
        expect(r.status).toBe(400);
      }
    });

    it('state reuse: replaying a completed callback is 400 and sets no session', async () => {
      const t = await cookieApp();
      const jar = new CookieJar();
      const code = await startLink(t, jar);
      const cookieBefore = jar.header()!;
      expect((await t.request('POST', '/callback', { body: { code }, jar })).status).toBe(200);
      remember(jar.cookies.get('ezid_at'), jar.cookies.get('ezid_rt'));
      const replay = await t.request('POST', '/callback', {
        body: { code },
        headers: { cookie: cookieBefore },
      });
      expect(replay.status).toBe(400);
      expect(sessionCookies(replay.res)).toEqual([]);
    });

    it('requireFlowCookie: false relaxes the check (cross-device magic link), documented trade-off', async () => {
      const t = await cookieApp({ requireFlowCookie: false });
      const code = await startLink(t, new CookieJar());
      const other = new CookieJar(); // the link opened on another device
      const r = await t.request('GET', `/callback?code=${encodeURIComponent(code)}`, { jar: other });
      expect(r.status).toBe(303);
      expect(other.cookies.has('ezid_at')).toBe(true);
      remember(other.cookies.get('ezid_at'), other.cookies.get('ezid_rt'));
    });
  });

  it('F3 code replay: the second use fails with a generic 400 and no session', async () => {
    const t = await start();
    const code = await startLink(t, new CookieJar());
    const first = await t.request('POST', '/callback', { body: { code } });
    expect(first.status).toBe(200);
    remember(
      (first.json as { accessToken: string }).accessToken,
      (first.json as { refreshToken: string }).refreshToken,
    );
    const second = await t.request('POST', '/callback', { body: { code } });
    expect(second.status).toBe(400);
    expect(second.json).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      code: 'invalid_code',
      message: 'The code is invalid, expired or already used',
    });
  });

  describe('F5 every token EZiD returns is verified before it is trusted', () => {
    const status = (accessToken: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        authenticated: true,
        access_token: accessToken,
        refresh_token: 'rt-x',
        token_type: 'Bearer',
        ...extra,
      });

    it.each([
      [
        'signed by a key that is not EZiD’s',
        (e: EzidEmulator) => e.mintAccessToken('alice@example.com', { signWith: 'wrong-key' }),
      ],
      ['expired', (e: EzidEmulator) => e.mintAccessToken('alice@example.com', { expiresInSec: -120 })],
      [
        'from another issuer',
        (e: EzidEmulator) =>
          e.mintAccessToken('alice@example.com', { claims: { iss: 'https://evil.example' } }),
      ],
      ['an ID token', (e: EzidEmulator) => e.mintIdToken('alice@example.com')],
      ['alg none', () => 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'],
    ])('a token %s: 401 token_invalid, no session (json and cookie mode)', async (_label, mint) => {
      for (const mode of ['json', 'cookie'] as const) {
        const t = await start({ callback: { mode, requireFlowCookie: false }, ownPublicUrl: true });
        emu.fault('magicLink.status', { status: 200, body: status(mint(emu)) });
        const r = await t.request('POST', '/callback', { body: { state: '0123456789abcdef01234567' } });
        expect(r.status).toBe(401);
        expect(r.json).toMatchObject({ code: 'token_invalid' });
        expect(r.text).not.toContain('eyJ');
        expect(sessionCookies(r.res)).toEqual([]);
        emu.clearFaults();
      }
    });

    it('a token_type other than Bearer is rejected', async () => {
      const t = await start();
      emu.fault('magicLink.status', {
        status: 200,
        body: status(emu.mintAccessToken('alice@example.com'), { token_type: 'mac' }),
      });
      const r = await t.request('POST', '/callback', { body: { state: '0123456789abcdef01234567' } });
      expect(r.status).toBe(401);
    });
  });

  describe('F6 open redirect: GET /callback only redirects to allow-listed same-origin paths', () => {
    const vectors = [
      'https://evil.example',
      '//evil.example',
      '/\\evil.example',
      '\\/evil.example',
      'https:evil.example',
      '%2F%2Fevil.example',
      '/%09/evil.example',
      'https://app.example@evil.example',
      'https://app.example.evil.example',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      '/dashboard%0d%0aSet-Cookie:%20x=1',
      '/dashboard\r\nSet-Cookie: x=1',
      '/not-allowed',
    ];

    it.each(vectors)('%j → the default path', async (vector) => {
      const t = await cookieApp({ requireFlowCookie: false, redirectAllowList: ['/', '/dashboard'] });
      const code = emu.issueAuthCode('alice@example.com', 'st');
      remember(code);
      const qs = `code=${code}&state=st&callback_url=${encodeURIComponent(vector)}`;
      const r = await t.request('GET', `/callback?${qs}`);
      expect(r.status).toBe(303);
      expect(r.res.headers.get('location')).toBe(`${t.url}/`);
      expect(r.res.headers.getSetCookie().some((c) => /^x=/.test(c))).toBe(false);
    });

    it('an allow-listed path is followed; redirectPath of POST /magic-link is sanitised the same way', async () => {
      const t = await cookieApp({ redirectAllowList: ['/', '/dashboard'] });
      const code = emu.issueAuthCode('alice@example.com', 'st2');
      const t2 = await cookieApp({ requireFlowCookie: false, redirectAllowList: ['/', '/dashboard'] });
      const ok = await t2.request('GET', `/callback?code=${code}&state=st2&callback_url=%2Fdashboard`);
      expect(ok.res.headers.get('location')).toBe(`${t2.url}/dashboard`);
      const jar = new CookieJar();
      await t.request('POST', '/magic-link', {
        body: { email: 'alice@example.com', redirectPath: '//evil.example' },
        jar,
      });
      const link = emu.outbox.last('alice@example.com')!.link!;
      expect(new URL(link).searchParams.get('callback_url')).toBe('/');
      const r = await fetch(link.replace('callback_url=%2F', 'callback_url=%2F%2Fevil.example'), {
        headers: { cookie: jar.header()! },
        redirect: 'manual',
      });
      expect(r.headers.get('location')).toBe(`${t.url}/`);
    });
  });

  describe('F7 cookies', () => {
    it('duplicate cookie names (cookie tossing) give 400 on every cookie-reading route', async () => {
      const t = await cookieApp();
      const code = await startLink(t, new CookieJar());
      const dup = 'ezid_flow=a; ezid_flow=b';
      expect(
        (await t.request('POST', '/callback', { body: { code }, headers: { cookie: dup } })).status,
      ).toBe(400);
      const r = await t.request('POST', '/refresh', { headers: { cookie: 'ezid_rt=a; ezid_rt=a' } });
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ code: 'invalid_request' });
    });

    it('a refresh token in both the cookie and the body, different: 400', async () => {
      const t = await cookieApp();
      const r = await t.request('POST', '/refresh', {
        body: { refreshToken: 'api.a' },
        headers: { cookie: 'ezid_rt=api.b' },
      });
      expect(r.status).toBe(400);
    });
  });

  describe('F8/F10 EZiD errors map to clear statuses, never 500, never EZiD’s body; no secret leaks', () => {
    it.each([
      [
        { status: 400, body: '{"success":false,"reason":"Invalid or expired auth_code eyJsecret"}' },
        400,
        'invalid_code',
      ],
      [{ status: 401, body: '{"error_code":"invalid_grant"}' }, 400, 'invalid_code'],
      [{ status: 400, body: '{"success":false,"reason":"Invalid Client Secret"}' }, 503, 'idp_unavailable'],
      [{ status: 500, body: 'stack trace at Foo' }, 503, 'idp_unavailable'],
      [{ malformed: true }, 503, 'idp_unavailable'],
      [{ hang: true }, 503, 'idp_unavailable'],
    ])('%j → %i %s', async (fault, status, code) => {
      const t = await start({ extra: { http: { timeoutMs: 800, retries: 0 } } });
      const c = await startLink(t, new CookieJar());
      emu.fault('legacy.emailLinkVerify', fault);
      const started = Date.now();
      const r = await t.request('POST', '/callback', { body: { code: c } });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(r.status).toBe(status);
      expect(r.json).toEqual({
        statusCode: status,
        error: expect.any(String),
        code,
        message: expect.any(String),
      });
      if (status === 503) expect(r.res.headers.get('retry-after')).toBeTruthy();
      expect(r.text).not.toMatch(/reason|auth_code|stack|eyJ|Client Secret/i);
      expect(r.res.headers.get('cache-control')).toBe('no-store');
      expect(r.res.headers.get('referrer-policy')).toBe('no-referrer');
    });

    it('EZiD unreachable: 503 with Retry-After', async () => {
      const dead = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      const t = await startCallbackApp({ platform, emu: dead });
      apps.push(t);
      await dead.stop();
      const r = await t.request('POST', '/email-code', { body: { email: 'alice@example.com' } });
      expect(r.status).toBe(503);
      expect(r.json).toMatchObject({ code: 'idp_unavailable' });
    });

    it('a 302 from the exchange endpoint is not followed (the secret is not re-sent): 503', async () => {
      let hits = 0;
      const trap: Server = createServer((_req, res) => {
        hits++;
        res.end('{}');
      });
      await new Promise<void>((r) => trap.listen(0, '127.0.0.1', () => r()));
      try {
        const t = await start();
        const c = await startLink(t, new CookieJar());
        emu.fault('legacy.emailLinkVerify', {
          redirect: `http://127.0.0.1:${(trap.address() as { port: number }).port}/steal`,
        });
        const r = await t.request('POST', '/callback', { body: { code: c } });
        expect(r.status).toBe(503);
        expect(hits).toBe(0);
      } finally {
        await new Promise((r) => trap.close(r));
      }
    });

    it('refresh failure (invalid_grant) ends the session once, without a loop', async () => {
      const t = await cookieApp();
      const before = emu.requestCount('tokens.refresh');
      const r = await t.request('POST', '/refresh', { headers: { cookie: 'ezid_rt=api.unknown-token' } });
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ code: 'session_expired' });
      expect(r.res.headers.getSetCookie().filter((c) => /Max-Age=0/.test(c)).length).toBeGreaterThanOrEqual(
        2,
      );
      expect(emu.requestCount('tokens.refresh') - before).toBe(1);
    });

    it('refresh with EZiD down keeps the session (503, cookies untouched)', async () => {
      const t = await cookieApp();
      emu.fault('tokens.refresh', { status: 502 });
      const r = await t.request('POST', '/refresh', { headers: { cookie: 'ezid_rt=api.some-token' } });
      expect(r.status).toBe(503);
      expect(r.res.headers.getSetCookie()).toEqual([]);
    });
  });

  describe('validation: 400 with field errors, nothing sent to EZiD', () => {
    it.each([
      ['/magic-link', { email: 'not-an-email' }, 'email'],
      ['/magic-link', { email: 'a@b.co', extra: 1 }, 'extra'],
      ['/magic-link', { email: `${'a'.repeat(250)}@example.com` }, 'email'],
      ['/magic-link', { email: 'a@b.co', redirectPath: 7 }, 'redirectPath'],
      ['/email-code', {}, 'email'],
      ['/email-code', { email: ['a@b.co'] }, 'email'],
      ['/sms', { phone: '5550000001' }, 'phone'],
      ['/sms', { phone: '+1 555 000 0001' }, 'phone'],
      ['/sms', { phone: '+1555000000123456' }, 'phone'],
      ['/sms/verify', { state: 'abc', code: '12 34' }, 'code'],
      ['/email-code/verify', { state: 'abc<script>', code: '123456' }, 'state'],
      ['/callback', { code: 'x'.repeat(5000) }, 'code'],
      ['/callback', { code: 'a b' }, 'code'],
      ['/callback', { state: { $ne: 1 } }, 'state'],
      ['/callback', {}, 'code'],
      ['/refresh', { refreshToken: 5 }, 'refreshToken'],
    ])('POST %s %j → 400 validation_failed on %s', async (path, body, field) => {
      const t = await start();
      const total = () =>
        [
          'legacy.emailLinkSend',
          'legacy.emailLinkVerify',
          'emailCode.send',
          'sms.send',
          'sms.verify',
          'emailCode.verify',
          'magicLink.status',
          'tokens.refresh',
        ]
          .map((n) => emu.requestCount(n))
          .reduce((a, b) => a + b, 0);
      const before = total();
      const r = await t.request('POST', path, { body });
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ statusCode: 400, code: 'validation_failed' });
      const errors = (r.json as { errors: { field: string; problems: string[] }[] }).errors;
      expect(errors.map((e) => e.field)).toContain(field);
      expect(r.text).not.toContain('x'.repeat(100));
      expect(total()).toBe(before);
    });

    it.each(['[1,2]', '"text"', 'null', '{"email":'])('a body of %s → 400, never 500', async (raw) => {
      const t = await start();
      const r = await t.request('POST', '/email-code', { rawBody: raw });
      expect(r.status).toBe(400);
    });
  });

  it('F11 rate limit per IP on login-start and callback routes: 429 + Retry-After, EZiD not called beyond the limit', async () => {
    const t = await start({ callback: { rateLimit: { limit: 3, ttlSec: 60 } } });
    const before = emu.requestCount('emailCode.send');
    const statuses: number[] = [];
    let last!: Awaited<ReturnType<CallbackTestApp['request']>>;
    for (let i = 0; i < 5; i++) {
      last = await t.request('POST', '/email-code', { body: { email: 'victim@example.com' } });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last.json).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'rate_limited',
      message: expect.any(String),
    });
    expect(Number(last.res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last.res.headers.get('cache-control')).toBe('no-store');
    expect(emu.requestCount('emailCode.send') - before).toBe(3);
    // Another route has its own bucket; logout and refresh have their own limit (callback.sessionRateLimit).
    expect((await t.request('POST', '/callback', { body: { state: 'abc' } })).status).not.toBe(429);
    for (let i = 0; i < 5; i++) expect((await t.request('POST', '/logout')).status).toBe(204);
  });

  afterAll(() => {
    const logs = allLogs.join('\n');
    for (const s of secrets) expect(logs).not.toContain(s);
    expect(logs).not.toMatch(/eyJ|Bearer ey|client_secret|\brefresh_token\b|authorization|code=/i);
  });
});

describe('mounting', () => {
  let emu: EzidEmulator;
  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterAll(() => emu.stop());

  it.each([false, true])('callback: false mounts no route (forRootAsync: %s)', async (async) => {
    const t = await startCallbackApp({ platform: 'express', emu, callback: false, async });
    try {
      for (const p of ['/auth/ezid/callback', '/auth/ezid/me', '/auth/ezid/magic-link']) {
        const r = await t.request('POST', p, { body: {} });
        expect(r.status).toBe(404);
      }
      expect(t.logger.lines.join('\n')).not.toMatch(/Mapped \{/);
    } finally {
      await t.close();
    }
  });

  it.each([false, true])(
    'a custom prefix is followed, also with forRootAsync (%s), next to an app with the default in the same process',
    async (async) => {
      const custom = await startCallbackApp({
        platform: 'fastify',
        emu,
        callback: { path: '/x/login' },
        async,
      });
      const def = await startCallbackApp({ platform: 'express', emu, async });
      try {
        expect((await custom.request('POST', '/x/login/logout')).status).toBe(204);
        expect((await custom.request('POST', '/auth/ezid/logout')).status).toBe(404);
        expect((await def.request('POST', '/auth/ezid/logout')).status).toBe(204);
      } finally {
        await custom.close();
        await def.close();
      }
    },
  );

  it('each EzidModule.forRoot() gets its own controller class (no cross-app metadata)', () => {
    const opts = { clientId: CLIENT_ID, token: { jwksUri: emu.jwksUri, issuer: emu.issuer } };
    const a = EzidModule.forRoot(opts);
    const b = EzidModule.forRoot({ ...opts, callback: { mode: 'cookie' } });
    expect(a.controllers).toHaveLength(1);
    expect(a.controllers![0]).not.toBe(b.controllers![0]);
    expect((a.controllers![0] as { name: string }).name).toBe('EzidCallbackController');
  });
});
