import * as crypto from 'node:crypto';

/**
 * Runs at most one operation per key at a time: callers that arrive while an operation for their
 * key is in flight get the same promise. Nothing is shared once it settles: the key is forgotten
 * as soon as the operation succeeds or fails. Keys are hashed, so secrets (refresh tokens) are not
 * kept as map keys.
 */
export class EzidSingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  /** Number of operations in flight. */
  get size(): number {
    return this.inFlight.size;
  }

  /** Whether an operation for `key` is in flight (a `run` now would join it). */
  has(key: string): boolean {
    return this.inFlight.has(hashKey(key));
  }

  /** Runs `fn` for `key`, or joins the run already in flight for it. */
  run(key: string, fn: () => Promise<T>): Promise<T> {
    const id = hashKey(key);
    const running = this.inFlight.get(id);
    if (running) return running;
    const p = (async () => fn())();
    this.inFlight.set(id, p);
    const forget = (): void => {
      if (this.inFlight.get(id) === p) this.inFlight.delete(id);
    };
    p.then(forget, forget);
    return p;
  }
}

function hashKey(key: string): string {
  return crypto.createHash('sha256').update(key, 'utf8').digest('base64url');
}
