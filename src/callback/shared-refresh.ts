import * as crypto from 'node:crypto';
import type { EzidStore } from '../store/ezid-store';

/** A session as the store keeps it (sealed): the user is rebuilt by verifying the access token again. */
export interface EzidSharedSession {
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly expiresAtMs: number;
}

/** A rotation record as the store keeps it: revocation ids (hashes) only, never a token. */
export interface EzidSharedRotation {
  readonly refreshId?: string;
  readonly accessId?: string;
  readonly accessExpMs: number;
  /** The user of the rotated session (`sub`), named in the audit event of a reuse. */
  readonly userId?: string;
}

/** How long a rotation's result is kept for the instances that were waiting on its lock. */
const RESULT_TTL_MS = 5_000;
const CHANNEL = 'refreshed';
/** Prefix of a lock whose rotation's upstream call has returned. */
const DONE = 'done:';

/**
 * Refresh-token rotation across instances, on a shared `EzidStore` (docs/scaling.md):
 * - a lock per refresh token (`SET NX PX`), so one instance calls EZiD while the others wait;
 * - the result slot the requests that found the lock while the upstream call was in flight read (keyed by
 *   that lock's value, which they read atomically with their failed attempt; once the call has returned
 *   the lock says so, and a request arriving then waits for the release and decides from the rotation
 *   record: reuse, or the grace window);
 * - the rotation records (reuse detection) and grace sessions every instance reads.
 * Tokens never reach the store in clear: results and grace sessions are sealed (AES-256-GCM) with a
 * key derived (HKDF-SHA256) from the refresh token they answer, so only a holder of that token can
 * open them; keys are the token's revocation id (a SHA-256), never the token.
 */
