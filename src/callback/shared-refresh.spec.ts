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
    await shared.putResult('rt:id', 'lock-1', 'old-raw-refresh', SESSION);
    await shared.putGrace('rt:id', 'legacy.old-raw-refresh', 'client-hash', SESSION, 1000);
    await shared.putRotation('rt:id', { refreshId: 'rt:next', accessId: 'at:x', accessExpMs: 5 }, 1000);
    const all = store.written.join('\n');
    for (const secret of ['access.token.value', 'next-refresh', 'old-raw-refresh'])
      expect(all).not.toContain(secret);
  });

  it('a request that found the lock in flight gets the result; one that finds it done, or another lock, never does', async () => {
    const store = new EzidMemoryStore();
    const shared = new EzidSharedRefresh(store, 1000);
    const holder = await shared.lock('rt:id');
    if (!('held' in holder)) throw new Error('expected the lock');
    const joiner = await shared.lock('rt:id');
    expect(joiner).toEqual({ other: holder.held });
    const waiting = shared.awaitResult('rt:id', holder.held, 'old-raw');
    const done = await shared.markDone('rt:id', holder.held);
    expect(done).toBe(`done:${holder.held}`);
    const late = await shared.lock('rt:id');
    expect(late).toEqual({ other: done });
    const lateWait = shared.awaitResult('rt:id', done, 'old-raw');
    await shared.putResult('rt:id', holder.held, 'old-raw', SESSION);
    await shared.unlock('rt:id', done);
    expect(await waiting).toEqual(SESSION);
    expect(await lateWait).toBe('released');
    // A later holder of the same token's lock (a replay being judged) exposes no earlier result.
    const next = await shared.lock('rt:id');
    if (!('held' in next)) throw new Error('expected the lock');
    const thief = await shared.lock('rt:id');
    expect(thief).toEqual({ other: next.held });
    const thiefWait = shared.awaitResult('rt:id', next.held, 'old-raw');
    await shared.unlock('rt:id', next.held);
    expect(await thiefWait).toBe('released');
  });

  it('a result opens only with the refresh token it answers; another token, or a tampered value, is "released"', async () => {
    const store = new EzidMemoryStore();
    const shared = new EzidSharedRefresh(store, 1000);
    const lock = await shared.lock('rt:id');
    if (!('held' in lock)) throw new Error('expected the lock');
    await shared.putResult('rt:id', lock.held, 'old-raw', SESSION);
    expect(await shared.awaitResult('rt:id', lock.held, 'old-raw')).toEqual(SESSION);
    expect(await shared.awaitResult('rt:id', lock.held, 'other-raw')).toBe('released');
    const key = `refresh:result:rt:id:${lock.held}`;
    const [iv, ct, tag] = (await store.get(key))!.split('.');
    const flipped = Buffer.from(ct, 'base64url');
    flipped[0] ^= 1;
    await store.set(key, [iv, flipped.toString('base64url'), tag].join('.'), 1000);
    expect(await shared.awaitResult('rt:id', lock.held, 'old-raw')).toBe('released');
    await store.set(key, 'garbage', 1000);
    expect(await shared.awaitResult('rt:id', lock.held, 'old-raw')).toBe('released');
  });

  it('a grace session opens only with the exact token string', async () => {
    const shared = new EzidSharedRefresh(new EzidMemoryStore(), 1000);
    await shared.putGrace('rt:id', 'legacy.raw', 'c', SESSION, 1000);
    expect(await shared.getGrace('rt:id', 'legacy.raw')).toEqual({ client: 'c', session: SESSION });
    expect(await shared.getGrace('rt:id', 'api.raw')).toBeUndefined();
  });

  it('a waiter wakes when the lock is released without a result, and times out when the holder never answers', async () => {
    const shared = new EzidSharedRefresh(new EzidMemoryStore(), 50);
    const a = await shared.lock('rt:a');
    if (!('held' in a)) throw new Error('expected the lock');
    const waiting = shared.awaitResult('rt:a', a.held, 'raw');
    await shared.unlock('rt:a', a.held);
    expect(await waiting).toBe('released');
    const b = await shared.lock('rt:b');
    if (!('held' in b)) throw new Error('expected the lock');
    expect(await shared.awaitResult('rt:b', b.held, 'raw')).toBe('timeout');
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
