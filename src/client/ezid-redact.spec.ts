import { redactProviderText } from './ezid-redact';
import { callCostMs } from '../../test/support/cost';

const MIB = 1024 * 1024;
/** CPU budget for one pass over 1 MiB: far above a linear pass (a few ms), far below a quadratic one (minutes). */
// A linearity guard, not a speed claim: the client cuts a body to its output length before redacting,
// so 1 MiB never reaches redaction in use. A quadratic pass over 1 MiB takes minutes; a linear one
// takes ~0.1-0.3 s alone and stays under this budget with the whole suite running on two cores.
const CPU_BUDGET_MS = 2000;

/** Repeats `unit` to exactly `size` characters. */
const fill = (unit: string, size = MIB): string => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

const cpuMs = (fn: () => void): number => callCostMs(fn, CPU_BUDGET_MS);

/** Adversarial shapes for each pattern and for the secret split. */
const HOSTILE: Record<string, string> = {
  'JWT prefix without a dot (eyJeyJ…)': fill('eyJ'),
  'JWT prefix then one long run': 'eyJ' + fill('a', MIB - 3),
  'JWT prefixes with dots': fill('eyJ.'),
  'runs of 19 token characters': fill('aaaaaaaaaaaaaaaaaaa '),
  'one long token run': fill('aB3'),
  'runs of 20 characters without a digit or mixed case': fill('aaaaaaaaaaaaaaaaaaaa '),
  'a long digit run': fill('1'),
  'digit groups': fill('1234 '),
  'near-misses of a secret': fill('sec_abcdefg'),
  'upper-cased near-misses of a secret': fill('SEC_ABCDEFG'),
  'percent-encoded near-misses of a secret': fill('sec%5Fabcdefg'),
  'percent escapes': fill('%41'),
  'stray percent signs': fill('%4%'),
  'non-ASCII characters': fill('ä€😀'),
};

describe('redactProviderText', () => {
  describe.each(Object.entries(HOSTILE))('on 1 MiB of %s', (_shape, text) => {
    it(`runs every pattern over the whole text in under ${CPU_BUDGET_MS} ms of CPU`, () => {
      let out = '';
      const ms = cpuMs(() => (out = redactProviderText(text, ['sec_abcdefgh'], text.length)));
      expect(out.length).toBeGreaterThan(0);
      expect(ms).toBeLessThan(CPU_BUDGET_MS);
    });

    it('truncates before redacting: the work is bounded by the output length, not the input', () => {
      // 64 MiB in, 200 out: redacting the whole input would take seconds; cut first, it takes well
      // under a millisecond. The budget leaves room for a GC pause on a loaded machine.
      const huge = text.repeat(64);
      let out = '';
      const ms = cpuMs(() => (out = redactProviderText(huge, ['sec_abcdefgh'], 200)));
      expect(out.length).toBeLessThanOrEqual(200);
      expect(ms).toBeLessThan(CPU_BUDGET_MS);
    });
  });

  it('redacts request values, JWTs, long random runs and short codes', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln';
    const out = redactProviderText(
      `bad ${jwt} for alice@example.com, token AbCdEfGhIjKlMnOpQrStUv, code 918273, reason access_token_required`,
      ['alice@example.com'],
      500,
    );
    expect(out).toBe(
      'bad [redacted] for [redacted], token [redacted], code [redacted], reason access_token_required',
    );
  });

  it('keeps `eyJ` runs without a dot unless they look random', () => {
    expect(redactProviderText('eyJabc', [], 200)).toBe('eyJabc');
  });

  it('redacts the fragment of a secret that the cut split in two', () => {
    const secret = 'sk_live_9f8e7d6c5b4a';
    const text = `${'x '.repeat(92)}v=${secret} more`;
    const out = redactProviderText(text, [secret], 200);
    expect(out).not.toContain(secret.slice(0, 4));
    expect(out.endsWith('v=[redacted]')).toBe(true);
  });

  it('redacts a secret longer than the cut', () => {
    const secret = 'Name With Spaces '.repeat(20);
    const out = redactProviderText(`unknown user ${secret}`, [secret], 200);
    expect(out).toBe('unknown user [redacted]');
  });

  describe('request values echoed in another case or encoding', () => {
    const SECRET = 'S3cr3t-Phrase';
    const EMAIL = 'John.Doe+Tag@Example.com';

    it.each([
      ['lower-cased', `bad client secret ${SECRET.toLowerCase()}`],
      ['upper-cased', `bad client secret ${SECRET.toUpperCase()}`],
      [
        'percent-encoded, every byte',
        `bad client secret ${[...Buffer.from(SECRET)].map((b) => `%${b.toString(16)}`).join('')}`,
      ],
      [
        'percent-encoded, upper-case hex',
        `bad client secret ${[...Buffer.from(SECRET)].map((b) => `%${b.toString(16).toUpperCase()}`).join('')}`,
      ],
      ['partly percent-encoded and lower-cased', 'bad client secret s3cr3t%2dphrase'],
    ])('the client secret %s is redacted', (_how, text) => {
      expect(redactProviderText(text, [SECRET], 200)).toBe('bad client secret [redacted]');
    });

    it.each([
      ['lower-cased', `user ${EMAIL.toLowerCase()} not found`],
      ['encodeURIComponent', `user ${encodeURIComponent(EMAIL)} not found`],
      ['encodeURIComponent, lower-case hex', `user ${encodeURIComponent(EMAIL).toLowerCase()} not found`],
      ['form-encoded', `user ${new URLSearchParams({ e: EMAIL }).toString().slice(2)} not found`],
    ])('an email %s is redacted', (_how, text) => {
      expect(redactProviderText(text, [EMAIL], 200)).toBe('user [redacted] not found');
    });

    it('form encoding of a space (+) and non-ASCII characters (ASCII letters folded)', () => {
      const name = 'Jörg Müller Straße';
      for (const echoed of [
        new URLSearchParams({ n: name }).toString().slice(2),
        encodeURIComponent(name),
        encodeURIComponent(name).toLowerCase(),
        encodeURIComponent('JöRG MüLLER STRAßE'),
      ]) {
        expect(redactProviderText(`no such name ${echoed}.`, [name], 200)).toBe('no such name [redacted].');
      }
    });

    it.each([
      ['after an escape (…sk_live%2F)', 188],
      ['inside an escape (…sk_live%)', 190],
      ['inside an escape (…sk_live%2)', 189],
      ['before an escape (…sk_live)', 191],
    ])('an encoded secret split by the cut %s is redacted up to the end', (_where, pad) => {
      const secret = 'sk_live/9f8e7d6c5b4a';
      const out = redactProviderText(`${'x'.repeat(pad)}k=${encodeURIComponent(secret)}`, [secret], 200);
      expect(out).toMatch(/k=\[redac/);
      expect(out).not.toContain('sk_');
      expect(out).not.toContain('live');
    });

    it('leaves text that only resembles the secret', () => {
      expect(redactProviderText('S3cr3t Phrase, %53%33cr3t', [SECRET], 200)).toBe(
        'S3cr3t Phrase, %53%33cr3t',
      );
    });

    it(`a secret built to defeat naive search stays linear (under ${CPU_BUDGET_MS} ms of CPU on 1 MiB)`, () => {
      const text = fill('a');
      const secret = `${'a'.repeat(200)}b`;
      const ms = cpuMs(() => redactProviderText(text, [secret, secret.toUpperCase()], text.length));
      expect(ms).toBeLessThan(CPU_BUDGET_MS);
    });
  });
});
