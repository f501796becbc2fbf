import * as crypto from 'node:crypto';
import { resolveEzidOptions } from '../ezid-options.validation';
import { EzidEmulator } from '../testing';
import * as fc from 'fast-check';
import {
  EzidTokenVerifier,
  VERIFIED_TOKEN_ENTRY_BYTES,
  VERIFIED_TOKEN_KEY_CHARS,
  estimateRetainedBytes,
  freezeJsonAndEstimate,
  verifiedTokenSlot,
} from './ezid-token-verifier';
import { StaticKeySource } from './jwks-key-source';

type CacheView = { size: number; bytes: number };

describe('verified-token cache: bounded in bytes', () => {
  let emu: EzidEmulator;
  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: 'cli_cache', clientSecret: 's' });
  });
  afterAll(() => emu.stop());

  const verifierWith = (verifiedCacheMaxBytes?: number) =>
    new EzidTokenVerifier(
      resolveEzidOptions({
        clientId: 'cli_cache',
        token: { publicKey: emu.publicKeyPem, issuer: emu.issuer, verifiedCacheMaxBytes },
      }),
      new StaticKeySource(emu.publicKeyPem),
    );
  const cacheOf = (v: EzidTokenVerifier) => (v as unknown as { cache: CacheView }).cache;

  /** A token of about `bytes` characters: many tenants, as a large EZiD access token carries. */
  function tokenOf(bytes: number, i: number): string {
    const tenants = [];
    for (let t = 0; t * 190 < bytes * 0.72; t++) {
      tenants.push({
        tenant_id: crypto.randomBytes(12).toString('hex'),
        tenant_name: `org${t}`,
        status: 'Verified',
        roles: [{ role_id: 'r', role_name: 'Admin', permissions: ['Team View', 'Team Manage'] }],
      });
    }
    return emu.mintAccessToken(undefined, { claims: { tenants, n: i } });
  }

  it('many large tokens: the accounted bytes stay under the bound, and entries keep no user', async () => {
    const max = 256 * 1024;
    const v = verifierWith(max);
    const cache = cacheOf(v);
    let length = 0;
    for (let i = 0; i < 300; i++) {
      const t = tokenOf(8000, i);
      length += t.length;
      await v.verifyToken(t);
      expect(cache.bytes).toBeLessThanOrEqual(max);
    }
    expect(length / 300).toBeGreaterThan(7000);
    // Each entry is the fixed overhead only: the tokens' claims are not retained.
    expect(cache.bytes).toBe(cache.size * VERIFIED_TOKEN_ENTRY_BYTES);
    expect(cache.size).toBe(300);
  });

  it('medium tokens keep their user, and the byte bound evicts before the entry bound', async () => {
    const max = 128 * 1024;
    const v = verifierWith(max);
    const cache = cacheOf(v);
    for (let i = 0; i < 400; i++) {
      await v.verifyToken(tokenOf(2000, i));
      expect(cache.bytes).toBeLessThanOrEqual(max);
    }
    expect(cache.size).toBeLessThan(400);
    expect(cache.bytes).toBeGreaterThan(cache.size * VERIFIED_TOKEN_ENTRY_BYTES);
  });

  it('a hit means this exact token string was verified: no signature check again, the same user', async () => {
    const v = verifierWith();
    const small = emu.mintAccessToken();
    const large = tokenOf(8000, 1);
    const first = { small: await v.verifyToken(small), large: await v.verifyToken(large) };
    const spy = jest.spyOn(crypto, 'verify');
    try {
      const again = { small: await v.verifyToken(small), large: await v.verifyToken(large) };
      expect(spy).not.toHaveBeenCalled();
      expect(again.small).toBe(first.small); // kept whole
      expect(again.large).not.toBe(first.large); // rebuilt from the token string
      expect(again.large.user).toEqual(first.large.user);
      expect(Object.isFrozen(again.large.user.claims)).toBe(true);
      // A different string (one signature bit flipped) is not a hit.
      const flipped = `${large.slice(0, -2)}${large.at(-2) === 'A' ? 'B' : 'A'}${large.at(-1)}`;
      await expect(Promise.resolve().then(() => v.verifyToken(flipped))).rejects.toMatchObject({
        code: 'token_invalid',
      });
    } finally {
      spy.mockRestore();
    }
  });

  it('a token differing in one character from a cached one is never accepted (same cache slot or not)', async () => {
    const v = verifierWith();
    const small = emu.mintAccessToken(); // entry keeps the user and the token string
    const large = tokenOf(8000, 2); // entry keeps the SHA-256 of the token string only
    await v.verifyToken(small);
    await v.verifyToken(large);
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
    const mutation = (t: string) =>
      fc.record({
        // Half the mutations keep the last VERIFIED_TOKEN_KEY_CHARS characters: the cached token's slot.
        at: fc.oneof(
          fc.integer({ min: 0, max: t.length - VERIFIED_TOKEN_KEY_CHARS - 1 }),
          fc.integer({ min: 0, max: t.length - 1 }),
        ),
        c: fc.constantFrom(...chars.split('')),
      });
    for (const t of [small, large]) {
      fc.assert(
        fc.property(mutation(t), ({ at, c }) => {
          fc.pre(t[at] !== c);
          const m = `${t.slice(0, at)}${c}${t.slice(at + 1)}`;
          // Mutations before the key characters land in the cached token's own slot.
          if (at < t.length - VERIFIED_TOKEN_KEY_CHARS)
            expect(verifiedTokenSlot(m)).toBe(verifiedTokenSlot(t));
          let accepted = false;
          try {
            const r = v.verifyToken(m);
            accepted = !(r instanceof Promise);
          } catch {
            // refused, as it must be
          }
          expect(accepted).toBe(false);
        }),
        { numRuns: 300 },
      );
      // The cached token is still a hit (a refused look-alike does not take or drop its slot).
      const spy = jest.spyOn(crypto, 'verify');
      try {
        expect((await v.verifyToken(t)).user.id).toBeDefined();
        expect(spy).not.toHaveBeenCalled();
      } finally {
        spy.mockRestore();
      }
    }
  });

  it('verifiedTokenSlot is a small non-negative integer', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), (t) => {
        const k = verifiedTokenSlot(t);
        expect(Number.isInteger(k) && k >= 0 && k < 2 ** 30).toBe(true);
      }),
    );
  });

  it('freezeJsonAndEstimate deep-freezes and estimates like estimateRetainedBytes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const a = structuredClone(value);
        const expected = estimateRetainedBytes(a, Infinity);
        expect(freezeJsonAndEstimate(a)).toBe(expected);
        const stack: unknown[] = [a];
        while (stack.length) {
          const x = stack.pop();
          if (x !== null && typeof x === 'object') {
            expect(Object.isFrozen(x)).toBe(true);
            stack.push(...Object.values(x));
          }
        }
      }),
      { numRuns: 500 },
    );
    const parsed = JSON.parse('{"__proto__":{"admin":true},"a":[1,"é",{"b":null}]}') as object;
    expect(freezeJsonAndEstimate(parsed)).toBe(estimateRetainedBytes(parsed, Infinity));
    expect(Object.isFrozen((parsed as { a: unknown[] }).a[2])).toBe(true);
  });

  it('estimateRetainedBytes stops at the budget', () => {
    expect(estimateRetainedBytes({ a: 'x'.repeat(100) }, 10_000)).toBeGreaterThan(100);
    expect(estimateRetainedBytes({ a: 'x'.repeat(100_000) }, 10_000)).toBe(Infinity);
  });

  // Heap, only when the runtime exposes gc (node --expose-gc): the accounted bytes bound what is retained.
  (typeof globalThis.gc === 'function' ? it : it.skip)(
    'retained heap of many large tokens stays near the bound',
    async () => {
      const max = 1024 * 1024;
      const tokens = Array.from({ length: 2000 }, (_, i) => tokenOf(8000, i));
      const gc = globalThis.gc as () => void;
      gc();
      const before = process.memoryUsage().heapUsed;
      const v = verifierWith(max);
      for (const t of tokens) await v.verifyToken(t);
      gc();
      const retained = process.memoryUsage().heapUsed - before;
      expect(cacheOf(v).size).toBe(2000);
      expect(retained).toBeLessThan(2 * max);
    },
  );
});
