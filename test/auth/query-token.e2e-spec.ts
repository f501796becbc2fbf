/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * RFC 6750 §2 "one method per request": an `access_token` query parameter (or body member) next to a
 * header token is 400 `invalid_request`, whatever the encoding of its name. The query is parsed with
 * URLSearchParams semantics from the raw request line (sent byte for byte with node:http, so no
 * client normalises it), on Express and Fastify.
 */
import * as http from 'node:http';
import { EzidEmulator } from '../../src/testing';
import { hasQueryToken } from '../../src/auth/token-extractor';
import { PLATFORMS, type TestApp, bearer, startApp } from './auth-test-app';

/** GET with the request target exactly as given. */
function rawGet(
  base: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: any; challenge?: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: 'GET', path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          body: text ? JSON.parse(text) : undefined,
          challenge: res.headers['www-authenticate'] as string | undefined,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const ENCODED_NAMES = [
  'access%5Ftoken',
  'access%5ftoken',
  '%61ccess_token',
  '%61%63%63%65%73%73%5F%74%6F%6B%65%6E',
  'acc%65ss%5Ftok%65n',
];

describe('hasQueryToken (URLSearchParams semantics on the raw query)', () => {
  it.each([
    ['/p?access_token=x', true],
    ...ENCODED_NAMES.map((n) => [`/p?${n}=x`, true] as [string, boolean]),
    ['/p?a=1&access%5Ftoken=x&b=2', true],
    ['/p?access_token=', true],
    ['/p?access_token', true],
    ['/p?access_token=a&access_token=b', true],
    ['/p?x=1&&access_token&', true],
    ['/p', false],
    ['/p?', false],
    ['/p?access+token=x', false],
    ['/p?access_tokens=x', false],
    ['/p?xaccess_token=x', false],
    ['/p?q=access_token', false],
    ['/p?q=%61ccess_token', false],
    ['/access_token', false],
    ['/p?%zz=1&%=2', false],
  ])('%s → %s', (url, expected) => {
    expect(hasQueryToken(url)).toBe(expected);
  });
});

describe.each(PLATFORMS)('query and body tokens next to a header token on %s', (platform) => {
  let emu: EzidEmulator;
  let app: TestApp;
  let token: string;

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: 'cli_auth_test', clientSecret: 's' });
    app = await startApp(platform, emu);
    token = emu.mintAccessToken();
    expect((await app.get('/protected', bearer(token))).status).toBe(200);
  });
  afterAll(async () => {
    await app?.close();
    await emu?.stop();
  });

  async function expect400(path: string): Promise<void> {
    const res = await rawGet(app.url, path, bearer(token));
    expect({ path, status: res.status }).toEqual({ path, status: 400 });
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      code: 'invalid_request',
      message: expect.any(String),
    });
    expect(res.challenge).toMatch(/^Bearer realm="api", error="invalid_request"/);
  }

  it('control: the plain name is 400 invalid_request', () => expect400(`/protected?access_token=${token}`));

  it.each(ENCODED_NAMES)('a percent-encoded name (%s) is the same 400', (name) =>
    expect400(`/protected?${name}=${token}`),
  );

  it.each([
    ['an empty value', '/protected?access_token='],
    ['no value at all', '/protected?access_token'],
    ['a repeated parameter', '/protected?access_token=a&access%5Ftoken=b'],
    ['among other parameters', '/protected?a=1&%61ccess_token=x&b=2'],
  ])('%s is the same 400', (_n, path) => expect400(path));

  it('an encoded name alone (no header) is not a token: 401 token_missing', async () => {
    const res = await rawGet(app.url, `/protected?access%5Ftoken=${token}`, {});
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('token_missing');
  });

  it('names that only look alike are ignored: 200', async () => {
    for (const path of [
      '/protected?access+token=x',
      '/protected?q=access_token',
      '/protected?access_tokens=1',
    ]) {
      expect({ path, status: (await rawGet(app.url, path, bearer(token))).status }).toEqual({
        path,
        status: 200,
      });
    }
  });

  it('a JSON body member whose name is escaped (access\\u005ftoken) is the same 400', async () => {
    const res = await fetch(`${app.url}/protected`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: '{"access\\u005ftoken":"x"}',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).code).toBe('invalid_request');
  });

  if (platform === 'express') {
    it('a form body with an encoded name (access%5Ftoken=) is the same 400', async () => {
      const res = await fetch(`${app.url}/protected`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'access%5Ftoken=x',
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).code).toBe('invalid_request');
    });
  }
});
