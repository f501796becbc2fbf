import { isAllowedRedirectPath, sanitizeRedirect } from './redirect-sanitizer';

describe('sanitizeRedirect (checklist F6)', () => {
  const policy = { origin: 'https://app.example', allowList: ['/', '/dashboard', '/app/'] };

  it.each([
    'https://evil.example',
    'https://evil.example/dashboard',
    '//evil.example',
    '//evil.example/dashboard',
    '/\\evil.example',
    '\\/evil.example',
    '\\\\evil.example',
    'https:evil.example',
    'https:/evil.example',
    'http://app.example/dashboard',
    '%2F%2Fevil.example',
    '/%2F%2Fevil.example',
    '/%09/evil.example',
    '/\t/evil.example',
    'https://app.example@evil.example',
    'https://app.example@evil.example/dashboard',
    'https://user:pw@app.example/dashboard',
    'https://app.example.evil.example/dashboard',
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    ' javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    '/dashboard%0d%0aSet-Cookie:x=1',
    '/dashboard\r\nSet-Cookie: x=1',
    '/dashboard\u2028',
    '/unlisted',
    '/app',
    '/dashboard/',
    '/app//evil.example',
    '',
    'a'.repeat(3000),
    '/' + 'a'.repeat(3000),
    'dashboard',
    './dashboard',
    '../dashboard',
  ])('%j falls back to the default', (value) => {
    expect(sanitizeRedirect(value, policy)).toBe('/');
  });

  it.each([undefined, null, 42, {}, ['/dashboard']])('non-string %j falls back', (value) => {
    expect(sanitizeRedirect(value, policy)).toBe('/');
  });

  it.each([
    ['/', '/'],
    ['/dashboard', '/dashboard'],
    ['/dashboard?tab=1#x', '/dashboard'],
    ['https://app.example/dashboard', '/dashboard'],
    ['https://APP.example/dashboard', '/dashboard'],
    ['/app/settings', '/app/settings'],
    ['/app/a/../settings', '/app/settings'],
    ['/x/../dashboard', '/dashboard'],
  ])('%j is allowed as %j', (value, expected) => {
    expect(sanitizeRedirect(value, policy)).toBe(expected);
  });

  it('without an origin, only relative paths are accepted', () => {
    const p = { allowList: ['/', '/dashboard'] };
    expect(sanitizeRedirect('/dashboard', p)).toBe('/dashboard');
    expect(sanitizeRedirect('https://app.example/dashboard', p)).toBe('/');
    expect(sanitizeRedirect('https://sentinel.ezid-callback.invalid/dashboard', p)).toBe('/');
  });

  it('the fallback is the first allow-list entry unless given', () => {
    expect(sanitizeRedirect('//evil', { allowList: ['/home'] })).toBe('/home');
    expect(sanitizeRedirect('//evil', { allowList: ['/home'], fallback: '/x' })).toBe('/x');
    expect(sanitizeRedirect('//evil', { allowList: [] })).toBe('/');
  });

  it('allow-list entries match exactly, or as a prefix when they end in "/" (never "/" itself)', () => {
    expect(isAllowedRedirectPath('/anything', ['/'])).toBe(false);
    expect(isAllowedRedirectPath('/', ['/'])).toBe(true);
    expect(isAllowedRedirectPath('/app/x', ['/app/'])).toBe(true);
    expect(isAllowedRedirectPath('/appx', ['/app/'])).toBe(false);
  });
});
