import * as fc from 'fast-check';
import { EzidTokenError } from './ezid-token.errors';
import { resolveEzidOptions } from '../ezid-options.validation';
import { EzidEmulator } from '../testing';
import { EzidTokenVerifier } from './ezid-token-verifier';
import { StaticKeySource } from './jwks-key-source';
import { parseAuthorizationHeader } from './token-extractor';

/** The header rule as one regular expression (the definition the fast path must match exactly). */
function reference(value: string): string | EzidTokenError {
  const m = /^bearer +([^\s,]+)$/i.exec(value);
  return m ? m[1] : new EzidTokenError('token_malformed', 'header_not_bearer');
}

function actual(value: string, known?: (t: string) => boolean): string | EzidTokenError {
  try {
    return parseAuthorizationHeader(value, known) as string;
  } catch (e) {
    return e as EzidTokenError;
  }
}

describe('parseAuthorizationHeader', () => {
  it('answers exactly like /^bearer +([^\\s,]+)$/i for any header value', () => {
    const chars = fc.constantFrom(
      ...'ABCXYZabcxyz0189-._~+/=, \t\n\u00a0\u2028é'.split(''),
      'Bearer ',
      'bearer ',
      'BEARER  ',
      '.',
    );
    const header = fc.oneof(
      fc.string(),
      fc.array(chars, { maxLength: 40 }).map((a) => a.join('')),
      fc.array(chars, { maxLength: 40 }).map((a) => `Bearer ${a.join('')}`),
      fc.stringMatching(/^[A-Za-z0-9\-._~+/]+=*$/).map((t) => `Bearer ${t}`),
    );
    fc.assert(
      fc.property(header, (value) => {
        const want = reference(value);
        const got = actual(value);
        if (typeof want === 'string') expect(got).toBe(want);
        else expect(got).toMatchObject({ code: want.code, reason: want.reason });
      }),
      { numRuns: 3000 },
    );
  });

  it('answers the same when the verifier vouches for the tokens it has cached (no scan for those)', async () => {
    const emu = await EzidEmulator.start({ clientId: 'cli_hdr', clientSecret: 's' });
    try {
      const verifier = new EzidTokenVerifier(
        resolveEzidOptions({
          clientId: 'cli_hdr',
          token: { publicKey: emu.publicKeyPem, issuer: emu.issuer },
        }),
        new StaticKeySource(emu.publicKeyPem),
      );
      const tokens = [emu.mintAccessToken(), emu.mintAccessToken('alice@example.com')];
      for (const t of tokens) for (let i = 0; i < 2; i++) await verifier.verifyToken(t); // cached on the 2nd
      const known = (t: string) => verifier.isCachedToken(t);
      expect(tokens.every(known)).toBe(true);
      const junk = fc.constantFrom(...' ,\t=.+/~é\u00a0'.split(''), '', 'x', ' x', ', Bearer y');
      const header = fc.record({
        token: fc.constantFrom(...tokens),
        scheme: fc.constantFrom('Bearer ', 'bearer ', 'Bearer  ', 'Basic ', '', 'Bearer'),
        before: junk,
        after: junk,
        flip: fc.option(fc.nat(), { nil: undefined }),
      });
      fc.assert(
        fc.property(header, ({ token, scheme, before, after, flip }) => {
          let t = token;
          if (flip !== undefined) {
            const at = flip % t.length;
            t = `${t.slice(0, at)}${t[at] === 'A' ? 'B' : 'A'}${t.slice(at + 1)}`;
          }
          const value = `${scheme}${before}${t}${after}`;
          const want = reference(value);
          const got = actual(value, known);
          if (typeof want === 'string') expect(got).toBe(want);
          else expect(got).toMatchObject({ code: want.code, reason: want.reason });
        }),
        { numRuns: 2000 },
      );
    } finally {
      await emu.stop();
    }
  });

  it('absent is undefined, a non-string is malformed', () => {
    expect(parseAuthorizationHeader(undefined)).toBeUndefined();
    expect(() => parseAuthorizationHeader(['Bearer a', 'Bearer b'])).toThrow(EzidTokenError);
  });
});
