// Fuzz suite (issue 13): random and mutated tokens, Authorization headers, cookies, tenant ids, redirect
// targets and callback DTO bodies against a real Nest app (Express and Fastify) verifying the emulator's
// RS256 tokens. Properties: never a 5xx, fast (median per request well under 50 ms), and never a 200 that
// a small model of the rule denies. Fixed seed and bounded runs: deterministic and quick.
import * as fc from 'fast-check';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import {
  b64urlString,
  CLIENT_ID,
  CLIENT_SECRET,
  FuzzApp,
  headerChar,
  headerString,
  median,
  PLATFORMS,
  SEED,
  startFuzzApp,
} from './fuzz-app';

const T1 = EMULATOR_IDS.tenant1; // the demo user is Admin here
const T2 = EMULATOR_IDS.tenant2; // and only Member here
const USER = EMULATOR_IDS.demoUser;
const RUNS = { seed: SEED, numRuns: 60 };
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

type Mutation =
  | { kind: 'replace'; at: number; ch: string }
  | { kind: 'insert'; at: number; ch: string }
  | { kind: 'delete'; at: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'lowBits'; bits: number }
  | { kind: 'swap'; a: number; b: number };

const tokenChar = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
  },
  { weight: 1, arbitrary: fc.constantFrom('.', '=', '+', '/', ' ', '%', '*', '~', '\u00e9') },
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), ch: tokenChar }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), ch: tokenChar }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant('lowBits' as const), bits: fc.integer({ min: 1, max: 15 }) }),
  fc.record({
    kind: fc.constant('swap' as const),
    a: fc.integer({ min: 0, max: 2 }),
    b: fc.integer({ min: 0, max: 2 }),
  }),
);
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function mutate(token: string, m: Mutation): string {
  const at = (n: number) => n % Math.max(token.length, 1);
  switch (m.kind) {
    case 'replace':
      return token.slice(0, at(m.at)) + m.ch + token.slice(at(m.at) + 1);
    case 'insert':
      return token.slice(0, at(m.at)) + m.ch + token.slice(at(m.at));
    case 'delete':
      return token.slice(0, at(m.at)) + token.slice(at(m.at) + 1);
    case 'truncate':
      return token.slice(0, at(m.at));
    case 'flip': {
      const i = at(m.at);
      const v = B64.indexOf(token[i]);
      return v < 0 ? token : token.slice(0, i) + B64[v ^ (1 << m.bit)] + token.slice(i + 1);
    }
    case 'lowBits': {
      // Checklist A7: the unused low bits of the last signature character (4 of them for a 256-byte
      // RS256 signature) do not change the decoded bytes.
      const v = B64.indexOf(token[token.length - 1]);
      return v < 0 ? token : token.slice(0, -1) + B64[(v & ~0x0f) | (m.bits & 0x0f)];
    }
    case 'swap': {
      const parts = token.split('.');
      if (parts.length !== 3) return token;
      [parts[m.a], parts[m.b]] = [parts[m.b], parts[m.a]];
      return parts.join('.');
    }
  }
}

/**
 * The model: a request may authenticate only with a token whose header and payload segments are the
 * valid token's, and whose signature segment is base64url decoding to the same bytes (A7: such a
 * string verifies cryptographically; the module is stricter and refuses it as non-canonical, A6).
 */
function modelAccepts(candidate: string, valid: string): boolean {
  const c = candidate.split('.');
  const v = valid.split('.');
  if (c.length !== 3) return false;
  return (
    c[0] === v[0] &&
    c[1] === v[1] &&
    /^[A-Za-z0-9_-]+$/.test(c[2]) &&
    Buffer.from(c[2], 'base64url').equals(Buffer.from(v[2], 'base64url'))
  );
}

