// Unit-level properties (issue 13): the redirect sanitizer never returns an off-origin or off-list target,
// and the compact-JWS parser accepts only the canonical three-segment form and fails only with its own error.
import * as fc from 'fast-check';
import { EzidTokenError } from '../../src/auth/ezid-token.errors';
import { hasDuplicateTopLevelKeys, parseCompactJws } from '../../src/auth/jws';
import { isAllowedRedirectPath, sanitizeRedirect } from '../../src/callback/redirect-sanitizer';
import { b64urlString, SEED } from './fuzz-app';

const RUNS = { seed: SEED, numRuns: 2000 };
const ORIGIN = 'https://app.example.com';
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

const TRICKY = [
  '/',
  '//',
  '\\',
  '/\\',
  '\\/',
  '@',
  ':',
  '%',
  '%2f',
  '%5c',
  '.',
  '..',
  '?',
  '#',
  '\t',
  '\n',
  '\r',
  ' ',
  '\u0000',
  '\u2028',
  '\u3002',
  '\uff0f',
  'https:',
  'http:',
  'javascript:',
  'data:',
  'app',
  'evil.example',
  'app.example.com',
  ORIGIN,
  'https://app.example.com@evil.example',
  'https://evil.example',
  '127.0.0.1',
];
const redirectValue = fc.oneof(
  fc.array(fc.constantFrom(...TRICKY), { maxLength: 8 }).map((a) => a.join('')),
  fc.webUrl({
    withQueryParameters: true,
    withFragments: true,
    validSchemes: ['http', 'https', 'ftp', 'javascript'],
  }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ maxLength: 3000 }),
  fc.anything(),
);
const allowList = fc.oneof(
  fc.constant(['/']),
  fc.constant(['/app/', '/done']),
  fc.array(
    fc
      .array(fc.constantFrom('app', 'a', '..', '.', 'x y', ''), { maxLength: 3 })
      .map((a) => `/${a.join('/')}`),
    { minLength: 1, maxLength: 3 },
  ),
);

describe('sanitizeRedirect (property)', () => {
  it('returns a same-origin, allow-listed path or the fallback, whatever the input', () => {
    fc.assert(
      fc.property(redirectValue, allowList, fc.boolean(), (value, list, withOrigin) => {
        const policy = { origin: withOrigin ? ORIGIN : undefined, allowList: list };
        const out = sanitizeRedirect(value, policy);
        const fallback = list[0];
        if (out === fallback) return;
        expect(isAllowedRedirectPath(out, list)).toBe(true);
        expect(out.startsWith('/')).toBe(true);
        expect(out.startsWith('//')).toBe(false);
        // eslint-disable-next-line no-control-regex -- control characters are what must never come back
        expect(out).not.toMatch(/[\\%\s\u0000-\u001f\u007f-\u009f]/);
        expect(new URL(out, ORIGIN).origin).toBe(ORIGIN);
        expect(new URL(out, ORIGIN).pathname).toBe(out);
      }),
      RUNS,
    );
  });

  it('keeps an allowed path of its own origin (the sanitizer is not a constant)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]{1,12}$/), fc.boolean(), (seg, absolute) => {
        const value = `${absolute ? ORIGIN : ''}/app/${seg}?q=1#f`;
        expect(sanitizeRedirect(value, { origin: ORIGIN, allowList: ['/app/'] })).toBe(`/app/${seg}`);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});

describe('parseCompactJws (property)', () => {
  const tokenString = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.array(b64urlString(0, 60), { minLength: 1, maxLength: 5 }).map((a) => a.join('.')),
    fc
      .tuple(fc.jsonValue(), fc.jsonValue(), b64urlString(0, 60))
      .map(([h, p, s]) => `${b64(h)}.${b64(p)}.${s}`),
    fc
      .tuple(
        fc.dictionary(fc.constantFrom('alg', 'kid', 'typ', 'crit', 'x'), fc.jsonValue()),
        b64urlString(1, 40),
      )
      .map(([h, s]) => `${b64(h)}.${b64({ sub: 'u' })}.${s}`),
    fc
      .tuple(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue(), { maxKeys: 3 }), b64urlString(1, 40))
      .map(([p, s]) => `${b64({ alg: 'RS256', kid: 'k1' })}.${b64(p)}.${s}`),
    fc.constantFrom(
      'a.b.c',
      '..',
      'e30.e30.',
      'e30.e30.AA',
      `${b64('{"alg":"RS256","alg":"none"}')}.e30.AA`,
      `${b64({ alg: 'RS256' })}=.e30.AA`,
    ),
  );

  it('throws only EzidTokenError, and what it accepts is three canonical base64url segments of JSON objects', () => {
    let accepted = 0;
    fc.assert(
      fc.property(tokenString, (token) => {
        let parsed;
        try {
          parsed = parseCompactJws(token, 8192);
        } catch (e) {
          expect(e).toBeInstanceOf(EzidTokenError);
          return;
        }
        const segs = token.split('.');
        expect(segs).toHaveLength(3);
        for (const s of segs) {
          expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
          expect(Buffer.from(s, 'base64url').toString('base64url')).toBe(s); // canonical: round-trips
        }
        const headerText = Buffer.from(segs[0], 'base64url').toString('utf8');
        expect(hasDuplicateTopLevelKeys(headerText)).toBe(false);
        expect(parsed.header).toEqual(expect.objectContaining({ alg: expect.any(String) }));
        expect(parsed.payload).toEqual(JSON.parse(Buffer.from(segs[1], 'base64url').toString('utf8')));
        expect(parsed.signingInput).toBe(`${segs[0]}.${segs[1]}`);
        expect(parsed.signature.equals(Buffer.from(segs[2], 'base64url'))).toBe(true);
        accepted++;
      }),
      { seed: SEED, numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(50); // the positive branch is exercised
  });

  it('refuses anything longer than the byte cap before decoding', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), (cap) => {
        const token = `${b64({ alg: 'RS256' })}.${b64({ pad: 'x'.repeat(cap) })}.AAAA`;
        expect(() => parseCompactJws(token, cap)).toThrow(expect.objectContaining({ reason: 'too_long' }));
      }),
      { seed: SEED, numRuns: 50 },
    );
  });
});
