import { Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { EzidError } from '../ezid.errors';

/** Default bound of `EzidInMemoryRevocationList`, in entries. */
export const EZID_REVOCATION_LIST_MAX = 100_000;

/** `revoke()` found the list full of entries that have not expired yet: the revocation was not recorded. */
export class EzidRevocationListFullError extends EzidError {
  constructor() {
    super('The revocation list is full');
  }
}

/**
 * The denylist of tokens this module refuses before they expire (logout, refresh-token reuse).
 * Entries are opaque ids (see `accessTokenRevocationId`, `refreshTokenRevocationId`), never tokens.
 *
 * `isRevoked` is on the hot path of every authenticated request: it must answer from local state,
 * without I/O. A store shared by several instances (Redis) implements it by keeping a local copy
 * fresh by push, and `revoke` by writing to the store and publishing the id. Provide your own with
 * `{ provide: EzidRevocationList, useClass: MyRevocationList }` (or `overrideProvider` in tests).
 */
export abstract class EzidRevocationList {
  /**
   * Refuses `id` until `expiresAtMs` (epoch ms). Throws (or rejects) when the revocation cannot be
   * recorded; the caller then reports a failure rather than a revocation that did not happen.
   */
  abstract revoke(id: string, expiresAtMs: number): void | Promise<void>;

  /** Whether `id` is revoked now. Synchronous, O(1), no I/O. */
  abstract isRevoked(id: string): boolean;

  /**
   * Whether `id` is revoked, asking the shared store when there is one (off the hot path: refresh and
   * logout only), so a revocation another instance has written but not yet pushed here counts.
   * Default: `isRevoked(id)`.
   */
  check(id: string): Promise<boolean> {
    return Promise.resolve(this.isRevoked(id));
  }

  /**
   * Resolves once every revocation recorded so far is visible to every instance; rejects when some are
   * not yet (the store is unavailable). Default: resolves at once (one process).
   */
  flush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * One process's `EzidRevocationList`: a map from id to expiry, O(1) lookups. An entry lives until
 * its expiry (then it is dropped on read or on the next sweep). Bounded by `maxEntries`: when full,
 * expired entries are swept; if none has expired, `revoke()` throws `EzidRevocationListFullError`
 * (fail closed: no live entry is ever evicted early, and the caller reports the failure).
 */
@Injectable()
export class EzidInMemoryRevocationList extends EzidRevocationList {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly maxEntries = EZID_REVOCATION_LIST_MAX,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  /** Number of entries held (expired ones included until swept). */
  get size(): number {
    return this.entries.size;
  }

  revoke(id: string, expiresAtMs: number): void {
    const now = this.now();
    if (!(expiresAtMs > now)) return;
    const prev = this.entries.get(id);
    if (prev !== undefined) {
      if (expiresAtMs > prev) this.entries.set(id, expiresAtMs);
      return;
    }
    if (this.entries.size >= this.maxEntries) {
      for (const [k, exp] of this.entries) if (exp <= now) this.entries.delete(k);
      if (this.entries.size >= this.maxEntries) throw new EzidRevocationListFullError();
    }
    this.entries.set(id, expiresAtMs);
  }

  /** The entries that have not expired, with their expiry (epoch ms). */
  *liveEntries(): IterableIterator<[id: string, expiresAtMs: number]> {
    const now = this.now();
    for (const e of this.entries) if (e[1] > now) yield e;
  }

  isRevoked(id: string): boolean {
    const exp = this.entries.get(id);
    if (exp === undefined) return false;
    if (exp > this.now()) return true;
    this.entries.delete(id);
    return false;
  }
}

/** Longest revocation id a shared store accepts (ids travel in pub/sub messages); every id made here is shorter. */
export const REVOCATION_ID_MAX_LENGTH = 200;

/**
 * The revocation id of an access token: the SHA-256 of its `iss` and `jti` when it has a `jti`, else
 * the SHA-256 of the decoded signature bytes. Never the token string: several strings decode to the
 * same signature (checklist A7), and all of them must be refused. Always a hash: the id has one
 * fixed form across releases (revocations already in a shared store stay valid after an upgrade), a
 * bounded length, and only ASCII (a `jti` that is not well-formed UTF-16 would not come back from
 * Redis as the same string). It costs ~1 µs, against ~35 µs for the signature check it follows.
 */
export function accessTokenRevocationId(
  payload: Readonly<Record<string, unknown>>,
  signature: Buffer,
): string {
  const jti = Object.prototype.hasOwnProperty.call(payload, 'jti') ? payload.jti : undefined;
  if (typeof jti === 'string' && jti.length > 0) {
    return `at:jti:${crypto.hash('sha256', `${String(payload.iss)}\n${jti}`, 'base64url')}`;
  }
  return `at:sig:${crypto.createHash('sha256').update(signature).digest('base64url')}`;
}

/** The family tags the callback controller puts in front of EZiD's refresh tokens. */
const REFRESH_TOKEN_TAGS = ['legacy.', 'api.'] as const;

/**
 * The raw EZiD refresh token inside a tagged one: every leading `legacy.` / `api.` tag removed (however
 * many, in any order). Re-tagging a token (`legacy.<raw>` for an `api.` token, `api.legacy.<raw>`)
 * yields the same canonical token, so it cannot escape reuse detection or a revocation.
 */
export function canonicalRefreshToken(taggedRefreshToken: string): string {
  let raw = taggedRefreshToken;
  for (let stripped = true; stripped;) {
    stripped = false;
    for (const tag of REFRESH_TOKEN_TAGS) {
      if (raw.length > tag.length && raw.startsWith(tag)) {
        raw = raw.slice(tag.length);
        stripped = true;
      }
    }
  }
  return raw;
}

/**
 * The revocation id of a (tagged) refresh token: the SHA-256 of its canonical raw token
 * (`canonicalRefreshToken`), so the list never holds the secret and every representation of one
 * refresh token has one id.
 */
export function refreshTokenRevocationId(taggedRefreshToken: string): string {
  return `rt:${crypto.hash('sha256', canonicalRefreshToken(taggedRefreshToken), 'base64url')}`;
}