describe.each(PLATFORMS)('fuzz (%s)', (platform) => {
  let emu: EzidEmulator;
  let fz: FuzzApp;
  let valid: string;

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    fz = await startFuzzApp(platform, emu);
    valid = emu.mintAccessToken(USER);
    // Warm-up (JWKS fetch, first RSA verification, JIT) is not what the time bound is about.
    expect((await fz.send('GET', '/fz/me', { authorization: `Bearer ${valid}` })).status).toBe(200);
    fz.durations.length = 0;
  });
  afterAll(async () => {
    await fz?.close();
    await emu?.stop();
  });

  const noServerError = (status: number, what: string) => {
    if (status >= 500) throw new Error(`${status} for ${what}`);
  };

  it('the valid token authenticates (the model has a true positive)', async () => {
    expect((await fz.send('GET', '/fz/me', { authorization: `Bearer ${valid}` })).status).toBe(200);
  });

  it('a signature whose unused low bits are flipped decodes to the same bytes, and is still refused (A6 over A7)', async () => {
    const flipped = mutate(valid, { kind: 'lowBits', bits: 1 });
    expect(flipped).not.toBe(valid);
    expect(modelAccepts(flipped, valid)).toBe(true);
    expect((await fz.send('GET', '/fz/me', { authorization: `Bearer ${flipped}` })).status).toBe(401);
  });

  it('mutated tokens: never a 5xx, and never authenticated unless the model accepts them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (ms) => {
        const t = ms.reduce(mutate, valid);
        if (!/^[\x20-\x7e\u0080-\u00ff]*$/.test(t)) return; // not expressible in a header
        const { status } = await fz.send('GET', '/fz/me', { authorization: `Bearer ${t}` });
        noServerError(status, t);
        if (status === 200 && !modelAccepts(t, valid)) throw new Error(`accepted a mutated token: ${t}`);
        if (status !== 200 && t === valid) throw new Error('refused the valid token');
      }),
      RUNS,
    );
  });

  it('forged tokens (random segments, odd or huge headers, the valid payload re-signed by nobody): 401, never 5xx', async () => {
    const [, payload, signature] = valid.split('.');
    const header = fc.oneof(
      b64urlString(1, 200),
      fc
        .record({
          alg: fc.constantFrom('RS256', 'none', 'HS256', 'rs256', 'PS256', 'ES256', ''),
          kid: fc.oneof(fc.constant(emu.currentKid), fc.string({ maxLength: 300 }), fc.constant(undefined)),
          typ: fc.option(fc.constantFrom('JWT', 'at+jwt', 'JWE')),
          crit: fc.option(fc.array(fc.string(), { maxLength: 2 })),
          jku: fc.option(fc.webUrl()),
          pad: fc.option(fc.string({ maxLength: 10_000 })),
        })
        .map((h) => b64(h)),
      fc.jsonValue().map((v) => b64(v)),
    );
    await fc.assert(
      fc.asyncProperty(
        header,
        fc.oneof(
          fc.constant(payload),
          b64urlString(1, 400),
          fc.jsonValue().map((v) => b64(v)),
        ),
        fc.oneof(fc.constant(signature), b64urlString(0, 400), fc.constant('')),
        async (h, p, s) => {
          const t = `${h}.${p}.${s}`;
          const { status } = await fz.send('GET', '/fz/me', { authorization: `Bearer ${t}` });
          noServerError(status, t);
          if (status === 200 && !modelAccepts(t, valid)) throw new Error(`accepted a forged token: ${t}`);
        },
      ),
      RUNS,
    );
  });

  it('Authorization headers of any shape: never a 5xx; 200 only with exactly one valid token', async () => {
    const value = fc.oneof(
      headerString(200),
      fc
        .tuple(
          fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Bearer,', 'Token', ''),
          fc.constantFrom(' ', '  ', '\t', ''),
          fc.oneof(fc.constant(valid), headerString(50), fc.constant(`${valid},${valid}`)),
          fc.constantFrom('', ' ', ', Bearer x', ` ${valid}`),
        )
        .map((parts) => parts.join('')),
    );
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const { status } = await fz.send('GET', '/fz/me', { authorization: v });
        noServerError(status, v);
        // The model: RFC 6750 b64token after a case-insensitive "Bearer" and spaces, nothing after it.
        const m = /^bearer +(\S+)$/i.exec(v.replace(/^[ \t]+|[ \t]+$/g, ''));
        if (status === 200 && !(m && m[1] === valid)) throw new Error(`accepted Authorization: ${v}`);
      }),
      RUNS,
    );
  });

  it('cookies of any shape: never a 5xx; 200 only when a cookie carries a token the model accepts', async () => {
    const cookieValue = fc.oneof(
      fc.constant(valid),
      fc.array(mutation, { minLength: 1, maxLength: 2 }).map((ms) => ms.reduce(mutate, valid)),
      headerString(100),
    );
    const cookie = fc
      .tuple(
        fc.constantFrom('ezid_at', '__Host-ezid_at', 'ezid_rt', 'EZID_AT', 'ezid_at ', 'x'),
        fc.constantFrom('=', '==', ''),
        cookieValue,
        fc.constantFrom('', '; ezid_at=x', '; a=b', ';;', `; ezid_at=${valid}`),
      )
      .map((parts) => parts.join(''))
      .filter((c) => /^[\x20-\x7e\t\u0080-\u00ff]*$/.test(c));
    await fc.assert(
      fc.asyncProperty(cookie, async (c) => {
        const { status } = await fz.send('GET', '/fz/me', { cookie: c });
        noServerError(status, c);
        const carried = c.split(/[;=\s]+/).some((v) => modelAccepts(v, valid));
        if (status === 200 && !carried) throw new Error(`accepted cookie: ${c}`);
      }),
      RUNS,
    );
  });

  const tenantId = fc.oneof(
    fc.constantFrom(
      T1,
      T2,
      `${T1} `,
      ` ${T1}`,
      T1.toUpperCase(),
      `${T1}\u200b`,
      `${T1}/`,
      `../${T1}`,
      '..',
      '.',
    ),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ maxLength: 300 }),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'),
    fc.array(fc.constantFrom('..', '.', '%2e%2e', T1, '%2f', ''), { maxLength: 4 }).map((a) => a.join('/')),
    fc.nat().map((n) => T1.slice(0, n % (T1.length + 1)) + 'x'.repeat(n % 3)),
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          fc.constantFrom(T1, T2),
          fc.string({ unit: headerChar, maxLength: 2 }),
          fc.string({ unit: headerChar, minLength: 1, maxLength: 3 }),
        )
        .map(([t, before, after]) => before + t + after),
    },
  );

  it('tenant ids in the route param (unicode, very long, path-ish): never a 5xx; Admin route 200 only for the Admin tenant', async () => {
    const auth = { authorization: `Bearer ${valid}` };
    await fc.assert(
      fc.asyncProperty(tenantId, async (id) => {
        const { status, text } = await fz.send('GET', `/fz/t/${encodeURIComponent(id)}/admin`, auth);
        noServerError(status, id);
        if (status === 200 && (id !== T1 || JSON.parse(text).tenant !== T1)) {
          throw new Error(`Admin route allowed for tenant ${JSON.stringify(id)}: ${text}`);
        }
      }),
      RUNS,
    );
  });

  it('tenant ids in the header: never a 5xx; Admin route 200 only for the Admin tenant', async () => {
    const auth = { authorization: `Bearer ${valid}` };
    const headerTenant = fc.oneof(
      { weight: 4, arbitrary: tenantId.filter((s) => /^[\x20-\x7e\t\u0080-\u00ff]*$/.test(s)) },
      { weight: 1, arbitrary: fc.string({ unit: headerChar, maxLength: 2000 }) },
    );
    await fc.assert(
      fc.asyncProperty(headerTenant, async (id) => {
        const { status, text } = await fz.send('GET', '/fz/h/admin', { ...auth, 'x-tenant-id': id });
        noServerError(status, id);
        // HTTP strips leading and trailing spaces and tabs of a header value before the app sees it.
        if (status === 200 && (id.replace(/^[ \t]+|[ \t]+$/g, '') !== T1 || JSON.parse(text).tenant !== T1)) {
          throw new Error(`Admin route allowed for x-tenant-id ${JSON.stringify(id)}: ${text}`);
        }
      }),
      RUNS,
    );
  });

  const redirectTarget = fc.oneof(
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.string({ maxLength: 100 }),
    fc
      .tuple(
        fc.constantFrom(
          '/',
          '//',
          '/\\',
          '\\/',
          'https:',
          'http://127.0.0.1',
          'javascript:',
          '/app/',
          '/%2f',
          '',
        ),
        fc.constantFrom('', 'evil.example', '@evil.example', '..', '/app/x', '\t/evil', '%0d%0a'),
        fc.string({ maxLength: 20 }),
      )
      .map((p) => p.join('')),
  );

  let states = 0;
  it('redirect targets on the GET callback: never a 5xx; a redirect only to an allow-listed path of this origin', async () => {
    await fc.assert(
      fc.asyncProperty(redirectTarget, fc.boolean(), async (target, exchange) => {
        const state = `st${++states}`;
        const code = exchange ? emu.issueAuthCode(USER, state) : 'bogus-code';
        const q = new URLSearchParams({ code, state, callback_url: target });
        const { status, location } = await fz.send('GET', `/auth/ezid/callback?${q}`, {
          'sec-fetch-site': 'same-origin',
          origin: fz.url,
        });
        noServerError(status, target);
        if (location !== null) {
          const to = new URL(location, fz.url);
          if (to.origin !== fz.url) throw new Error(`redirect off origin: ${location} for ${target}`);
          if (!(to.pathname === '/' || to.pathname.startsWith('/app/'))) {
            throw new Error(`redirect off the allow-list: ${location} for ${target}`);
          }
        }
        if (exchange && status !== 303) throw new Error(`a valid code gave ${status} for ${target}`);
      }),
      { ...RUNS, numRuns: 50 },
    );
  });

  const ROUTES = [
    'callback',
    'refresh',
    'logout',
    'magic-link',
    'email-code',
    'email-code/verify',
    'sms',
    'sms/verify',
  ] as const;

  it('DTO bodies of the callback routes: never a 5xx, never a session without a credential EZiD issued', async () => {
    const fieldValue = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.constantFrom(
        'demo@example.com',
        '+14155550100',
        valid,
        'a'.repeat(5000),
        '/app/x',
        '//evil.example',
      ),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    );
    const dtoBody = fc.oneof(
      fc
        .dictionary(
          fc.constantFrom(
            'code',
            'state',
            'email',
            'phone',
            'redirectPath',
            'refreshToken',
            '__proto__',
            'constructor',
            'x',
          ),
          fieldValue,
          { maxKeys: 4 },
        )
        .map((o) => JSON.stringify(o)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        '',
        '{',
        '{"__proto__":{"admin":true}}',
        '[]',
        'null',
        '"x"',
        '{"email":"a@b.co"}'.repeat(3),
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        dtoBody,
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=utf-16',
        ),
        fc.constantFrom<Record<string, string>>(
          {},
          { 'sec-fetch-site': 'same-origin' },
          { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
          { origin: 'null' },
        ),
        async (route, body, contentType, site) => {
          const origin: Record<string, string> =
            site['sec-fetch-site'] === 'same-origin' ? { origin: fz.url } : {};
          const { status, text } = await fz.send(
            'POST',
            `/auth/ezid/${route}`,
            { 'content-type': contentType, ...site, ...origin },
            body,
          );
          noServerError(status, `${route} ${body}`);
          if (
            status === 200 &&
            /"(accessToken|user)"/.test(text) &&
            !['magic-link', 'email-code', 'sms'].includes(route)
          ) {
            throw new Error(`${route} signed in with ${body}: ${text}`);
          }
        },
      ),
      { ...RUNS, numRuns: 90 },
    );
  });

  it('every fuzzed request was fast: median under 50 ms (and none near a ReDoS-scale second)', () => {
    expect(fz.durations.length).toBeGreaterThan(400);
    expect(median(fz.durations)).toBeLessThan(50);
    expect(Math.max(...fz.durations)).toBeLessThan(2000);
  });
});
