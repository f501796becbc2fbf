import { EzidConfigurationError } from '../../src/ezid.errors';
import { resolveEzidOptions } from '../../src/ezid-options.validation';
import type { EzidModuleOptions } from '../../src/ezid.options';
import { callCostMs } from '../support/cost';

const SECRET = 'super-secret-value-123';

function valid(): EzidModuleOptions {
  return {
    clientId: 'cli_test',
    clientSecret: SECRET,
    token: { jwksUri: 'https://idp.example.com/.well-known/jwks.json', issuer: 'https://idp.example.com' },
  };
}

function failWith(options: unknown): EzidConfigurationError {
  try {
    resolveEzidOptions(options as EzidModuleOptions);
  } catch (e) {
    expect(e).toBeInstanceOf(EzidConfigurationError);
    return e as EzidConfigurationError;
  }
  throw new Error('expected an EzidConfigurationError');
}

const paths = (e: EzidConfigurationError) => e.issues.map((i) => i.path);

describe('EzidModule options validation', () => {
  it('accepts a minimal valid configuration and applies secure defaults', () => {
    const o = resolveEzidOptions(valid());
    expect(o.apiBaseUrl).toBe('https://api.ezid.io');
    expect(o.legacyApiBaseUrl).toBe('https://api.ezid.io');
    expect(o.token.algorithms).toEqual(['RS256']);
    expect(o.token.issuer).toEqual(['https://idp.example.com']);
    expect(o.token.maxTokenBytes).toBe(8192);
    expect(o.token.jwks).toEqual({
      cacheMaxAgeSec: 600,
      cooldownSec: 30,
      timeoutMs: 5000,
      staleIfErrorSec: 3000,
      prefetch: true,
    });
    expect(o.globalGuard).toBe(true);
    expect(o.http).toEqual({ timeoutMs: 10000, retries: 2, maxResponseBytes: 1048576 });
    expect(o.tenant).toEqual({
      param: 'tenantId',
      header: 'x-tenant-id',
      resolve: undefined,
      singleTenantFallback: false,
      resolveTimeoutMs: 5000,
    });
    expect(o.profile.source).toBe('token');
    expect(o.callback).toMatchObject({ path: '/auth/ezid', mode: 'json', redirectAllowList: ['/'] });
    expect(Object.isFrozen(o.token)).toBe(true);
  });

  it('accepts a static PEM public key instead of a JWKS URI', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----';
    const o = resolveEzidOptions({ ...valid(), token: { publicKey: pem, issuer: 'https://ezid.io' } });
    expect(o.token.publicKey).toBe(pem);
  });

  it('allows plain http only for loopback hosts (so the emulator works)', () => {
    for (const host of ['127.0.0.1:4000', 'localhost:4000', '[::1]:4000', '127.8.9.10']) {
      expect(() =>
        resolveEzidOptions({ ...valid(), token: { jwksUri: `http://${host}/jwks`, issuer: 'x' } }),
      ).not.toThrow();
    }
  });

  /** Every URL option, with a setter that places a value in an otherwise valid configuration. */
  const URL_OPTIONS: [string, (url: string) => EzidModuleOptions][] = [
    ['apiBaseUrl', (url) => ({ ...valid(), apiBaseUrl: url })],
    ['legacyApiBaseUrl', (url) => ({ ...valid(), legacyApiBaseUrl: url })],
    ['token.jwksUri', (url) => ({ ...valid(), token: { jwksUri: url, issuer: 'x' } })],
    ['callback.publicUrl', (url) => ({ ...valid(), callback: { publicUrl: url } })],
  ];

  describe.each(URL_OPTIONS)('%s', (path, withUrl) => {
    it.each([
      'http://app.localhost:4000/x',
      'http://evil.localhost/x',
      'http://localhost.evil.example/x',
      'http://localhost./x',
      'http://127.0.0.1.nip.io/x',
      'http://[::ffff:127.0.0.1]/x',
    ])('refuses plain http to %s (only literal loopback IPs and exactly localhost)', (url) => {
      expect(paths(failWith(withUrl(url)))).toContain(path);
    });

    it.each(['http://localhost:4000', 'http://127.0.0.1:4000', 'http://127.9.8.7', 'http://[::1]:4000'])(
      'allows plain http to %s',
      (url) => {
        expect(() => resolveEzidOptions(withUrl(url))).not.toThrow();
      },
    );

    it.each([
      'http://admin:pa55w0rd@api.example.com/x?key=SK_LIVE_abcdef&v=2#SK_LIVE_frag',
      'https://admin:pa55w0rd@api.example.com?SK_LIVE_abcdef',
      'https:admin:pa55w0rd@api.example.com/x?token=SK_LIVE_abcdef',
      'ftp://admin:pa55w0rd@[bad/x?token=SK_LIVE_abcdef',
    ])('never echoes userinfo or query values of the rejected %s', (url) => {
      const e = failWith(withUrl(url));
      expect(paths(e)).toContain(path);
      for (const shown of [e.message, JSON.stringify(e.issues), String(e.stack)]) {
        expect(shown).not.toContain('pa55w0rd');
        expect(shown).not.toContain('admin');
        expect(shown).not.toContain('SK_LIVE');
      }
      expect(e.message).toContain('***');
    });
  });

  it('never echoes URL credentials inside a rejected list (token.issuer)', () => {
    const e = failWith({
      ...valid(),
      token: { jwksUri: 'https://a.example/jwks', issuer: ['https://u:pa55w0rd@i.example?k=SK_LIVE_x', 5] },
    } as unknown as EzidModuleOptions);
    expect(paths(e)).toContain('token.issuer');
    expect(e.message).not.toMatch(/pa55w0rd|SK_LIVE/);
  });

  it('checks a PEM public key in linear time (many BEGIN lines, no END)', () => {
    const publicKey = '-----BEGIN PUBLIC KEY-----\n'.repeat(40_000);
    let failed: readonly string[] = [];
    const cost = callCostMs(
      () => (failed = paths(failWith({ ...valid(), token: { publicKey, issuer: 'x' } }))),
      500,
    );
    expect(failed).toContain('token.publicKey');
    expect(cost).toBeLessThan(500);
  });

  it('rejects a missing clientId', () => {
    const { clientId: _omit, ...rest } = valid();
    expect(paths(failWith(rest))).toContain('clientId');
    expect(paths(failWith({ ...valid(), clientId: '' }))).toContain('clientId');
    const problems = (o: unknown) => failWith(o).issues.map((i) => i.problem);
    // Each problem reads as a sentence after its path: never "must should …" or "must must …".
    expect(problems({ ...valid(), clientId: '' })).toEqual([expect.stringMatching(/^must not be empty\b/)]);
    expect(problems({ ...valid(), clientId: 42 })).toEqual([expect.stringMatching(/^must be a string/)]);
    for (const p of [...problems({ ...valid(), clientId: '' }), ...problems({ ...valid(), clientId: 42 })]) {
      expect(p).not.toMatch(/must (should|must)|clientId/);
    }
  });

  it('rejects a configuration with neither token.jwksUri nor token.publicKey', () => {
    const e = failWith({ ...valid(), token: { issuer: 'https://idp.example.com' } });
    expect(paths(e)).toContain('token');
    expect(e.message).toMatch(/token\.jwksUri or token\.publicKey is required/);
  });

  it.each([
    'http://idp.example.com/jwks',
    'http://10.0.0.5/jwks',
    'ftp://idp.example.com/jwks',
    'not a url',
    'https://user:pass@idp.example.com/jwks',
  ])('rejects the non-https jwksUri %s', (jwksUri) => {
    expect(paths(failWith({ ...valid(), token: { jwksUri, issuer: 'x' } }))).toContain('token.jwksUri');
  });

  it('rejects a non-https apiBaseUrl', () => {
    expect(paths(failWith({ ...valid(), apiBaseUrl: 'http://api.ezid.io' }))).toContain('apiBaseUrl');
  });

  it('rejects a missing or empty token.issuer', () => {
    expect(paths(failWith({ ...valid(), token: { jwksUri: 'https://a.example/jwks' } }))).toContain(
      'token.issuer',
    );
    expect(
      paths(failWith({ ...valid(), token: { jwksUri: 'https://a.example/jwks', issuer: [] } })),
    ).toContain('token.issuer');
  });

  it.each([['none'], ['HS256'], ['HS512'], ['RS256', 'HS256'], ['None'], []])(
    'rejects algorithms %j',
    (...algorithms) => {
      const e = failWith({ ...valid(), token: { ...valid().token, algorithms } });
      expect(paths(e)).toContain('token.algorithms');
    },
  );

  it.each([
    ['http.timeoutMs', { http: { timeoutMs: 0 } }],
    ['http.timeoutMs', { http: { timeoutMs: -5 } }],
    ['http.timeoutMs', { http: { timeoutMs: 1.5 } }],
    ['http.retries', { http: { retries: -1 } }],
  ])('rejects a bad %s', (path, patch) => {
    expect(paths(failWith({ ...valid(), ...patch }))).toContain(path);
  });

  it.each([
    ['token.jwks.timeoutMs', 0],
    ['token.jwks.timeoutMs', -1],
  ])('rejects a bad %s (%d)', (path, timeoutMs) => {
    expect(paths(failWith({ ...valid(), token: { ...valid().token, jwks: { timeoutMs } } }))).toContain(path);
  });

  describe('callback.errorRedirect', () => {
    const cb = (callback: Record<string, unknown>) => ({ ...valid(), callback }) as EzidModuleOptions;
    const resolved = (callback: Record<string, unknown>) => {
      const c = resolveEzidOptions(cb(callback)).callback;
      return c ? c.errorRedirect : 'no callback';
    };

    it('defaults to the first allow-list entry (the default post-login path); false and listed paths are kept', () => {
      expect(resolved({ mode: 'cookie' })).toBe('/');
      expect(resolved({ mode: 'cookie', redirectAllowList: ['/app/', '/'] })).toBe('/app/');
      expect(resolved({ mode: 'cookie', errorRedirect: false })).toBe(false);
      expect(resolved({ mode: 'cookie', redirectAllowList: ['/', '/login'], errorRedirect: '/login' })).toBe(
        '/login',
      );
      expect(
        resolved({ mode: 'cookie', redirectAllowList: ['/', '/app/'], errorRedirect: '/app/signin' }),
      ).toBe('/app/signin');
    });

    it.each([
      '//evil.example',
      '//evil.example/',
      'https://evil.example/',
      'http://127.0.0.1:3000/',
      '/\\evil.example',
      '\\/evil.example',
      'javascript:alert(1)',
      'data:text/html,x',
      '/%2F%2Fevil.example',
      '/?next=https://evil.example',
      '/#x',
      '/login',
      '/a//b',
      '/\r\nLocation: https://evil.example',
      'evil.example',
      '',
      ' /',
      true,
      0,
      ['/'],
    ])('rejects the hostile or off-list value %j at boot', (errorRedirect) => {
      const e = failWith(cb({ mode: 'cookie', errorRedirect }));
      expect(paths(e)).toContain('callback.errorRedirect');
      expect(e.message).toMatch(
        /callback\.errorRedirect.*must be false or a same-origin path on callback\.redirectAllowList/,
      );
    });

    it('an absolute URL is refused even on the own publicUrl origin (a path only)', () => {
      const e = failWith(
        cb({ mode: 'cookie', publicUrl: 'https://app.example', errorRedirect: 'https://app.example/' }),
      );
      expect(paths(e)).toContain('callback.errorRedirect');
    });
  });

  it('token.jwks.prefetch is a boolean (default true)', () => {
    const jwks = (prefetch: unknown) => ({ ...valid(), token: { ...valid().token, jwks: { prefetch } } });
    expect(resolveEzidOptions(jwks(false) as EzidModuleOptions).token.jwks.prefetch).toBe(false);
    for (const bad of ['false', 0, 1]) {
      expect(paths(failWith(jwks(bad) as EzidModuleOptions))).toContain('token.jwks.prefetch');
    }
  });

  it('tenant.resolveTimeoutMs is 5000 ms by default, a positive integer of at most 60000 when set', () => {
    expect(
      resolveEzidOptions({ ...valid(), tenant: { resolveTimeoutMs: 250 } }).tenant.resolveTimeoutMs,
    ).toBe(250);
    for (const bad of [0, -1, 1.5, 60_001, '100' as unknown as number]) {
      expect(paths(failWith({ ...valid(), tenant: { resolveTimeoutMs: bad } }))).toContain(
        'tenant.resolveTimeoutMs',
      );
    }
  });

  it('tenant.singleTenantFallback is off by default, a boolean when set', () => {
    expect(
      resolveEzidOptions({ ...valid(), tenant: { singleTenantFallback: true } }).tenant.singleTenantFallback,
    ).toBe(true);
    const bad = { ...valid(), tenant: { singleTenantFallback: 'yes' as unknown as boolean } };
    expect(paths(failWith(bad))).toContain('tenant.singleTenantFallback');
  });

  it('rejects unknown option keys at every level (a typo must not be ignored)', () => {
    const { clientId, ...rest } = valid();
    const e = failWith({ ...rest, cliendId: clientId });
    expect(paths(e)).toEqual(expect.arrayContaining(['clientId', 'cliendId']));
    expect(e.message).toMatch(/cliendId: unknown option/);
    expect(paths(failWith({ ...valid(), token: { ...valid().token, audiance: 'x' } }))).toContain(
      'token.audiance',
    );
    expect(paths(failWith({ ...valid(), http: { timeout: 5 } }))).toContain('http.timeout');
    expect(paths(failWith({ ...valid(), callback: { mode: 'cookie', redirectAllowlist: ['/'] } }))).toContain(
      'callback.redirectAllowlist',
    );
  });

  it('lists every invalid field in one error, says what to do, and never shows secret values', () => {
    const e = failWith({
      clientSecret: SECRET,
      apiKey: 'api-key-secret-456',
      apiBaseUrl: 'http://evil.example',
      token: { jwksUri: 'http://idp.example.com/jwks', algorithms: ['HS256'], publicKey: SECRET },
      http: { timeoutMs: -1 },
      cliendId: 'x',
    });
    expect(paths(e)).toEqual(
      expect.arrayContaining([
        'clientId',
        'cliendId',
        'apiBaseUrl',
        'token.jwksUri',
        'token.issuer',
        'token.algorithms',
        'token.publicKey',
        'http.timeoutMs',
      ]),
    );
    expect(e.message).toMatch(/Potential solutions/);
    expect(e.message).toContain('[redacted]');
    for (const text of [e.message, String(e), JSON.stringify(e), JSON.stringify(e.issues)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('api-key-secret-456');
    }
  });

  it('rejects a non-object configuration', () => {
    expect(() => resolveEzidOptions(undefined)).toThrow(EzidConfigurationError);
  });

  it('validates endpoint overrides', () => {
    expect(() =>
      resolveEzidOptions({ ...valid(), endpoints: { 'users.list': { path: '/api/v2/users' } } }),
    ).not.toThrow();
    expect(paths(failWith({ ...valid(), endpoints: { 'users.list': { method: 'FETCH' } } }))).toContain(
      'endpoints.users.list.method',
    );
    expect(paths(failWith({ ...valid(), endpoints: { 'users.list': { url: '/x' } } }))).toContain(
      'endpoints.users.list',
    );
  });

  it('treats __proto__ and other prototype keys as unknown options, not as configuration', () => {
    const raw = JSON.parse(
      '{"clientId":"c","token":{"jwksUri":"https://a.example/j","issuer":"i"},"__proto__":{"globalGuard":false}}',
    );
    const e = failWith(raw);
    expect(paths(e)).toContain('__proto__');
  });
});

