import { deriveFlowKey, EzidFlowCookieSigner, flowBinding, safeEqual } from './flow-cookie';

describe('EzidFlowCookieSigner', () => {
  const signer = new EzidFlowCookieSigner(deriveFlowKey('flow-secret', undefined));

  it('round-trips a flow bound to a value, without the value in the cookie', () => {
    const v = signer.sign({ kind: 'email-code', binding: flowBinding('state-123'), redirectPath: '/x' });
    expect(v).not.toContain('state-123');
    expect(Buffer.from(v.split('.')[1], 'base64url').toString()).not.toContain('state-123');
    const flow = signer.verify(v);
    expect(flow).toMatchObject({ kind: 'email-code', redirectPath: '/x' });
    expect(EzidFlowCookieSigner.matches(flow, 'email-code', 'state-123')).toBe(true);
  });

  it('is bound to the login it started: another value, another kind, or no flow do not match', () => {
    const flow = signer.verify(signer.sign({ kind: 'sms', binding: flowBinding('s1') }));
    expect(EzidFlowCookieSigner.matches(flow, 'sms', 's2')).toBe(false);
    expect(EzidFlowCookieSigner.matches(flow, 'email-code', 's1')).toBe(false);
    expect(EzidFlowCookieSigner.matches(undefined, 'sms', 's1')).toBe(false);
    expect(EzidFlowCookieSigner.matches(flow, 'sms', undefined)).toBe(false);
  });

  it('rejects a forged, tampered, truncated, re-keyed or wrong-version cookie', () => {
    const v = signer.sign({ kind: 'magic-link', binding: flowBinding('c') });
    const [ver, body, mac] = v.split('.');
    const forgedBody = Buffer.from(JSON.stringify({ kind: 'magic-link', exp: 9e9 })).toString('base64url');
    expect(signer.verify(`${ver}.${forgedBody}.${mac}`)).toBeUndefined();
    expect(signer.verify(`${ver}.${body}.${mac.slice(0, -1)}`)).toBeUndefined(); // different length: no RangeError
    expect(signer.verify(`${ver}.${body}.${mac}x`)).toBeUndefined();
    expect(signer.verify(`v2.${body}.${mac}`)).toBeUndefined();
    expect(signer.verify(`${ver}.${body}`)).toBeUndefined();
    expect(signer.verify('')).toBeUndefined();
    expect(signer.verify(undefined)).toBeUndefined();
    expect(signer.verify('x'.repeat(5000))).toBeUndefined();
    const other = new EzidFlowCookieSigner(deriveFlowKey('another-secret', undefined));
    expect(other.verify(v)).toBeUndefined();
  });

  it('expires after its TTL (at most 10 minutes)', () => {
    expect(signer.maxAgeSec).toBeLessThanOrEqual(600);
    const now = Date.now();
    const v = signer.sign({ kind: 'sms' }, now);
    expect(signer.verify(v, now + 599_000)).toBeDefined();
    expect(signer.verify(v, now + 600_000)).toBeUndefined();
  });

  it('rejects a validly signed payload of the wrong shape', () => {
    const key = deriveFlowKey('flow-secret', undefined);
    const s = new EzidFlowCookieSigner(key);
    // Sign odd payloads through the public API by casting: kind unknown, exp missing.
    expect(s.verify(s.sign({ kind: 'nope' as never }))).toBeUndefined();
  });

  it('derives the same key from the same secret (multi-instance), a random one without', () => {
    expect(deriveFlowKey('a', undefined).equals(deriveFlowKey('a', undefined))).toBe(true);
    expect(deriveFlowKey(undefined, 'client-secret').equals(deriveFlowKey(undefined, 'client-secret'))).toBe(
      true,
    );
    expect(deriveFlowKey('a', 'b').equals(deriveFlowKey(undefined, 'b'))).toBe(false);
    expect(deriveFlowKey(undefined, undefined).equals(deriveFlowKey(undefined, undefined))).toBe(false);
    expect(deriveFlowKey(undefined, 'client-secret').toString('latin1')).not.toContain('client-secret');
  });

  it('safeEqual handles unequal lengths without throwing', () => {
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('', '')).toBe(true);
  });
});
