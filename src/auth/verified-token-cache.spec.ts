import * as crypto from 'node:crypto';
import { resolveEzidOptions } from '../ezid-options.validation';
import { EzidEmulator } from '../testing';
import * as fc from 'fast-check';
import {
  EzidTokenVerifier,
  VERIFIED_TOKEN_ADMISSION_SLOTS,
  VERIFIED_TOKEN_ADMISSION_WAYS,
  VERIFIED_TOKEN_ENTRY_BYTES,
  VERIFIED_TOKEN_KEY_CHARS,
  admitOnSecondSight,
  estimateRetainedBytes,
  freezeJsonAndEstimate,
  verifiedTokenSlot,
} from './ezid-token-verifier';
import { createKeySource } from './auth.providers';
import { StaticKeySource } from './jwks-key-source';

type CacheView = { size: number; bytes: number };

describe('verified-token cache: bounded in bytes', () => {
  let emu: EzidEmulator;
  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: 'cli_cache', clientSecret: 's' });
  });
  afterAll(() => emu.stop());

  /** Full verifications (signature checks) of each verifier: the key lookup comes right before one. */
  const fullChecks = new WeakMap<EzidTokenVerifier, () => number>();
  const verifierWith = (verifiedCacheMaxBytes?: number) => {
    const keys = new StaticKeySource(emu.publicKeyPem);
    const getKey = jest.spyOn(keys, 'getKey');
    const v = new EzidTokenVerifier(
      resolveEzidOptions({
        clientId: 'cli_cache',
        token: { publicKey: emu.publicKeyPem, issuer: emu.issuer, verifiedCacheMaxBytes },
      }),
      keys,
    );
    fullChecks.set(v, () => getKey.mock.calls.length);
    return v;
  };
  const checksOf = (v: EzidTokenVerifier) => fullChecks.get(v)!();
  const cacheOf = (v: EzidTokenVerifier) => (v as unknown as { cache: CacheView }).cache;
  /** Verifies `token` twice: a token enters the cache on its second full verification (admission). */
  const admit = async (v: EzidTokenVerifier, token: string) => {
    await v.verifyToken(token);
    return v.verifyToken(token);
  };

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
      await admit(v, t);
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
      await admit(v, tokenOf(2000, i));
      expect(cache.bytes).toBeLessThanOrEqual(max);
    }
    expect(cache.size).toBeLessThan(400);
    expect(cache.bytes).toBeGreaterThan(cache.size * VERIFIED_TOKEN_ENTRY_BYTES);
  });

  it('admission: a token is cached on its second full verification; tokens used once leave nothing', async () => {
    const v = verifierWith();
    const cache = cacheOf(v);
    const hot = emu.mintAccessToken();
    await v.verifyToken(hot);
    expect(cache.size).toBe(0);
    await v.verifyToken(hot);
    expect(cache.size).toBe(1);
    expect(checksOf(v)).toBe(2);
    // Distinct tokens, each verified once: verified in full, none cached, the hot entry untouched.
    const once = Array.from({ length: 200 }, (_, i) => emu.mintAccessToken(undefined, { claims: { n: i } }));
    for (const t of once) expect((await v.verifyToken(t)).user.id).toBeDefined();
    expect(checksOf(v)).toBe(202);
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBeGreaterThan(VERIFIED_TOKEN_ENTRY_BYTES);
    const user = (await v.verifyToken(hot)).user;
    expect(checksOf(v)).toBe(202);
    expect((await v.verifyToken(hot)).user).toBe(user);
    // A token verified once is frozen like a cached one.
    const single = await v.verifyToken(emu.mintAccessToken(undefined, { claims: { n: 'single' } }));
    expect(Object.isFrozen(single.user) && Object.isFrozen(single.user.claims)).toBe(true);
    expect(Object.isFrozen((single.user.claims.tenants as object[])[0])).toBe(true);
    expect(Object.isFrozen(single.user.tenants[0].roles[0].permissions)).toBe(true);
  });

  it('admission is recorded only by a verification that succeeded', async () => {
    const v = verifierWith();
    const cache = cacheOf(v);
    const good = emu.mintAccessToken();
    // Same last characters (same slot, same admission tag), one signature character changed: refused.
    const d = good.lastIndexOf('.') + 5;
    const forged = `${good.slice(0, d)}${good[d] === 'A' ? 'B' : 'A'}${good.slice(d + 1)}`;
    expect(verifiedTokenSlot(forged)).toBe(verifiedTokenSlot(good));
    for (let i = 0; i < 3; i++)
      await expect(Promise.resolve().then(() => v.verifyToken(forged))).rejects.toMatchObject({
        code: 'token_invalid',
      });
    await v.verifyToken(good);
    expect(cache.size).toBe(0);
    await v.verifyToken(good);
    expect(cache.size).toBe(1);
    await expect(Promise.resolve().then(() => v.verifyToken(forged))).rejects.toMatchObject({
      code: 'token_invalid',
    });
  });

  it('admission: tokens whose slots share an admission bucket, used in turn, are all cached on their second use', async () => {
    const bucketOf = (t: string) =>
      verifiedTokenSlot(t) & (VERIFIED_TOKEN_ADMISSION_SLOTS / VERIFIED_TOKEN_ADMISSION_WAYS - 1);
    // Real tokens until two share a bucket (about 130 expected for 8 192 buckets).
    const byBucket = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair && i < 3000; i++) {
      const t = emu.mintAccessToken(undefined, { claims: { n: i } });
      const other = byBucket.get(bucketOf(t));
      if (other !== undefined && verifiedTokenSlot(other) !== verifiedTokenSlot(t)) pair = [other, t];
      byBucket.set(bucketOf(t), t);
    }
    expect(pair).toBeDefined();
    const v = verifierWith();
    for (let round = 0; round < 3; round++) for (const t of pair!) await v.verifyToken(t);
    // First round: recorded; second: both admitted (one slot per bucket overwrote them in turn, never
    // caching either); third: hits.
    expect(checksOf(v)).toBe(4);
    expect(cacheOf(v).size).toBe(2);
  });

  it('admission: a token whose cache entry was dropped is cached again by its next verification', async () => {
    const v = verifierWith();
    const token = emu.mintAccessToken(undefined, { claims: { n: 'dropped' } });
    await admit(v, token);
    expect(v.isCachedToken(token)).toBe(true);
    (v as unknown as { cache: Map<number, unknown> }).cache.delete(verifiedTokenSlot(token));
    expect(v.isCachedToken(token)).toBe(false);
    await v.verifyToken(token);
    expect(v.isCachedToken(token)).toBe(true);
    expect(checksOf(v)).toBe(3);
  });

  it('admitOnSecondSight: four slots of one bucket used in turn are admitted, and admitted again later', () => {
    const table = new Uint32Array(VERIFIED_TOKEN_ADMISSION_SLOTS);
    const buckets = VERIFIED_TOKEN_ADMISSION_SLOTS / VERIFIED_TOKEN_ADMISSION_WAYS;
    expect(Number.isInteger(Math.log2(buckets))).toBe(true); // the bucket index is a mask
    const sameBucket = (n: number) => Array.from({ length: n }, (_, i) => 77 + i * buckets);
    const four = sameBucket(4);
    expect(four.map((s) => admitOnSecondSight(table, s))).toEqual([false, false, false, false]);
    expect(four.map((s) => admitOnSecondSight(table, s))).toEqual([true, true, true, true]);
    // Their records stay: a token whose cache entry was dropped is admitted on its next verification.
    expect(four.map((s) => admitOnSecondSight(table, s))).toEqual([true, true, true, true]);
    // Five in turn overwrite each other's records: the documented limit of a bucket.
    table.fill(0);
    const five = sameBucket(5);
    for (let round = 0; round < 3; round++)
      expect(five.map((s) => admitOnSecondSight(table, s))).toEqual([false, false, false, false, false]);
    // An admitted record is the first dropped; an empty slot is filled before any record is dropped.
    table.fill(0);
    const [a, b, c, d, e] = five;
    for (const s of [a, b, c]) admitOnSecondSight(table, s);
    expect(admitOnSecondSight(table, b)).toBe(true); // b is cached now: its record goes to the back
    expect(admitOnSecondSight(table, d)).toBe(false); // fills the empty slot, drops nothing
    expect(admitOnSecondSight(table, e)).toBe(false); // drops b, not the pending a
    expect([a, c, d, e, b].map((s) => admitOnSecondSight(table, s))).toEqual([true, true, true, true, false]);
    // Slot 0 and the largest slot work, and other buckets are untouched.
    table.fill(0);
    for (const s of [0, 2 ** 30 - 1]) {
      expect(admitOnSecondSight(table, s)).toBe(false);
      expect(admitOnSecondSight(table, s ^ 1)).toBe(false);
      expect(admitOnSecondSight(table, s)).toBe(true);
    }
  });

  it('admitOnSecondSight matches a model of a bucket (a list of four: a new record in front, an admitted one to the back)', () => {
    const buckets = VERIFIED_TOKEN_ADMISSION_SLOTS / VERIFIED_TOKEN_ADMISSION_WAYS;
    fc.assert(
      fc.property(
        fc.array(fc.record({ bucket: fc.integer({ min: 0, max: 2 }), tag: fc.integer({ min: 0, max: 6 }) }), {
          maxLength: 80,
        }),
        (ops) => {
          const table = new Uint32Array(VERIFIED_TOKEN_ADMISSION_SLOTS);
          const model = [0, 1, 2].map(() => [] as number[]);
          for (const { bucket, tag } of ops) {
            const slot = bucket + tag * buckets;
            const list = model[bucket];
            const at = list.indexOf(slot);
            const expected = at >= 0;
            if (expected) list.push(...list.splice(at, 1));
            else {
              list.unshift(slot);
              if (list.length > VERIFIED_TOKEN_ADMISSION_WAYS) list.pop();
            }
            expect(admitOnSecondSight(table, slot)).toBe(expected);
          }
        },
      ),
    );
  });

  it('admission: two verifications of one token in flight across a JWKS fetch cache it once both finish, with one record', async () => {
    // A cold key set: both verifications wait for the same real JWKS fetch from the emulator.
    const options = resolveEzidOptions({
      clientId: 'cli_cache',
      token: { jwksUri: emu.jwksUri, issuer: emu.issuer },
    });
    const keys = createKeySource(options);
    const getKey = jest.spyOn(keys, 'getKey');
    const v = new EzidTokenVerifier(options, keys);
    const token = emu.mintAccessToken(undefined, { claims: { n: 'in-flight' } });
    const inFlight = [v.verifyToken(token), v.verifyToken(token)];
    expect(inFlight.every((r) => r instanceof Promise)).toBe(true);
    const [a, b] = await Promise.all(inFlight);
    expect(b.user.id).toBe(a.user.id);
    // The second to finish found the first one's record: cached, and the record kept once (no duplicate).
    expect(cacheOf(v).size).toBe(1);
    expect(v.isCachedToken(token)).toBe(true);
    const seen = (v as unknown as { seen: Uint32Array }).seen;
    expect(seen.filter((x) => x === verifiedTokenSlot(token) + 1)).toHaveLength(1);
    const calls = getKey.mock.calls.length;
    expect((await v.verifyToken(token)).user.id).toBe(a.user.id);
    expect(getKey.mock.calls.length).toBe(calls);
  });

  it('a hit means this exact token string was verified: no signature check again, the same user', async () => {
    const v = verifierWith();
    const small = emu.mintAccessToken();
    const large = tokenOf(8000, 1);
    const first = { small: await admit(v, small), large: await admit(v, large) };
    const checks = checksOf(v);
    {
      const again = { small: await v.verifyToken(small), large: await v.verifyToken(large) };
      expect(checksOf(v)).toBe(checks);
      expect(again.small).toBe(first.small); // kept whole
      expect(again.large).not.toBe(first.large); // rebuilt from the token string
      expect(again.large.user).toEqual(first.large.user);
      expect(Object.isFrozen(again.large.user.claims)).toBe(true);
      // A different string (one signature bit flipped) is not a hit.
      const flipped = `${large.slice(0, -2)}${large.at(-2) === 'A' ? 'B' : 'A'}${large.at(-1)}`;
      await expect(Promise.resolve().then(() => v.verifyToken(flipped))).rejects.toMatchObject({
        code: 'token_invalid',
      });
    }
  });

  it('a token differing in one character from a cached one is never accepted (same cache slot or not)', async () => {
    const v = verifierWith();
    const small = emu.mintAccessToken(); // entry keeps the user and the token string
    const large = tokenOf(8000, 2); // entry keeps the SHA-256 of the token string only
    await admit(v, small);
    await admit(v, large);
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
      const checks = checksOf(v);
      expect((await v.verifyToken(t)).user.id).toBeDefined();
      expect(checksOf(v)).toBe(checks);
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
      for (const t of tokens) await admit(v, t);
      gc();
      const retained = process.memoryUsage().heapUsed - before;
      expect(cacheOf(v).size).toBe(2000);
      expect(retained).toBeLessThan(2 * max);
    },
  );
});
