import { Controller, Delete, Get, HttpCode, Patch, Post, Put, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { request as httpRequest } from 'node:http';
import { CurrentUser, OptionalAuth, Public } from '../../src';
import type { EzidUser } from '../../src';
import { EZID_ENDPOINTS } from '../../src/client/ezid-endpoints';
import { EzidConfigurationError } from '../../src/ezid.errors';
import { resolveEzidOptions } from '../../src/ezid-options.validation';
import { EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  CallbackTestApp,
  CookieJar,
  PLATFORMS,
  StartOptions,
  startCallbackApp,
} from './callback-test-app';

/** An app route family with every unsafe method, authenticated by the access cookie in cookie mode. */
@Controller('x/notes')
class NotesController {
  readonly writes: string[] = [];

  @Get()
  list(@CurrentUser('email') email: string) {
    return { email, writes: this.writes.length };
  }

  @Post()
  @HttpCode(201)
  create(@CurrentUser() user: EzidUser) {
    this.writes.push(`POST ${user.id}`);
    return { ok: true };
  }

  @Put(':id')
  put() {
    this.writes.push('PUT');
    return { ok: true };
  }

  @Patch(':id')
  patch() {
    this.writes.push('PATCH');
    return { ok: true };
  }

  @Delete(':id')
  remove() {
    this.writes.push('DELETE');
    return { ok: true };
  }

  @Public()
  @UseGuards(AuthGuard('ezid-jwt'))
  @Post('passport')
  viaPassport() {
    this.writes.push('PASSPORT');
    return { ok: true };
  }

  @OptionalAuth()
  @Post('optional')
  optional(@CurrentUser() user?: EzidUser) {
    this.writes.push(`OPTIONAL ${user ? 'user' : 'anonymous'}`);
    return { user: !!user };
  }
}

/** Every EZiD endpoint and the JWKS: what "EZiD was not called" is measured on. */
const upstreamNames = [...Object.keys(EZID_ENDPOINTS), 'jwks'];

/** Headers of requests that do not prove the app's origin (port is the app's). */
const forged = (appUrl: string): [string, Record<string, string>][] => {
  const { port } = new URL(appUrl);
  return [
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
    [
      'Sec-Fetch-Site: same-site (a sibling subdomain)',
      { 'sec-fetch-site': 'same-site', origin: 'https://sibling.app.example' },
    ],
    ['Sec-Fetch-Site: none (not sent by a page of the app)', { 'sec-fetch-site': 'none' }],
    ['a Sec-Fetch-Site header sent twice', { 'sec-fetch-site': 'same-origin, cross-site' }],
    ['a foreign Origin, no fetch metadata', { origin: 'https://evil.example' }],
    ['Origin: null (sandboxed frame, data: URL)', { origin: 'null' }],
    [
      'the app host on another port (same-site, not same-origin)',
      { origin: `http://127.0.0.1:${Number(port) + 1}` },
    ],
    ['the app host over https (another origin)', { origin: `https://127.0.0.1:${port}` }],
    ['userinfo trick in Origin', { origin: `http://127.0.0.1:${port}@evil.example` }],
    // The app's own origin plus more: not a serialized origin, so not one a browser sent.
    ['the app origin with a path in Origin', { origin: `${appUrl}/page` }],
    ['the app origin with userinfo in Origin', { origin: `http://evil@127.0.0.1:${port}` }],
    ['the app origin with a query in Origin', { origin: `${appUrl}?x=1` }],
    ['a foreign Referer only', { referer: 'https://evil.example/page' }],
    ['none of Sec-Fetch-Site, Origin, Referer', {}],
  ];
};

/**
 * A GET with exactly these headers (fetch() would replace `Sec-Fetch-Mode` with `cors`), as a
 * browser navigating to an email link sends it.
 */
function navigate(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; setCookies: string[]; json?: Record<string, unknown>; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({
          status: res.statusCode ?? 0,
          setCookies: res.headers['set-cookie'] ?? [],
          json,
          location: res.headers.location,
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Headers of same-origin requests. */
const sameOrigin = (appUrl: string): [string, Record<string, string>][] => [
  ['Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin' }],
  ['Origin = the public URL', { origin: appUrl }],
  ['Referer on the public URL', { referer: `${appUrl}/settings?tab=1` }],
];

describe.each(PLATFORMS)('CSRF and login CSRF in cookie mode (%s)', (platform) => {
  let emu: EzidEmulator;
  const apps: CallbackTestApp[] = [];

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterAll(async () => {
    const logs: string[] = [];
    for (const a of apps.splice(0)) {
      logs.push(...a.logger.lines);
      await a.close();
    }
    await emu.stop();
    // Rejections are logged as fixed reasons; no header value, cookie or token reaches a log line.
    const text = logs.join('\n');
    expect(text).toContain('"event":"csrf_rejected","reason":"sec_fetch_site_cross-site"');
    expect(text).toContain('"reason":"origin_missing"');
    expect(text).not.toMatch(/evil\.example|sibling|eyJ|ezid_rt=|ezid_at=/);
  });

  const start = async (o: Omit<StartOptions, 'platform' | 'emu'> = {}) => {
    const a = await startCallbackApp({ platform, emu, controllers: [NotesController], ...o });
    apps.push(a);
    return a;
  };
  const cookieApp = (o: Omit<StartOptions, 'platform' | 'emu'> = {}) =>
    start({ ownPublicUrl: true, ...o, callback: { mode: 'cookie', ...(o.callback || {}) } });
  const upstream = () => upstreamNames.reduce((n, name) => n + emu.requestCount(name), 0);
  const writes = (t: CallbackTestApp) => t.app.get(NotesController).writes;

  /** Signs `jar` in with an email code, from the app's own page. */
  async function signIn(t: CallbackTestApp, jar = new CookieJar(), email = 'alice@example.com') {
    const sent = await t.request('POST', '/email-code', { body: { email }, jar });
    expect(sent.status).toBe(200);
    const m = emu.outbox.last(email)!;
    const done = await t.request('POST', '/email-code/verify', {
      body: { state: m.state, code: m.code },
      jar,
    });
    expect(done.status).toBe(200);
    return jar;
  }

  /** Asserts a 403 csrf_rejected that called nothing upstream and set no cookie. */
  async function expectRejected(
    run: () => Promise<{ status: number; json?: Record<string, unknown>; res: Response }>,
  ) {
    const before = upstream();
    const r = await run();
    expect(r.status).toBe(403);
    expect(r.json).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      code: 'csrf_rejected',
      message: expect.any(String),
    });
    expect(r.res.headers.getSetCookie()).toEqual([]);
    expect(upstream()).toBe(before);
    return r;
  }

  describe('defect 1: POST /refresh reads the refresh cookie only', () => {
    it("a refresh token in the body (the attacker's, no cookie) is 400 invalid_request; EZiD is not called, no cookie is set", async () => {
      const t = await cookieApp();
      const attacker = await signIn(t, new CookieJar(), 'bob@example.com');
      const attackerRt = attacker.cookies.get('ezid_rt')!;
      const before = upstream();
      const r = await t.request('POST', '/refresh', { body: { refreshToken: attackerRt } });
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ statusCode: 400, code: 'invalid_request' });
      expect(r.res.headers.getSetCookie()).toEqual([]);
      expect(upstream()).toBe(before);
    });

    it('a body token equal to the cookie is 400 too; the cookie alone rotates the session', async () => {
      const t = await cookieApp();
      const jar = await signIn(t);
      const rt = jar.cookies.get('ezid_rt')!;
      const both = await t.request('POST', '/refresh', { body: { refreshToken: rt }, jar });
      expect(both.status).toBe(400);
      expect(both.res.headers.getSetCookie()).toEqual([]);
      const ok = await t.request('POST', '/refresh', { jar });
      expect(ok.status).toBe(200);
      expect(jar.cookies.get('ezid_rt')).not.toBe(rt);
    });

    it('a cross-site form post carrying a refresh token: 403 csrf_rejected, nothing called or set', async () => {
      const t = await cookieApp();
      const attacker = await signIn(t, new CookieJar(), 'bob@example.com');
      await expectRejected(() =>
        t.request('POST', '/refresh', {
          rawBody: `refreshToken=${encodeURIComponent(attacker.cookies.get('ezid_rt')!)}`,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'sec-fetch-site': 'cross-site',
            origin: 'https://evil.example',
          },
        }),
      );
    });
  });

  describe('defect 2: login start, callback, verify, refresh and logout prove same-origin', () => {
    let t: CallbackTestApp;
    let victim: CookieJar;
    beforeAll(async () => {
      t = await cookieApp();
      victim = await signIn(t);
    });

    const routes: [string, unknown][] = [
      ['/magic-link', { email: 'mallory@example.com' }],
      ['/email-code', { email: 'mallory@example.com' }],
      ['/sms', { phone: '+15550000001' }],
      ['/callback', { code: 'attacker-code-0123456789' }],
      ['/callback', { state: 'attacker-state-0123456789' }],
      ['/email-code/verify', { state: 'attacker-state-0123456789', code: '123456' }],
      ['/sms/verify', { state: 'attacker-state-0123456789', code: '123456' }],
      ['/refresh', undefined],
      ['/logout', undefined],
    ];

    it.each(routes)(
      'POST %s from anything but the app origin: 403 csrf_rejected, EZiD not called, no Set-Cookie, nothing emailed',
      async (path, body) => {
        const sentBefore = emu.outbox.all().length;
        for (const [label, headers] of forged(t.url)) {
          const r = await expectRejected(() =>
            t.request('POST', path, { body, headers, jar: victim, origin: null }),
          );
          expect([label, r.status]).toEqual([label, 403]);
        }
        expect(emu.outbox.all().length).toBe(sentBefore);
        expect(victim.cookies.has('ezid_at')).toBe(true); // the victim's session is untouched
      },
    );

    it.each(routes)(
      'POST %s as a cross-site form (urlencoded, text/plain, multipart): 403 or refused before any work',
      async (path) => {
        const sentBefore = emu.outbox.all().length;
        for (const [type, raw] of [
          ['application/x-www-form-urlencoded', 'email=mallory%40example.com'],
          ['text/plain', '{"email":"mallory@example.com"}'],
        ]) {
          await expectRejected(() =>
            t.request('POST', path, {
              rawBody: raw,
              headers: {
                'content-type': type,
                'sec-fetch-site': 'cross-site',
                origin: 'https://evil.example',
              },
              jar: victim,
            }),
          );
        }
        expect(emu.outbox.all().length).toBe(sentBefore);
      },
    );

    it.each(sameOrigin('APP'))(
      'a login started with %s works and sets the flow cookie',
      async (_label, h) => {
        const headers = JSON.parse(JSON.stringify(h).replace(/APP/g, t.url)) as Record<string, string>;
        const jar = new CookieJar();
        const r = await t.request('POST', '/email-code', {
          body: { email: 'alice@example.com' },
          headers,
          jar,
          origin: null,
        });
        expect(r.status).toBe(200);
        expect(jar.cookies.has('ezid_flow')).toBe(true);
      },
    );

    it('a forged login start gives the victim no flow cookie, so the attacker’s code cannot complete in the victim’s browser', async () => {
      const jar = new CookieJar();
      await expectRejected(() =>
        t.request('POST', '/magic-link', {
          body: { email: 'bob@example.com' },
          headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
          jar,
        }),
      );
      expect(jar.cookies.size).toBe(0);
    });

    it('Sec-Fetch-Site decides over Origin: same-origin passes with Origin: null, cross-site fails with the app’s Origin only when not listed', async () => {
      const ok = await t.request('POST', '/logout', {
        headers: { 'sec-fetch-site': 'same-origin', origin: 'null' },
        origin: null,
      });
      expect(ok.status).toBe(204);
      await expectRejected(() =>
        t.request('POST', '/logout', {
          headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example', referer: `${t.url}/` },
          origin: null,
        }),
      );
    });

    describe('JSON bodies only (a cross-site form cannot send application/json without a CORS preflight)', () => {
      it.each([
        ['application/x-www-form-urlencoded', 'email=alice%40example.com'],
        ['text/plain', '{"email":"alice@example.com"}'],
        ['text/plain;charset=UTF-8', '{"email":"alice@example.com"}'],
      ])(
        '%s from the app origin: 415 unsupported_media_type, EZiD not called, no cookie',
        async (type, raw) => {
          for (const path of ['/email-code', '/magic-link', '/refresh', '/logout', '/callback']) {
            const before = upstream();
            const r = await t.request('POST', path, {
              rawBody: raw,
              headers: { 'content-type': type },
              jar: victim,
            });
            expect([path, r.status]).toEqual([path, 415]);
            expect(r.json).toEqual({
              statusCode: 415,
              error: 'Unsupported Media Type',
              code: 'unsupported_media_type',
              message: expect.any(String),
            });
            expect(r.res.headers.getSetCookie()).toEqual([]);
            expect(upstream()).toBe(before);
          }
        },
      );

      it.each(['application/jsonx', 'multipart/form-data; boundary=x'])(
        '%s (no parser on Fastify, which answers 415 itself): 415 before any route code, EZiD not called, no cookie',
        async (type) => {
          const raw = type.startsWith('multipart')
            ? '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nalice@example.com\r\n--x--\r\n'
            : '{"email":"alice@example.com"}';
          for (const path of ['/email-code', '/refresh']) {
            const before = upstream();
            const r = await t.request('POST', path, {
              rawBody: raw,
              headers: { 'content-type': type },
              jar: victim,
            });
            expect([path, r.status]).toEqual([path, 415]);
            if (platform === 'express') expect(r.json).toMatchObject({ code: 'unsupported_media_type' });
            expect(r.res.headers.getSetCookie()).toEqual([]);
            expect(upstream()).toBe(before);
          }
        },
      );

      it('application/json with a charset passes; refresh and logout need no body at all', async () => {
        const r = await t.request('POST', '/email-code', {
          rawBody: '{"email":"alice@example.com"}',
          headers: { 'content-type': 'application/json; charset=utf-8' },
        });
        expect(r.status).toBe(200);
        expect((await t.request('POST', '/logout')).status).toBe(204);
      });
    });

    describe('GET /callback is a top-level navigation from an email: the flow cookie is its defence', () => {
      async function startedLink(jar: CookieJar) {
        await t.request('POST', '/magic-link', { body: { email: 'alice@example.com' }, jar });
        return emu.outbox.last('alice@example.com')!.link!;
      }

      it.each([
        [
          'a click in webmail (cross-site top-level navigation)',
          { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
        ],
        [
          'a link opened from a mail app (Sec-Fetch-Site: none)',
          { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
        ],
        [
          'a same-origin navigation',
          { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
        ],
        ['a browser without fetch metadata', {}],
      ])(
        '%s, with the flow cookie of the login this browser started: 303 and signed in',
        async (_l, headers) => {
          const jar = new CookieJar();
          const link = await startedLink(jar);
          const r = await navigate(link, { ...headers, cookie: jar.header()! });
          expect(r.status).toBe(303);
          expect(r.setCookies.some((c) => /^ezid_at=[^;]/.test(c))).toBe(true);
        },
      );

      it.each([
        [
          'an <img> on another site',
          { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' },
        ],
        [
          'an <iframe> on another site',
          { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' },
        ],
        [
          'a fetch() from a sibling subdomain',
          {
            'sec-fetch-site': 'same-site',
            'sec-fetch-mode': 'cors',
            'sec-fetch-dest': 'empty',
            origin: 'https://sibling.app.example',
          },
        ],
      ])('%s: 403 csrf_rejected, EZiD not called, no cookie', async (_l, headers) => {
        const jar = new CookieJar();
        const link = await startedLink(jar);
        const before = upstream();
        const r = await navigate(link, { ...headers, cookie: jar.header()! });
        expect(r.status).toBe(403);
        expect(r.json).toMatchObject({ code: 'csrf_rejected' });
        expect(r.setCookies).toEqual([]);
        expect(upstream()).toBe(before);
      });

      it("without the flow cookie (the attacker's link in the victim's browser) a cross-site navigation is still refused: 303 to the error path", async () => {
        const attackerJar = new CookieJar();
        const link = await startedLink(attackerJar);
        const before = upstream();
        const r = await navigate(link, {
          'sec-fetch-site': 'cross-site',
          'sec-fetch-mode': 'navigate',
          'sec-fetch-dest': 'document',
        });
        expect(r.status).toBe(303);
        expect(r.location).toMatch(/\/\?ezid_error=invalid_request$/);
        expect(r.setCookies.filter((c) => /^ezid_(at|rt)=[^;]/.test(c))).toEqual([]);
        expect(upstream()).toBe(before);
      });
    });
  });

  describe('defect 3: the app’s own unsafe routes authenticated by the access cookie', () => {
    let t: CallbackTestApp;
    let jar: CookieJar;
    beforeAll(async () => {
      t = await cookieApp();
      jar = await signIn(t);
    });
    beforeEach(() => writes(t).splice(0));

    const methods: [string, string][] = [
      ['POST', '/x/notes'],
      ['PUT', '/x/notes/1'],
      ['PATCH', '/x/notes/1'],
      ['DELETE', '/x/notes/1'],
    ];

    it.each(methods)(
      '%s %s with the cookie from anything but the app origin: 403 csrf_rejected, the handler never runs',
      async (method, path) => {
        for (const [label, headers] of forged(t.url)) {
          const r = await expectRejected(() =>
            t.request(method, path, { body: {}, headers, jar, origin: null }),
          );
          expect([label, r.status]).toEqual([label, 403]);
        }
        expect(writes(t)).toEqual([]);
      },
    );

    it.each(methods)('%s %s with the cookie from the app origin: allowed', async (method, path) => {
      for (const [, headers] of sameOrigin(t.url)) {
        const r = await t.request(method, path, { body: {}, headers, jar, origin: null });
        expect(r.status).toBeLessThan(300);
      }
      expect(writes(t)).toHaveLength(3);
    });

    it('GET with the cookie is not checked (safe method), even cross-site', async () => {
      const r = await t.request('GET', '/x/notes', {
        jar,
        headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ email: 'alice@example.com' });
    });

    it('a Bearer request is not cookie-authenticated: cross-site or headerless, it is not checked', async () => {
      const token = jar.cookies.get('ezid_at')!;
      for (const headers of [
        { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
        {} as Record<string, string>,
      ]) {
        const r = await t.request('POST', '/x/notes', {
          body: {},
          headers: { ...headers, authorization: `Bearer ${token}` },
          origin: null,
        });
        expect(r.status).toBe(201);
      }
      expect(writes(t)).toHaveLength(2);
    });

    it("AuthGuard('ezid-jwt') (Passport): the cookie on a cross-origin unsafe request counts as no token (401); same-origin works", async () => {
      for (const [, headers] of forged(t.url)) {
        const r = await t.request('POST', '/x/notes/passport', { body: {}, headers, jar, origin: null });
        expect(r.status).toBe(401);
      }
      expect(writes(t)).toEqual([]);
      expect((await t.request('POST', '/x/notes/passport', { body: {}, jar })).status).toBe(201);
      const bearer = {
        authorization: `Bearer ${jar.cookies.get('ezid_at')!}`,
        origin: 'https://evil.example',
      };
      expect((await t.request('POST', '/x/notes/passport', { body: {}, headers: bearer })).status).toBe(201);
      expect(writes(t)).toEqual(['PASSPORT', 'PASSPORT']);
    });

    it('@OptionalAuth: a cross-site request carrying the cookie is refused, not downgraded; without the cookie it is anonymous', async () => {
      const cross = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' };
      await expectRejected(() => t.request('POST', '/x/notes/optional', { body: {}, headers: cross, jar }));
      const anon = await t.request('POST', '/x/notes/optional', { body: {}, headers: cross });
      expect(anon.status).toBe(201);
      expect(writes(t)).toEqual(['OPTIONAL anonymous']);
    });
  });

  describe('widening: csrf.allowedOrigins and csrf.allowMissingOrigin', () => {
    it('an allowed origin passes on every checked route, same-site or cross-site; its sibling does not', async () => {
      const t = await cookieApp({ extra: { csrf: { allowedOrigins: ['https://admin.example.com/'] } } });
      const jar = await signIn(t);
      const admin = { 'sec-fetch-site': 'same-site', origin: 'https://admin.example.com' };
      expect((await t.request('POST', '/x/notes', { body: {}, headers: admin, jar })).status).toBe(201);
      const noMeta = { origin: 'https://admin.example.com' };
      expect((await t.request('POST', '/x/notes', { body: {}, headers: noMeta, jar })).status).toBe(201);
      const cross = { 'sec-fetch-site': 'cross-site', origin: 'https://admin.example.com' };
      expect(
        (await t.request('POST', '/email-code', { body: { email: 'alice@example.com' }, headers: cross }))
          .status,
      ).toBe(200);
      for (const origin of [
        'https://evil.example.com',
        'http://admin.example.com',
        'https://admin.example.com:8443',
      ]) {
        await expectRejected(() =>
          t.request('POST', '/x/notes', {
            body: {},
            headers: { 'sec-fetch-site': 'same-site', origin },
            jar,
          }),
        );
      }
    });

    it('allowMissingOrigin: a headerless (non-browser) cookie request passes; a cross-site one is still refused', async () => {
      const t = await cookieApp({ extra: { csrf: { allowMissingOrigin: true } } });
      const jar = await signIn(t);
      expect((await t.request('POST', '/x/notes', { body: {}, jar, origin: null })).status).toBe(201);
      expect((await t.request('POST', '/logout', { jar, origin: null })).status).toBe(204);
      const j2 = await signIn(t);
      await expectRejected(() =>
        t.request('POST', '/x/notes', { body: {}, jar: j2, headers: { origin: 'https://evil.example' } }),
      );
    });

    it('without publicUrl: the request’s own loopback Host is the app origin (development)', async () => {
      const t = await start({ callback: { mode: 'cookie' } }); // Secure __Host- cookies; the jar sends them anyway
      const jar = await signIn(t);
      expect((await t.request('POST', '/x/notes', { body: {}, jar })).status).toBe(201);
      const other = t.url.replace('127.0.0.1', 'localhost');
      await expectRejected(() =>
        t.request('POST', '/x/notes', { body: {}, jar, headers: { origin: other } }),
      );
    });

    it('a cookie of the app’s own (token.cookieName, callback: false) is protected the same way', async () => {
      const t = await start({
        callback: false,
        extra: {
          token: { jwksUri: emu.jwksUri, issuer: emu.issuer, cookieName: 'sid' },
          csrf: { allowedOrigins: ['https://app.example'] },
        },
      });
      const token = emu.mintAccessToken('alice@example.com');
      const cookie = { cookie: `sid=${token}` };
      await expectRejected(() => t.request('POST', '/x/notes', { body: {}, headers: cookie, origin: null }));
      await expectRejected(() =>
        t.request('POST', '/x/notes', { body: {}, headers: cookie, origin: 'https://evil.example' }),
      );
      const ok = await t.request('POST', '/x/notes', {
        body: {},
        headers: { ...cookie, origin: 'https://app.example' },
      });
      expect(ok.status).toBe(201);
      const bearer = await t.request('POST', '/x/notes', {
        body: {},
        headers: { authorization: `Bearer ${token}` },
        origin: null,
      });
      expect(bearer.status).toBe(201);
    });
  });

  it('json mode: the login routes hand tokens to the caller, not to a cookie, so they are not checked', async () => {
    const t = await start({});
    const r = await t.request('POST', '/email-code', {
      body: { email: 'alice@example.com' },
      headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    });
    expect(r.status).toBe(200);
  });
});

describe('csrf options validation', () => {
  const base = {
    clientId: CLIENT_ID,
    token: { jwksUri: 'https://ezid.example/.well-known/jwks.json', issuer: 'https://ezid.example' },
  };
  const boot = (csrf: unknown) => () => resolveEzidOptions({ ...base, csrf } as never);

  it.each([
    ['https://app.example', 'https://app.example'],
    ['https://App.Example:443/', 'https://app.example'],
    ['http://localhost:3000', 'http://localhost:3000'],
  ])('%s is accepted (as %s)', (origin, normalised) => {
    expect(boot({ allowedOrigins: [origin] })().csrf.allowedOrigins).toEqual([normalised]);
  });

  it.each([
    'https://app.example/path',
    'https://app.example?x=1',
    'https://app.example#x',
    'https://*.app.example',
    '*',
    'http://app.example',
    'https://user@app.example',
    'app.example',
    'null',
    '',
  ])('%j is refused at boot', (origin) => {
    expect(boot({ allowedOrigins: [origin] })).toThrow(EzidConfigurationError);
  });

  it('non-array lists, non-boolean flags and unknown keys are refused', () => {
    expect(boot({ allowedOrigins: 'https://app.example' })).toThrow(/csrf\.allowedOrigins/);
    expect(boot({ allowMissingOrigin: 'yes' })).toThrow(/csrf\.allowMissingOrigin/);
    expect(boot({ allowedOrigin: [] })).toThrow(/csrf\.allowedOrigin/);
  });
});
