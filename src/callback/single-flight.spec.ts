import { EzidSingleFlight } from './single-flight';

describe('EzidSingleFlight', () => {
  it('runs one operation per key at a time and shares its result', async () => {
    const sf = new EzidSingleFlight<number>();
    let calls = 0;
    let release!: (v: number) => void;
    const op = () => {
      calls++;
      return new Promise<number>((r) => (release = r));
    };
    const a = sf.run('rt-1', op);
    const b = sf.run('rt-1', op);
    const c = sf.run('rt-2', async () => 7);
    expect(calls).toBe(1);
    release(42);
    await expect(Promise.all([a, b, c])).resolves.toEqual([42, 42, 7]);
    expect(sf.size).toBe(0);
    await sf.run('rt-1', async () => 1);
    expect(calls).toBe(1); // the second run above used its own fn; no caching of the first result
  });

  it('shares failures and forgets the key afterwards', async () => {
    const sf = new EzidSingleFlight<number>();
    const boom = new Error('x');
    const a = sf.run('k', async () => {
      throw boom;
    });
    const b = sf.run('k', async () => 1);
    await expect(a).rejects.toBe(boom);
    await expect(b).rejects.toBe(boom);
    await expect(sf.run('k', async () => 2)).resolves.toBe(2);
  });

  it('a synchronous throw becomes a rejection', async () => {
    const sf = new EzidSingleFlight<number>();
    await expect(
      sf.run('k', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(sf.size).toBe(0);
  });

  it('shares nothing after the operation settles', async () => {
    const sf = new EzidSingleFlight<number>();
    let release!: (v: number) => void;
    const a = sf.run('k', () => new Promise<number>((r) => (release = r)));
    expect(sf.has('k')).toBe(true);
    release(1);
    await expect(a).resolves.toBe(1);
    expect(sf.has('k')).toBe(false);
    await expect(sf.run('k', async () => 2)).resolves.toBe(2);
  });
});
