import * as crypto from 'node:crypto';

/**
 * Runs at most one operation per key at a time: callers that arrive while an operation for their
 * key is in flight get the same promise. Keys are hashed, so secrets (refresh tokens) are not kept
 * as map keys. Entries are removed as soon as the operation settles (no result caching).
 */
export class EzidSingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  /** Number of operations in flight. */
  get size(): number {
    return this.inFlight.size;
  }

  /** Runs `fn` for `key`, or joins the run already in flight for it. */
  run(key: string, fn: () => Promise<T>): Promise<T> {
    const id = crypto.createHash('sha256').update(key, 'utf8').digest('base64url');
    const running = this.inFlight.get(id);
    if (running) return running;
    const p = (async () => fn())().finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }
}
