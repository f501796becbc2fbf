import { EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  CallbackTestApp,
  CookieJar,
  PLATFORMS,
  startCallbackApp,
} from './callback-test-app';

/** `/email-link/send` answers that give the module nothing to bind a login flow to. */
const UNBINDABLE: [string, string][] = [
  ['the documented {status:200} variant (no email_link)', JSON.stringify({ status: 200 })],
  ['a link without a code', JSON.stringify({ success: true, email_link: 'http://127.0.0.1/landing' })],
  [
    'a link with an empty code',
    JSON.stringify({ success: true, email_link: 'http://127.0.0.1/landing?code=' }),
  ],
  ['a link that is not a URL', JSON.stringify({ success: true, email_link: 'not a url' })],
];

describe.each(PLATFORMS)(
  'magic link: an unbindable /email-link/send answer starts no flow (%s)',
  (platform) => {
    let emu: EzidEmulator;
    beforeAll(async () => {
      emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    });
    afterAll(() => emu.stop());

    const apps: CallbackTestApp[] = [];
    afterEach(async () => {
      emu.clearFaults();
      for (const a of apps.splice(0)) await a.close();
    });

    describe.each(['cookie', 'json'] as const)('%s mode', (mode) => {
      it.each(UNBINDABLE)('%s: 503 idp_unavailable, no cookie', async (_label, body) => {
        const t = await startCallbackApp({
          platform,
          emu,
          callback: { mode, redirectAllowList: ['/'] },
          ownPublicUrl: true,
        });
        apps.push(t);
        emu.fault('legacy.emailLinkSend', { status: 200, body });
        const jar = new CookieJar();
        const sent = await t.request('POST', '/magic-link', {
          body: { email: 'alice@example.com' },
          jar,
          headers: { origin: t.url, 'sec-fetch-site': 'same-origin' },
        });
        expect(sent.status).toBe(503);
        expect(sent.json).toMatchObject({ statusCode: 503, code: 'idp_unavailable' });
        expect(sent.res.headers.get('retry-after')).toBeTruthy();
        expect(sent.res.headers.getSetCookie()).toEqual([]);
        expect(emu.requestCount('legacy.emailLinkSend')).toBeGreaterThan(0);
      });
    });
  },
);
