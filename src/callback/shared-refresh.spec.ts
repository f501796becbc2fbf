import { EzidMemoryStore } from '../store/memory-store';
import { EzidSharedRefresh } from './shared-refresh';

/** A store that remembers every value written, to prove what reaches it. */
class RecordingStore extends EzidMemoryStore {
  readonly written: string[] = [];
  override async set(key: string, value: string, ttlMs: number, ifAbsent?: boolean): Promise<boolean> {
    this.written.push(`${key}=${value}`);
    return super.set(key, value, ttlMs, ifAbsent);
  }
}

const SESSION = { accessToken: 'access.token.value', refreshToken: 'legacy.next-refresh', expiresAtMs: 1 };

describe('EzidSharedRefresh', () => {
  it('never writes a token in clear: results and grace sessions are sealed, keys are the given ids', async () => {
    const store = new RecordingStore();
    const shared = new EzidSharedRefresh(store, 1000);
    await shared.putResult('rt:id', 'old-raw-refresh', SESSION);
    await shared.putGrace('rt:id', 'legacy.old-raw-refresh', 'client-hash', SESSION, 1000);
    await shared.putRotation('rt:id', { refreshId: 'rt:next', accessId: 'at:x', accessExpMs: 5 }, 1000);
    const all = store.written.join('\n');
    for (const secret of ['access.token.value', 'next-refresh', 'old-raw-refresh'])
      expect(all).not.toContain(secret);
  });

  it('a result opens only with the refresh token it answers; another token, or a tampered value, is "released"', async () => {
    const store = new EzidMemoryStore();
    const shared = new EzidSharedRefresh(store, 1000);
    expect(await shared.lock('rt:id')).toBeDefined();
    await shared.putResult('rt:id', 'old-raw', SESSION);
    expect(await shared.awaitResult('rt:id', 'old-raw')).toEqual(SESSION);
    expect(await shared.awaitResult('rt:id', 'other-raw')).toBe('released');
    const sealed = (await store.get('refresh:result:rt:id'))!;
    const [iv, ct, tag] = sealed.split('.');
    const flipped = Buffer.from(ct, 'base64url');
    flipped[0] ^= 1;
    await store.set('refresh:result:rt:id', [iv, flipped.toString('base64url'), tag].join('.'), 1000);
    expect(await shared.awaitResult('rt:id', 'old-raw')).toBe('released');
    await store.set('refresh:result:rt:id', 'garbage', 1000);
    expect(await shared.awaitResult('rt:id', 'old-raw')).toBe('released');
  });

  it('a grace session opens only with the exact token string', async () => {
    const shared = new EzidSharedRefresh(new EzidMemoryStore(), 1000);
    await shared.putGrace('rt:id', 'legacy.raw', 'c', SESSION, 1000);
    expect(await shared.getGrace('rt:id', 'legacy.raw')).toEqual({ client: 'c', session: SESSION });
    expect(await shared.getGrace('rt:id', 'api.raw')).toBeUndefined();
  });

  it('a waiter wakes when the lock is released without a result, and times out when the holder never answers', async () => {
    const store = new EzidMemoryStore();
    const shared = new EzidSharedRefresh(store, 50);
    const lock = (await shared.lock('rt:a'))!;
    expect(await shared.lock('rt:a')).toBeUndefined();
    const waiting = shared.awaitResult('rt:a', 'raw');
    await shared.unlock('rt:a', lock);
    expect(await waiting).toBe('released');
    await shared.lock('rt:b');
    expect(await shared.awaitResult('rt:b', 'raw')).toBe('timeout');
  });

  it('malformed rotation records are ignored', async () => {
    const store = new EzidMemoryStore();
    const shared = new EzidSharedRefresh(store, 1000);
    await store.set('refresh:rotation:x', '{"accessExpMs":"no"}', 1000);
    await store.set('refresh:rotation:y', 'not json', 1000);
    expect(await shared.getRotation('x')).toBeUndefined();
    expect(await shared.getRotation('y')).toBeUndefined();
  });
});
