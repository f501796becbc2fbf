import { EzidSameOriginPolicy, isUnsafeMethod, originOf } from './same-origin';

const APP = 'https://app.example';
const policy = (o: Partial<ConstructorParameters<typeof EzidSameOriginPolicy>[0]> = {}) =>
  new EzidSameOriginPolicy({ publicUrl: APP, allowedOrigins: [], allowMissingOrigin: false, ...o });

describe('EzidSameOriginPolicy', () => {
  it.each<[string, Record<string, string | string[]>, boolean]>([
    ['Sec-Fetch-Site same-origin', { 'sec-fetch-site': 'same-origin' }, true],
    [
      'Sec-Fetch-Site same-origin wins over Origin: null',
      { 'sec-fetch-site': 'same-origin', origin: 'null' },
      true,
    ],
    [
      'cross-site from an unlisted origin',
      { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      false,
    ],
    [
      'cross-site claiming the app in Referer only',
      { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example', referer: `${APP}/` },
      false,
    ],
    ['same-site without Origin or Referer', { 'sec-fetch-site': 'same-site' }, false],
    ['Sec-Fetch-Site none', { 'sec-fetch-site': 'none', origin: APP }, false],
    ['an unknown Sec-Fetch-Site value', { 'sec-fetch-site': 'Same-Origin' }, false],
    ['Sec-Fetch-Site sent twice (array)', { 'sec-fetch-site': ['same-origin', 'same-origin'] }, false],
    ['Origin = publicUrl', { origin: APP }, true],
    // Origin must be exactly a serialized origin (browsers never send more); Referer keeps URL semantics.
    [
      'Origin = publicUrl with the default port (not serialized)',
      { origin: 'https://app.example:443' },
      false,
    ],
    ['Origin = publicUrl upper-cased (not serialized)', { origin: 'https://APP.example' }, false],
    ['Origin = publicUrl with a path', { origin: `${APP}/x` }, false],
    ['Origin = publicUrl with a trailing slash', { origin: `${APP}/` }, false],
    ['Origin = publicUrl with userinfo', { origin: 'https://user@app.example' }, false],
    ['Origin = publicUrl with a query', { origin: `${APP}?x=1` }, false],
    ['Origin = publicUrl with a fragment', { origin: `${APP}#x` }, false],
    ['Origin = publicUrl with trailing junk after a space', { origin: `${APP} x` }, false],
    ['Origin = publicUrl with a tab inside', { origin: `https://app.\texample` }, false],
    [
      'cross-site with Origin = publicUrl plus a path',
      { 'sec-fetch-site': 'cross-site', origin: `${APP}/evil` },
      false,
    ],
    ['Origin over http', { origin: 'http://app.example' }, false],
    ['Origin: null', { origin: 'null' }, false],
    ['Origin sent twice (array)', { origin: [APP, APP] }, false],
    ['two Origins joined', { origin: `${APP}, https://evil.example` }, false],
    ['a very long Origin', { origin: `https://${'a'.repeat(5000)}.example` }, false],
    [
      'Origin present but foreign, Referer on the app',
      { origin: 'https://evil.example', referer: `${APP}/x` },
      false,
    ],
    ['Referer on the app', { referer: `${APP}/page?x=1` }, true],
    ['Referer elsewhere', { referer: 'https://evil.example/' }, false],
    ['nothing', {}, false],
  ])('unsafe request, %s → %s', (_label, headers, ok) => {
    expect(policy().check(headers).ok).toBe(ok);
  });

  it('allowedOrigins widen same-site, cross-site and plain Origin checks', () => {
    const p = policy({ allowedOrigins: ['https://admin.example'] });
    expect(p.check({ 'sec-fetch-site': 'same-site', origin: 'https://admin.example' }).ok).toBe(true);
    expect(p.check({ 'sec-fetch-site': 'cross-site', origin: 'https://admin.example' }).ok).toBe(true);
    expect(p.check({ origin: 'https://admin.example' }).ok).toBe(true);
    expect(p.check({ origin: 'https://other.example' }).ok).toBe(false);
    expect(p.check({ origin: 'https://admin.example/x' }).ok).toBe(false);
    expect(p.check({ origin: 'https://u:p@admin.example' }).ok).toBe(false);
  });

  it('allowMissingOrigin accepts only requests with none of the headers', () => {
    const p = policy({ allowMissingOrigin: true });
    expect(p.check({}).ok).toBe(true);
    expect(p.check({ origin: 'https://evil.example' }).ok).toBe(false);
    expect(p.check({ 'sec-fetch-site': 'cross-site' }).ok).toBe(false);
  });

  it('without publicUrl, the request’s own Host is trusted only when it is a loopback host', () => {
    const p = policy({ publicUrl: undefined });
    expect(p.check({ host: 'localhost:3000', origin: 'http://localhost:3000' }).ok).toBe(true);
    expect(p.check({ host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' }).ok).toBe(true);
    expect(p.check({ host: '[::1]:3000', origin: 'http://[::1]:3000' }).ok).toBe(true);
    expect(p.check({ host: 'localhost:3000', origin: 'http://localhost:3001' }).ok).toBe(false);
    expect(p.check({ host: 'localhost:3000', origin: 'http://localhost:3000/x' }).ok).toBe(false);
    expect(p.check({ host: 'localhost:3000', origin: 'http://evil@localhost:3000' }).ok).toBe(false);
    expect(p.check({ host: 'localhost:3000', referer: 'http://localhost:3000/x?y=1' }).ok).toBe(true);
    expect(p.check({ host: 'app.example', origin: 'https://app.example' }).ok).toBe(false);
    expect(p.check({ host: 'evil.localhost', origin: 'http://evil.localhost' }).ok).toBe(false);
    expect(p.check({ origin: 'http://localhost:3000' }).ok).toBe(false);
  });

  it('navigation (GET callback): top-level documents pass from anywhere, subresources and frames only from trusted origins', () => {
    const nav = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
    const p = policy();
    const check = (h: Record<string, string>) => p.check(h, { navigation: true }).ok;
    expect(check({ ...nav, 'sec-fetch-site': 'cross-site' })).toBe(true);
    expect(check({ ...nav, 'sec-fetch-site': 'none' })).toBe(true);
    expect(check({ 'sec-fetch-site': 'none' })).toBe(true);
    expect(check({})).toBe(true);
    expect(
      check({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' }),
    ).toBe(false);
    expect(
      check({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' }),
    ).toBe(false);
    expect(check({ 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors', origin: APP })).toBe(true);
  });

  it('failure reasons are fixed strings, never a header value', () => {
    const v = policy().check({ 'sec-fetch-site': '<script>', origin: 'https://evil.example' });
    expect(v).toEqual({ ok: false, reason: 'sec_fetch_site_invalid' });
  });
});

describe('isUnsafeMethod / originOf', () => {
  it.each([
    ['GET', false],
    ['head', false],
    ['OPTIONS', false],
    ['POST', true],
    ['PUT', true],
    ['PATCH', true],
    ['DELETE', true],
    ['PROPFIND', true],
    [undefined, true],
  ])('%s → %s', (method, unsafe) => {
    expect(isUnsafeMethod(method)).toBe(unsafe);
  });

  it('keeps only http(s) origins', () => {
    expect(originOf('https://A.example:443/x?y#z')).toBe('https://a.example');
    expect(originOf('null')).toBeUndefined();
    expect(originOf('file:///etc/passwd')).toBeUndefined();
    expect(originOf('javascript:alert(1)')).toBeUndefined();
    expect(originOf(['https://a.example'])).toBeUndefined();
  });
});
