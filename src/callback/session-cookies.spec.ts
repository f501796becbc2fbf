import {
  appendSetCookies,
  clearedCookie,
  EzidDuplicateCookieError,
  ezidCookieNames,
  isSecureCookieDeployment,
  readCookies,
  sessionCookie,
} from './session-cookies';

describe('session cookies (checklist F7)', () => {
  it('are Secure with __Host- names unless publicUrl is plain-http localhost', () => {
    expect(isSecureCookieDeployment(undefined)).toBe(true);
    expect(isSecureCookieDeployment('https://app.example')).toBe(true);
    expect(isSecureCookieDeployment('https://localhost:3000')).toBe(true);
    expect(isSecureCookieDeployment('http://localhost:3000')).toBe(false);
    expect(isSecureCookieDeployment('http://127.0.0.1:3000')).toBe(false);
    expect(ezidCookieNames(true)).toEqual({
      access: '__Host-ezid_at',
      refresh: '__Host-ezid_rt',
      flow: '__Host-ezid_flow',
    });
    expect(ezidCookieNames(false)).toEqual({ access: 'ezid_at', refresh: 'ezid_rt', flow: 'ezid_flow' });
    expect(ezidCookieNames(true, 'my_at').access).toBe('my_at');
  });

  it('carry HttpOnly, Secure, SameSite=Lax, Path=/, Max-Age and no Domain', () => {
    const c = sessionCookie('__Host-ezid_flow', 'v', 600, true);
    expect(c).toMatch(/^__Host-ezid_flow=v; /);
    expect(c).toContain('HttpOnly');
    expect(c).toContain('Secure');
    expect(c).toContain('SameSite=Lax');
    expect(c).toContain('Path=/');
    expect(c).toContain('Max-Age=600');
    expect(c).not.toMatch(/domain/i);
    expect(c).not.toMatch(/strict/i);
    expect(sessionCookie('ezid_at', 'v', 10, false)).not.toContain('Secure');
    const cleared = clearedCookie('__Host-ezid_at', true);
    expect(cleared).toContain('Max-Age=0');
    expect(cleared).toContain('Secure');
  });

  it('reads named cookies from the raw header', () => {
    expect(readCookies('a=1; ezid_rt=x%2By; b=2', ['ezid_rt', 'ezid_at'])).toEqual({
      ezid_rt: 'x+y',
      ezid_at: undefined,
    });
    expect(readCookies(undefined, ['a'])).toEqual({});
    expect(readCookies('ezid_rt=', ['ezid_rt'])).toEqual({ ezid_rt: undefined });
  });

  it('rejects a duplicated cookie name (cookie tossing), even with equal values', () => {
    expect(() => readCookies('__Host-x=a; __Host-x=b', ['__Host-x'])).toThrow(EzidDuplicateCookieError);
    expect(() => readCookies('__Host-x=a;__Host-x=a', ['__Host-x'])).toThrow(EzidDuplicateCookieError);
    expect(() => readCookies('other=a; other=b; __Host-x=1', ['__Host-x'])).not.toThrow();
  });

  it('appends Set-Cookie on Express-like and Fastify-like responses', () => {
    const headers: Record<string, unknown> = { 'set-cookie': 'a=1' };
    const express = {
      getHeader: (n: string) => headers[n],
      setHeader: (n: string, v: unknown) => void (headers[n] = v),
    };
    appendSetCookies(express, ['b=2', 'c=3']);
    expect(headers['set-cookie']).toEqual(['a=1', 'b=2', 'c=3']);
    const fastifyCalls: unknown[] = [];
    appendSetCookies({ raw: {}, header: (n: string, v: unknown) => fastifyCalls.push([n, v]) }, ['b=2']);
    expect(fastifyCalls).toEqual([['set-cookie', 'b=2']]);
  });
});
