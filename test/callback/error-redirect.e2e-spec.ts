/**
 * Cookie mode: a failed `GET /callback` (a browser navigation) is a 303 to `callback.errorRedirect`
 * with `?ezid_error=<code>`, never a JSON page; no session cookie is set and the flow cookie is
 * cleared. JSON mode, POST callbacks and `errorRedirect: false` keep the JSON error.
 */
import { request as httpRequest } from 'node:http';
import { EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type CallbackTestApp,
  CookieJar,
  PLATFORMS,
  startCallbackApp,
} from './callback-test-app';

const sessionCookies = (res: Response): string[] =>
  res.headers.getSetCookie().filter((c) => /^(__Host-)?ezid_(at|rt)=/.test(c));
const flowCleared = (res: Response): boolean =>
  res.headers.getSetCookie().some((c) => /^ezid_flow=;/.test(c) && /Max-Age=0/.test(c));

const NAVIGATION = {
  'sec-fetch-site': 'cross-site',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
};

describe.each(PLATFORMS)('GET /callback errors redirect in cookie mode (%s)', (platform) => {
  let emu: EzidEmulator;
  const apps: CallbackTestApp[] = [];
  const secrets: string[] = [CLIENT_SECRET];

  beforeEach(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterEach(async () => {
    for (const a of apps.splice(0)) {
      for (const line of a.logger.lines) for (const s of secrets) expect(line).not.toContain(s);
      await a.close();
    }
    await emu.stop();
  });

  const cookieApp = async (callback: Record<string, unknown> = {}, e: EzidEmulator = emu) => {
    const a = await startCallbackApp({
      platform,
      emu: e,
      callback: { mode: 'cookie', ...callback },
      ownPublicUrl: true,
    });
    apps.push(a);
    return a;
  };
  /** Starts a magic link in `jar`'s browser; returns the emailed link. */
  const startLink = async (t: CallbackTestApp, jar: CookieJar, e: EzidEmulator = emu): Promise<string> => {
    expect(
      (await t.request('POST', '/magic-link', { body: { email: 'alice@example.com' }, jar })).status,
    ).toBe(200);
    const link = e.outbox.last('alice@example.com')!.link!;
    secrets.push(new URL(link).searchParams.get('code')!);
    return link;
  };
  /**
   * A browser's top-level navigation to `link` (node:http: fetch would add its own Sec-Fetch-Mode),
   * as a `Response` so `CookieJar.store` and the header helpers apply.
   */
  const click = (
    link: string,
    jar: CookieJar | string | undefined,
    fetchMeta: Record<string, string> = NAVIGATION,
  ): Promise<Response> =>
    new Promise((resolve, reject) => {
      const cookie = typeof jar === 'string' ? jar : jar?.header();
      const req = httpRequest(link, { headers: { ...fetchMeta, ...(cookie ? { cookie } : {}) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) headers.append(k, one);
          }
          resolve(new Response(res.statusCode === 303 ? null : text, { status: res.statusCode, headers }));
        });
      });
      req.on('error', reject);
      req.end();
    });

  it('a reused link in the same browser (flow cookie already spent): 303 to /?ezid_error=invalid_request, no session cookie, flow cookie cleared', async () => {
    const t = await cookieApp();
    const jar = new CookieJar();
    const link = await startLink(t, jar);
    const first = await click(link, jar);
    jar.store(first);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe(`${t.url}/`);
    const again = await click(link, jar);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe(`${t.url}/?ezid_error=invalid_request`);
    expect(again.headers.get('cache-control')).toBe('no-store');
    expect(again.headers.get('referrer-policy')).toBe('no-referrer');
    expect(sessionCookies(again)).toEqual([]);
    expect(flowCleared(again)).toBe(true);
    expect(await again.text()).not.toMatch(/"message"/);
  });

  it('a reused link with the flow cookie of its login (EZiD refuses the spent code): 303 to /?ezid_error=invalid_code', async () => {
    const t = await cookieApp();
    const jar = new CookieJar();
    const link = await startLink(t, jar);
    const flowCookie = jar.header()!; // the flow cookie as it was before the first click
    const first = await click(link, jar);
    expect(first.status).toBe(303);
    expect(sessionCookies(first)).toHaveLength(2);
    const again = await click(link, flowCookie);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe(`${t.url}/?ezid_error=invalid_code`);
    expect(sessionCookies(again)).toEqual([]);
    expect(flowCleared(again)).toBe(true);
  });

  it('an expired link (EZiD answers "Invalid or expired auth_code"): 303 to /?ezid_error=invalid_code, no session cookie', async () => {
    const t = await cookieApp();
    const jar = new CookieJar();
    const link = await startLink(t, jar);
    // What EZiD answers once a link's expiry has passed (the emulator's link expiry is wall-clock).
    emu.fault('legacy.emailLinkVerify', {
      status: 400,
      body: JSON.stringify({ success: false, reason: 'Invalid or expired auth_code' }),
    });
    const r = await click(link, jar);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe(`${t.url}/?ezid_error=invalid_code`);
    expect(sessionCookies(r)).toEqual([]);
    expect(flowCleared(r)).toBe(true);
  });

  it('a missing flow cookie (link opened in another browser): 303 with invalid_request, EZiD not called', async () => {
    const t = await cookieApp();
    const link = await startLink(t, new CookieJar());
    const before = emu.requestCount('legacy.emailLinkVerify');
    const r = await click(link, undefined);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe(`${t.url}/?ezid_error=invalid_request`);
    expect(sessionCookies(r)).toEqual([]);
    expect(emu.requestCount('legacy.emailLinkVerify')).toBe(before);
  });

  it('a query failing validation and an EZiD outage are redirects too (validation_failed, idp_unavailable)', async () => {
    const t = await cookieApp();
    const bad = await click(`${t.url}${t.prefix}/callback`, undefined);
    expect(bad.status).toBe(303);
    expect(bad.headers.get('location')).toBe(`${t.url}/?ezid_error=validation_failed`);
    const jar = new CookieJar();
    const link = await startLink(t, jar);
    emu.fault('legacy.emailLinkVerify', { status: 503 });
    const r = await click(link, jar);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe(`${t.url}/?ezid_error=idp_unavailable`);
    expect(r.headers.get('retry-after')).toBeNull();
    expect(sessionCookies(r)).toEqual([]);
  });

  it('errorRedirect names another allow-listed path', async () => {
    const t = await cookieApp({ redirectAllowList: ['/', '/login'], errorRedirect: '/login' });
    const r = await click(await startLink(t, new CookieJar()), undefined);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe(`${t.url}/login?ezid_error=invalid_request`);
  });

  it('errorRedirect: false keeps the JSON error; POST /callback is always JSON', async () => {
    const t = await cookieApp({ errorRedirect: false });
    const link = await startLink(t, new CookieJar());
    const r = await click(link, undefined);
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ code: 'invalid_request' });
    const t2 = await cookieApp();
    const code = new URL(await startLink(t2, new CookieJar())).searchParams.get('code');
    const post = await t2.request('POST', '/callback', { body: { code } });
    expect(post.status).toBe(400);
    expect(post.json).toMatchObject({ code: 'invalid_request' });
  });

  it('a cross-site sub-resource is still a JSON 403 csrf_rejected, not a redirect', async () => {
    const t = await cookieApp();
    const jar = new CookieJar();
    const link = await startLink(t, jar);
    const r = await click(link, jar, {
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': 'no-cors',
      'sec-fetch-dest': 'image',
    });
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ code: 'csrf_rejected' });
  });

  it('json mode: GET /callback is not mounted (404 JSON), unchanged', async () => {
    const a = await startCallbackApp({ platform, emu, callback: { mode: 'json' } });
    apps.push(a);
    const r = await a.request('GET', '/callback?code=abc');
    expect(r.status).toBe(404);
  });
});