export class EzidSharedRefresh {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly store: EzidStore,
    private readonly lockTtlMs: number,
  ) {
    store.subscribe(CHANNEL, (id) => {
      for (const w of this.waiters.get(id) ?? []) w();
    });
  }

  /**
   * Takes the lock of refresh token `id`. `{ held }`: this instance holds it (its value). `{ other }`:
   * another request holds it, with the lock's value read in the same atomic step: an in-flight rotation's
   * id, or `done:<id>` once that rotation's upstream call has returned.
   */
  async lock(id: string): Promise<{ held: string } | { other: string }> {
    const value = crypto.randomUUID();
    const other = await this.store.setIfAbsent(`refresh:lock:${id}`, value, this.lockTtlMs);
    return other === undefined ? { held: value } : { other };
  }

  /**
   * The upstream call of the rotation holding `value` has returned: from now on a request that finds the
   * lock is late (it waits for the release, then decides from the rotation record) and never reads the
   * result. Resolves the lock's new value.
   */
  async markDone(id: string, value: string): Promise<string> {
    const done = `${DONE}${value}`;
    return (await this.store.replace(`refresh:lock:${id}`, value, done, this.lockTtlMs)) ? done : value;
  }

  /**
   * Releases one's own lock, in flight or `done:` (a `markDone` that timed out here may still have
   * landed in the store), and wakes the instances waiting on it.
   */
  async unlock(id: string, value: string): Promise<void> {
    const inFlight = value.startsWith(DONE) ? value.slice(DONE.length) : value;
    await this.store.delete(`refresh:lock:${id}`, `${DONE}${inFlight}`);
    await this.store.delete(`refresh:lock:${id}`, inFlight);
    await this.store.publish(CHANNEL, id);
  }

  /**
   * Leaves the rotation's new session for the requests that found the lock while its upstream call was in
   * flight: keyed by that lock's value (which only they read), sealed with the old token.
   */
  async putResult(
    id: string,
    value: string,
    rawRefreshToken: string,
    session: EzidSharedSession,
  ): Promise<void> {
    const sealed = seal(rawRefreshToken, 'result', JSON.stringify(session));
    await this.store.set(`refresh:result:${id}:${value}`, sealed, RESULT_TTL_MS);
  }

  /**
   * Waits for the request holding `id`'s lock with value `other` (from `lock()`): the session it rotated
   * into when `other` was an in-flight rotation that produced one; `released` when the lock was released
   * without one (or `other` was already `done:`: a late request never reads a result), after which the
   * caller takes the lock and decides from the rotation record; `timeout` when the lock outlived
   * `lockTtlMs` (its holder died).
   */
  async awaitResult(
    id: string,
    other: string,
    rawRefreshToken: string,
  ): Promise<EzidSharedSession | 'released' | 'timeout'> {
    const late = other.startsWith(DONE);
    const resultKey = `refresh:result:${id}:${other}`;
    let wake!: () => void;
    let woken = new Promise<void>((r) => (wake = r));
    const listener = (): void => wake();
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    set.add(listener);
    const deadline = Date.now() + this.lockTtlMs;
    const result = async (): Promise<EzidSharedSession | 'released' | undefined> => {
      if (late) return undefined;
      const sealed = await this.store.get(resultKey);
      if (sealed === undefined) return undefined;
      const session = open(rawRefreshToken, 'result', sealed);
      return session ? (JSON.parse(session) as EzidSharedSession) : 'released';
    };
    try {
      for (;;) {
        const r = await result();
        if (r !== undefined) return r;
        const now = await this.store.get(`refresh:lock:${id}`);
        if (now !== other && now !== `${DONE}${other}`) return (await result()) ?? 'released';
        const left = deadline - Date.now();
        if (left <= 0) return 'timeout';
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          woken.then(() => false),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(true), left))),
        ]);
        clearTimeout(timer);
        if (timedOut) return 'timeout';
        woken = new Promise<void>((r) => (wake = r));
      }
    } finally {
      set.delete(listener);
      if (set.size === 0) this.waiters.delete(id);
    }
  }

  async getRotation(id: string): Promise<EzidSharedRotation | undefined> {
    const v = await this.store.get(`refresh:rotation:${id}`);
    if (v === undefined) return undefined;
    try {
      const r = JSON.parse(v) as Partial<EzidSharedRotation>;
      return typeof r.accessExpMs === 'number'
        ? {
            refreshId: typeof r.refreshId === 'string' ? r.refreshId : undefined,
            accessId: typeof r.accessId === 'string' ? r.accessId : undefined,
            accessExpMs: r.accessExpMs,
            userId: typeof r.userId === 'string' ? r.userId : undefined,
          }
        : undefined;
    } catch {
      return undefined;
    }
  }

  async putRotation(id: string, rotation: EzidSharedRotation, ttlMs: number): Promise<void> {
    await this.store.set(`refresh:rotation:${id}`, JSON.stringify(rotation), ttlMs);
  }

  async deleteRotation(id: string): Promise<void> {
    await this.store.delete(`refresh:rotation:${id}`);
  }

  /** The grace session of `id`, sealed with the exact (tagged) refresh-token string it answers. */
  async getGrace(
    id: string,
    exact: string,
  ): Promise<{ client: string; session: EzidSharedSession } | undefined> {
    const sealed = await this.store.get(`refresh:grace:${id}`);
    const plain = sealed === undefined ? undefined : open(exact, 'grace', sealed);
    return plain === undefined
      ? undefined
      : (JSON.parse(plain) as { client: string; session: EzidSharedSession });
  }

  async putGrace(
    id: string,
    exact: string,
    client: string,
    session: EzidSharedSession,
    ttlMs: number,
  ): Promise<void> {
    await this.store.set(
      `refresh:grace:${id}`,
      seal(exact, 'grace', JSON.stringify({ client, session })),
      ttlMs,
    );
  }

  async deleteGrace(id: string): Promise<void> {
    await this.store.delete(`refresh:grace:${id}`);
  }
}

function keyOf(secret: string, purpose: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', secret, 'nestjs-ezid/shared-refresh', purpose, 32));
}

/** AES-256-GCM under a key derived from `secret`: `iv.ciphertext.tag`, base64url. */
function seal(secret: string, purpose: string, plaintext: string): string {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', keyOf(secret, purpose), iv);
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return [iv, ct, c.getAuthTag()].map((b) => b.toString('base64url')).join('.');
}

/** Opens `seal`'s output; `undefined` when the secret differs or the value was tampered with. */
function open(secret: string, purpose: string, sealed: string): string | undefined {
  const [iv, ct, tag] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  if (!iv || !ct || !tag || iv.length !== 12 || tag.length !== 16) return undefined;
  try {
    const d = crypto.createDecipheriv('aes-256-gcm', keyOf(secret, purpose), iv);
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ct), d.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
