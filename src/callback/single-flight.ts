import * as crypto from 'node:crypto';

/**
 * Runs at most one operation per key at a time: callers that arrive while an operation for their
 * key is in flight get the same promise. Keys are hashed, so secrets (refresh tokens) are not kept
 * as map keys. A failed operation is forgotten at once; a successful one is shared for `holdMs`
 * more (default 0), so requests that raced it by a few milliseconds get the same result.
 */
export class EzidSingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  constructor(private readonly holdMs = 0) {}

  /** Number of operations in flight. */
  get size(): number {
    return this.inFlight.size;
  }

  /** Runs `fn` for `key`, or joins the run already in flight for it. */
  run(key: string, fn: () => Promise<T>): Promise<T> {
    const id = crypto.createHash('sha256').update(key, 'utf8').digest('base64url');
    const running = this.inFlight.get(id);
    if (running) return running;
    const p = (async () => fn())();
    this.inFlight.set(id, p);
    const forget = (): void => {
      if (this.inFlight.get(id) === p) this.inFlight.delete(id);
    };
    p.then(() => {
      if (this.holdMs <= 0) return forget();
      setTimeout(forget, this.holdMs).unref();
    }, forget);
    return p;
  }
}
