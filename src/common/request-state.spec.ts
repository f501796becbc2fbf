import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { peekRequestState, requestState } from './request-state';

describe('requestState', () => {
  it('one record per request object, created on first use, never shared with another request', () => {
    class FastifyLikeRequest {
      constructor(readonly id: number) {}
    }
    const a = new FastifyLikeRequest(1);
    const b = new FastifyLikeRequest(2);
    expect(peekRequestState(a)).toBeUndefined();
    const sa = requestState(a);
    expect(requestState(a)).toBe(sa);
    expect(peekRequestState(a)).toBe(sa);
    expect(peekRequestState(b)).toBeUndefined();
    expect(requestState(b)).not.toBe(sa);
    // Kept out of sight: not an enumerable string key, not in JSON.
    expect(Object.keys(a)).toEqual(['id']);
    expect(JSON.stringify(a)).toBe('{"id":1}');
  });

  it('an IncomingMessage (Express) and a non-extensible object keep it outside the object', () => {
    const msg = new IncomingMessage(new Socket());
    const frozen = Object.freeze({ url: '/' });
    for (const req of [msg, frozen]) {
      const before = Object.getOwnPropertySymbols(req).length;
      const s = requestState(req);
      expect(peekRequestState(req)).toBe(s);
      expect(Object.getOwnPropertySymbols(req)).toHaveLength(before);
    }
  });

  it('is not read through the prototype chain', () => {
    const proto = {};
    const parent = requestState(proto);
    const child = Object.create(proto) as object;
    expect(peekRequestState(child)).toBeUndefined();
    expect(requestState(child)).not.toBe(parent);
  });
});
