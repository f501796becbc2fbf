import * as fc from 'fast-check';
import { EzidTokenError } from './ezid-token.errors';
import { parseAuthorizationHeader } from './token-extractor';

/** The header rule as one regular expression (the definition the fast path must match exactly). */
function reference(value: string): string | EzidTokenError {
  const m = /^bearer +([^\s,]+)$/i.exec(value);
  return m ? m[1] : new EzidTokenError('token_malformed', 'header_not_bearer');
}

function actual(value: string): string | EzidTokenError {
  try {
    return parseAuthorizationHeader(value) as string;
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

  it('absent is undefined, a non-string is malformed', () => {
    expect(parseAuthorizationHeader(undefined)).toBeUndefined();
    expect(() => parseAuthorizationHeader(['Bearer a', 'Bearer b'])).toThrow(EzidTokenError);
  });
});
