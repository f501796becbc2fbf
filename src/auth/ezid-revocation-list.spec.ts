import * as crypto from 'node:crypto';
import * as fc from 'fast-check';
import {
  accessTokenRevocationId,
  canonicalRefreshToken,
  EzidInMemoryRevocationList,
  EzidRevocationListFullError,
  REVOCATION_ID_MAX_LENGTH,
  refreshTokenRevocationId,
} from './ezid-revocation-list';

describe('EzidInMemoryRevocationList', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('refuses an id until its expiry, then forgets it', () => {
    const list = new EzidInMemoryRevocationList(10, clock);
    list.revoke('a', now + 1000);
    expect(list.isRevoked('a')).toBe(true);
    expect(list.isRevoked('b')).toBe(false);
    now += 1000;
    expect(list.isRevoked('a')).toBe(false);
    expect(list.size).toBe(0);
  });

  it('ignores an already expired entry and keeps the later of two expiries', () => {
    const list = new EzidInMemoryRevocationList(10, clock);
    list.revoke('old', now - 1);
    expect(list.size).toBe(0);
    list.revoke('a', now + 5000);
    list.revoke('a', now + 10);
    now += 100;
    expect(list.isRevoked('a')).toBe(true);
  });

  it('at the bound: sweeps expired entries, else fails closed (throws) and never evicts a live entry', () => {
    const list = new EzidInMemoryRevocationList(3, clock);
    list.revoke('a', now + 10);
    list.revoke('b', now + 1000);
    list.revoke('c', now + 1000);
    expect(() => list.revoke('d', now + 1000)).toThrow(EzidRevocationListFullError);
    expect(['a', 'b', 'c', 'd'].map((k) => list.isRevoked(k))).toEqual([true, true, true, false]);
    now += 10; // 'a' expires: its slot is reused
    list.revoke('d', now + 1000);
    expect(['a', 'b', 'c', 'd'].map((k) => list.isRevoked(k))).toEqual([false, true, true, true]);
  });
});

describe('revocation ids', () => {
  const sig = Buffer.alloc(256, 7);

  it('keys an access token on jti (with iss) when present, else on the signature bytes; never the token', () => {
    const withJti = accessTokenRevocationId({ iss: 'i', jti: 'j1' }, sig);
    expect(withJti).toMatch(/^at:jti:/);
    expect(accessTokenRevocationId({ iss: 'i', jti: 'j1' }, Buffer.alloc(256, 8))).toBe(withJti);
    expect(accessTokenRevocationId({ iss: 'i', jti: 'j2' }, sig)).not.toBe(withJti);
    expect(accessTokenRevocationId({ iss: 'other', jti: 'j1' }, sig)).not.toBe(withJti);
    const bySig = accessTokenRevocationId({ iss: 'i' }, sig);
    expect(bySig).toMatch(/^at:sig:/);
    expect(accessTokenRevocationId({ iss: 'i', jti: '' }, sig)).toBe(bySig);
    expect(accessTokenRevocationId({ iss: 'i' }, Buffer.alloc(256, 8))).not.toBe(bySig);
  });

  it('an access-token id is always an ASCII hash of one fixed form: it fits the shared store and survives a release', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.string({ minLength: 1, maxLength: 400 }), (iss, jti) => {
        const id = accessTokenRevocationId({ iss, jti }, sig);
        expect(id.length).toBeLessThanOrEqual(REVOCATION_ID_MAX_LENGTH);
        expect(id).toMatch(/^at:jti:[\w-]{43}$/);
        // Deterministic, and it depends on both claims.
        expect(accessTokenRevocationId({ iss, jti }, Buffer.alloc(256, 1))).toBe(id);
        expect(accessTokenRevocationId({ iss, jti: `${jti}x` }, sig)).not.toBe(id);
      }),
      { numRuns: 300 },
    );
    // The form every earlier release wrote to a shared store (revocations there stay valid after an upgrade).
    expect(accessTokenRevocationId({ iss: 'i', jti: 'short' }, sig)).toBe(
      'at:jti:' + crypto.hash('sha256', 'i\nshort', 'base64url'),
    );
  });

  it('hashes refresh tokens (the secret is not kept)', () => {
    const id = refreshTokenRevocationId('legacy.secret-value');
    expect(id).toMatch(/^rt:/);
    expect(id).not.toContain('secret');
  });

  it('gives every tagging of one refresh token the same id (re-tagging escapes nothing)', () => {
    const id = refreshTokenRevocationId('api.rt_raw-value');
    for (const variant of [
      'legacy.rt_raw-value',
      'rt_raw-value',
      'legacy.api.rt_raw-value',
      'api.api.rt_raw-value',
    ])
      expect(refreshTokenRevocationId(variant)).toBe(id);
    expect(canonicalRefreshToken('legacy.api.v4.local.abc')).toBe('v4.local.abc');
    expect(canonicalRefreshToken('api.')).toBe('api.');
    expect(refreshTokenRevocationId('api.rt_other')).not.toBe(id);
  });
});