describe('callback refresh and logout options', () => {
  const cb = (callback: unknown) => ({ ...valid(), callback }) as EzidModuleOptions;

  it('defaults: refresh and logout limited to 60 per 60 s per IP; rotation records live 30 days, at most 100 000', () => {
    const o = resolveEzidOptions(cb({}));
    expect(o.callback && o.callback.sessionRateLimit).toEqual({ limit: 60, ttlSec: 60 });
    expect(o.callback && o.callback.refresh).toMatchObject({
      rotationTtlSec: 30 * 24 * 3600,
      rotationMaxEntries: 100_000,
      reuseGraceSec: 10,
    });
  });

  it('reuseGraceSec: 0 (off) to 60', () => {
    const o = resolveEzidOptions(cb({ refresh: { reuseGraceSec: 0 } }));
    expect(o.callback && o.callback.refresh.reuseGraceSec).toBe(0);
    expect(paths(failWith(cb({ refresh: { reuseGraceSec: 61 } })))).toContain(
      'callback.refresh.reuseGraceSec',
    );
    expect(paths(failWith(cb({ refresh: { reuseGraceSec: -1 } })))).toContain(
      'callback.refresh.reuseGraceSec',
    );
  });

  it('rejects a bad sessionRateLimit', () => {
    expect(paths(failWith(cb({ sessionRateLimit: { limit: 0, ttl: 5 } })))).toEqual(
      expect.arrayContaining(['callback.sessionRateLimit.limit', 'callback.sessionRateLimit.ttl']),
    );
  });

  it('rejects non-positive or non-integer values and unknown keys', () => {
    const e = failWith(cb({ refresh: { rotationTtlSec: 0, rotationMaxEntries: 1.5, rotationTTL: 5 } }));
    expect(paths(e)).toEqual(
      expect.arrayContaining([
        'callback.refresh.rotationTtlSec',
        'callback.refresh.rotationMaxEntries',
        'callback.refresh.rotationTTL',
      ]),
    );
  });
});

describe('context and health options', () => {
  it('defaults: the request context off, the API reachability check off (30 s interval, 2000 ms deadline)', () => {
    const o = resolveEzidOptions(valid());
    expect(o.context).toBe(false);
    expect(o.health).toEqual({ api: false, apiIntervalSec: 30, apiTimeoutMs: 2000 });
    const on = resolveEzidOptions({
      ...valid(),
      context: true,
      health: { api: true, apiIntervalSec: 5, apiTimeoutMs: 500 },
    });
    expect(on.context).toBe(true);
    expect(on.health).toEqual({ api: true, apiIntervalSec: 5, apiTimeoutMs: 500 });
  });

  it('rejects a non-boolean context, out-of-range health values and unknown health keys', () => {
    const e = failWith({
      ...valid(),
      context: 'yes',
      health: { api: 1, apiIntervalSec: 0, apiTimeoutMs: 50_000, apiUrl: 'https://x' },
    });
    expect(paths(e)).toEqual(
      expect.arrayContaining([
        'context',
        'health.api',
        'health.apiIntervalSec',
        'health.apiTimeoutMs',
        'health.apiUrl',
      ]),
    );
    expect(paths(failWith({ ...valid(), health: 'on' }))).toContain('health');
  });
});
