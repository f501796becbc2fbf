import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { BoundedCache } from '../common/bounded-cache';
import { EZID_OBSERVER_OFF, EzidObserver } from '../observer/ezid-observer';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { InjectEzidOptions } from '../ezid.module-definition';
import type { EzidUser } from '../interfaces/ezid-user.interface';
import { EZID_KEY_SOURCE } from './auth.constants';
import { accessTokenRevocationId, EzidRevocationList } from './ezid-revocation-list';
import { EzidKeysUnavailableError, EzidTokenError } from './ezid-token.errors';
import { createEzidUser } from './ezid-user.factory';
import type { EzidKeySource, EzidVerificationKey } from './jwks-key-source';
import { type JwsHeader, type ParsedJws, parseCompactJws } from './jws';

/** A verified token, as kept in the verified-token cache. */
export interface EzidVerifiedToken {
  readonly user: EzidUser;
  readonly key: EzidVerificationKey;
  /** `exp` in ms. */
  readonly expMs: number;
  /** `nbf` in ms, or 0. */
  readonly nbfMs: number;
  /** The token's id in `EzidRevocationList` (`jti`, else the hash of the signature bytes). */
  readonly revocationId: string;
}

const HASH: Record<string, string> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
};

/** Token kinds other than an access token, by header `typ` or Keycloak-style `typ` claim. */
const ACCESS_TYP = new Set(['jwt', 'at+jwt']);
const NON_ACCESS_TYP_CLAIM = new Set(['id', 'refresh', 'logout']);
/** Claims only an ID token carries (OIDC Core §2, §3.1.3.6). */
const ID_TOKEN_CLAIMS = ['nonce', 'at_hash', 'c_hash', 's_hash'];

/** Bound of the verified-token cache, in entries (`token.verifiedCacheMaxBytes` bounds its bytes). */
export const VERIFIED_TOKEN_CACHE_MAX = 10_000;
/**
 * Bytes every verified-token cache entry is accounted for besides its user and its token string: the
 * key, the entry, the map slot, a SHA-256. A kept token string is accounted at one byte per character
 * (a verified token is ASCII).
 */
export const VERIFIED_TOKEN_ENTRY_BYTES = 256;
/**
 * The verified-token cache is keyed by a 30-bit hash of the last `VERIFIED_TOKEN_KEY_CHARS`
 * characters of the token (the end of the signature: ~90 bits that differ from token to token), a
 * small integer V8 hashes at once. The key only picks a slot: every entry identifies the whole token
 * string it verified, the string itself when the entry keeps the user (a hit compares it with `===`,
 * every character), else its SHA-256 (a hit hashes the request's token; it rebuilds the user from
 * the token anyway). Tokens with the same key share a slot (the later verified one takes it); a token
 * that differs in any character is never a hit. The common hit no longer hashes the whole token
 * (~1.5 µs for 1.2 KB).
 */
export const VERIFIED_TOKEN_KEY_CHARS = 16;

/** The verified-token cache slot of `token` (see `VERIFIED_TOKEN_KEY_CHARS`); not a digest. */
export function verifiedTokenSlot(token: string): number {
  let h = 0x811c9dc5;
  for (let i = Math.max(0, token.length - VERIFIED_TOKEN_KEY_CHARS); i < token.length; i++) {
    h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  }
  return h >>> 2;
}
/**
 * Slots of the admission table in front of the verified-token cache (a power of two), in buckets of
 * `VERIFIED_TOKEN_ADMISSION_WAYS`. A token enters the cache on its second verification: the first records
 * its slot in the bucket the slot picks (4 bytes a record), the second finds it there (`admitOnSecondSight`).
 * A token used once (a flood of distinct tokens, a one-off call) then costs its verification and no cache
 * work, leaves nothing behind for the GC to move, and never evicts the cache entries of tokens in use. A
 * token pays one more full verification when it enters the cache without a record.
 */
export const VERIFIED_TOKEN_ADMISSION_SLOTS = 1 << 15;

/**
 * Slots per bucket of the admission table. With one slot per bucket, tokens in use whose hashes pick the
 * same bucket overwrite each other's record when used in turn and are never cached (among 60 tokens some
 * two share a bucket one time in twenty; among 10 000, a quarter of them share one). With four, that
 * takes five tokens of one bucket used in turn: none among 1 000 tokens in use, 3.6 % of them among
 * 10 000 (Poisson estimates).
 */
export const VERIFIED_TOKEN_ADMISSION_WAYS = 4;

/**
 * Admission on second sight (see `VERIFIED_TOKEN_ADMISSION_SLOTS`), for a token verified in full whose
 * cache slot is `slot` (`verifiedTokenSlot`, 30 bits): true if its bucket of `table` holds `slot + 1`,
 * else records `slot + 1` at the front of the bucket, moving the others back into the first empty slot,
 * or dropping the oldest when there is none. An admitted record moves to the back (first to be dropped,
 * as its token is now in the cache; kept so that a token whose entry was dropped is admitted again on
 * its next verification). Internal.
 */
export function admitOnSecondSight(table: Uint32Array, slot: number): boolean {
  const tag = slot + 1;
  const first = (slot & (table.length / VERIFIED_TOKEN_ADMISSION_WAYS - 1)) * VERIFIED_TOKEN_ADMISSION_WAYS;
  const last = first + VERIFIED_TOKEN_ADMISSION_WAYS - 1;
  for (let i = first; i <= last; i++) {
    if (table[i] === tag) {
      for (let j = i; j < last; j++) table[j] = table[j + 1];
      table[last] = tag;
      return true;
    }
  }
  let end = first;
  while (end < last && table[end] !== 0) end++;
  for (let i = end; i > first; i--) table[i] = table[i - 1];
  table[first] = tag;
  return false;
}

/** Largest estimated user object a cache entry keeps; a larger one is rebuilt from the token on each hit. */
export const VERIFIED_TOKEN_USER_MAX_BYTES = 16 * 1024;

/**
 * A verified-token cache entry: what a hit needs and no more. `verified` (the user object) is kept
 * only when its estimated size is at most `VERIFIED_TOKEN_USER_MAX_BYTES`, and then `token` too: the
 * exact string that was verified (a flat copy, so the entry never retains a request's header string).
 * Otherwise `digest` (the SHA-256 of that string) and a hit rebuilds the user from the token string.
 * Either way a hit requires the request's token to be that very string.
 */
interface CacheEntry {
  readonly token?: string;
  readonly digest?: string;
  readonly verified?: EzidVerifiedToken;
  readonly key: EzidVerificationKey;
  readonly expMs: number;
  readonly nbfMs: number;
  readonly revocationId: string;
  /** Bytes accounted for this entry. */
  readonly bytes: number;
}

const entryBytes = (e: CacheEntry): number => e.bytes;

/**
 * A rough upper estimate of the heap a parsed JSON value keeps on 64-bit V8, or `Infinity` once it
 * passes `budget` (the walk stops there).
 */
export function estimateRetainedBytes(value: unknown, budget: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') total += 24 + (Buffer.byteLength(v) === v.length ? 1 : 2) * v.length;
    else if (Array.isArray(v)) {
      total += 32 + 8 * v.length;
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      total += 56;
      for (const k of keys) {
        total += 48 + k.length;
        stack.push((v as Record<string, unknown>)[k]);
      }
    } else total += 16;
    if (total > budget) return Infinity;
  }
  return total;
}

const tokenDigest = (token: string): string => crypto.hash('sha256', token, 'base64');

/** Whether `token` is the very string `entry` verified (every character; a SHA-256 for entries without it). */
function isSameToken(entry: CacheEntry, token: string): boolean {
  return entry.token !== undefined ? entry.token === token : entry.digest === tokenDigest(token);
}

/**
 * A copy of `s` that shares no memory with the string it came from. A token taken out of a header is
 * a slice that keeps the whole header alive; `slice` of a concatenation makes V8 flatten it into a
 * new string first, so the result only keeps that copy (one character longer).
 */
function flatCopy(s: string): string {
  return ` ${s}`.slice(1);
}

/** Deep-freezes a value parsed by `JSON.parse` (plain objects, arrays, primitives). */
export function freezeJson(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) freezeJson(value[i]);
    return;
  }
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) freezeJson(o[k]);
}

/**
 * Deep-freezes a value parsed by `JSON.parse` (plain objects, arrays, primitives) and returns the
 * same estimate as `estimateRetainedBytes(value, Infinity)`, in one walk: the verified-token path
 * freezes the claims (the cached user shares them) and sizes them, and walked them twice before.
 */
export function freezeJsonAndEstimate(value: unknown): number {
  if (typeof value === 'string')
    return 24 + (Buffer.byteLength(value) === value.length ? 1 : 2) * value.length;
  if (value === null || typeof value !== 'object') return 16;
  Object.freeze(value);
  if (Array.isArray(value)) {
    let total = 32 + 8 * value.length;
    for (let i = 0; i < value.length; i++) total += freezeJsonAndEstimate(value[i]);
    return total;
  }
  let total = 56;
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) total += 48 + k.length + freezeJsonAndEstimate(o[k]);
  return total;
}

function normTyp(typ: string): string {
  const t = typ.toLowerCase();
  return t.startsWith('application/') ? t.slice('application/'.length) : t;
}

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * Verifies EZiD access tokens with exactly the rules of `EzidAuthGuard` (it is what the guard and
 * `EzidJwtStrategy` call). Use it outside HTTP: WebSocket handshakes, queue consumers, scripts.
 *
 * Rules, in order (no I/O before the key lookup, so rejected tokens never cause a JWKS fetch):
 * length cap and JWS compact-charset check before any decoding, canonical base64url, header
 * (JSON object, no duplicate members, `alg` in the allow-list, no `crit`, `typ`), claims (`iss`,
 * `aud`, `azp`/`client_id` bound to `token.authorizedParty`, `sub`, numeric finite
 * `exp`/`iat`/`nbf` with the clock tolerance, maximum lifetime, not an ID token), then the key
 * (`kid` from the JWKS or the static PEM; `jku`, `x5u`, `jwk` and `x5c` are never used) and the
 * signature (`crypto.verify` with a cached `KeyObject`). A token on the `EzidRevocationList`
 * (logout) is refused with `token_revoked`, also when it is in the verified-token cache.
 *
 * @example
 * ```ts
 * const user = await verifier.verify(token); // throws EzidTokenError (401) or EzidKeysUnavailableError (503)
 * ```
 */
@Injectable()
export class EzidTokenVerifier {
  private readonly logger = new Logger('EzidTokenVerifier');
  private readonly cache: BoundedCache<number, CacheEntry>;
  /** Admission table (`admitOnSecondSight`): `slot + 1` of tokens verified in full once; 0 = empty. */
  private readonly seen = new Uint32Array(VERIFIED_TOKEN_ADMISSION_SLOTS);
  private readonly algorithms: ReadonlySet<string>;
  private readonly issuers: ReadonlySet<string>;
  private readonly audiences?: ReadonlySet<string>;
  private readonly parties: ReadonlySet<string>;
  private readonly requireParty: boolean;
  private readonly toleranceMs: number;
  private readonly tolerance: number;
  private readonly maxLifetime: number;
  private readonly maxBytes: number;
  private readonly typ?: string;
  private readonly clientId: string;
  private readonly observer: EzidObserver;

  constructor(
    @InjectEzidOptions() options: ResolvedEzidOptions,
    @Inject(EZID_KEY_SOURCE) private readonly keys: EzidKeySource,
    @Optional() private readonly revocations?: EzidRevocationList,
    @Optional() observer?: EzidObserver,
  ) {
    this.observer = observer ?? EZID_OBSERVER_OFF;
    const t = options.token;
    this.algorithms = new Set(t.algorithms);
    this.issuers = new Set(t.issuer);
    this.audiences = t.audience ? new Set(t.audience) : undefined;
    this.parties = new Set(t.authorizedParty);
    this.requireParty = t.requireAuthorizedParty;
    this.tolerance = t.clockToleranceSec;
    this.toleranceMs = t.clockToleranceSec * 1000;
    this.maxLifetime = t.maxLifetimeSec;
    this.maxBytes = t.maxTokenBytes;
    this.typ = t.typ ? normTyp(t.typ) : undefined;
    this.clientId = options.clientId;
    this.cache = new BoundedCache<number, CacheEntry>(VERIFIED_TOKEN_CACHE_MAX, {
      maxBytes: t.verifiedCacheMaxBytes,
      sizeOf: entryBytes,
    });
  }

  /**
   * Verifies a raw access token (no `Bearer ` prefix) and returns the user it names.
   * Rejects with `EzidTokenError` (`code`: `token_malformed`, `token_expired`, `token_invalid`, `token_revoked`) or
   * `EzidKeysUnavailableError` when the signing keys cannot be obtained. Rejections are logged at
   * debug level, without the token.
   */
  async verify(token: string): Promise<EzidUser> {
    try {
      return (await this.verifyToken(token)).user;
    } catch (err) {
      logRejection(this.logger, err, 'EzidTokenVerifier.verify');
      throw err;
    }
  }

  /**
   * Whether `token` is, character for character, a token this verifier verified and keeps in its cache
   * with the user. Checks nothing else (`verifyToken` checks expiry, key and revocation). A verified
   * token is a compact JWS, so such a string is a well-formed bearer token: the guard skips scanning
   * the `Authorization` header's characters for it. Internal.
   */
  isCachedToken(token: string): boolean {
    const hit = this.cache.get(verifiedTokenSlot(token));
    return hit?.token !== undefined && hit.token === token;
  }

  /**
   * The hot path behind `verify()`: returns synchronously when the key is cached (no I/O, no
   * promise), a promise only when a JWKS fetch is needed. Does not log. Used by the guard.
   */
  verifyToken(token: string): EzidVerifiedToken | Promise<EzidVerifiedToken> {
    if (typeof token !== 'string' || token.length === 0) throw new EzidTokenError('token_missing', 'empty');
    if (token.length > this.maxBytes) throw new EzidTokenError('token_malformed', 'too_long');
    const id = verifiedTokenSlot(token);
    const hit = this.cache.get(id);
    // Only the very string that was verified is a hit; another token ending alike is verified in full.
    if (hit !== undefined && isSameToken(hit, token)) {
      const now = Date.now();
      if (
        now < hit.expMs + this.toleranceMs &&
        now + this.toleranceMs >= hit.nbfMs &&
        this.keys.isCurrent(hit.key)
      ) {
        if (this.observer.active) this.observer.tokenCacheLookup(true);
        if (this.revocations?.isRevoked(hit.revocationId))
          throw new EzidTokenError('token_revoked', 'revoked');
        return hit.verified ?? this.rebuild(token, hit);
      }
      this.cache.delete(id);
    }
    if (this.observer.active) this.observer.tokenCacheLookup(false);
    const jws = parseCompactJws(token, this.maxBytes);
    const kid = jws.header.kid;
    try {
      this.checkHeader(jws.header);
      this.checkClaims(jws.payload);
      const revocationId = accessTokenRevocationId(jws.payload, jws.signature);
      if (this.revocations?.isRevoked(revocationId)) throw new EzidTokenError('token_revoked', 'revoked');
      const key = this.keys.getKey(kid, jws.header.alg);
      if (key instanceof Promise) return key.then((k) => this.finish(token, id, jws, k, revocationId));
      return this.finish(token, id, jws, key, revocationId);
    } catch (e) {
      if (e instanceof EzidTokenError) e.kid = kid;
      throw e;
    }
  }

  private finish(
    token: string,
    id: number,
    jws: ParsedJws,
    key: EzidVerificationKey,
    revocationId: string,
  ): EzidVerifiedToken {
    if (!verifySignature(jws, key)) {
      const err = new EzidTokenError('token_invalid', 'signature_invalid');
      err.kid = jws.header.kid;
      throw err;
    }
    const p = jws.payload;
    // Admission: cached on its second full verification (see VERIFIED_TOKEN_ADMISSION_SLOTS).
    const admit = admitOnSecondSight(this.seen, id);
    // Frozen before createEzidUser (which then finds the claims frozen and skips its own walk); sized
    // only when the entry is cached.
    let claimsBytes = 0;
    if (admit) claimsBytes = freezeJsonAndEstimate(p);
    else freezeJson(p);
    const verified: EzidVerifiedToken = Object.freeze({
      user: createEzidUser(p),
      key,
      expMs: (p.exp as number) * 1000,
      nbfMs: typeof p.nbf === 'number' ? p.nbf * 1000 : 0,
      revocationId,
    });
    if (!admit) return verified;
    // The user (claims and mapped tenants) is kept only when small; the token itself never is.
    const userBytes =
      claimsBytes > VERIFIED_TOKEN_USER_MAX_BYTES / 1.5 ? Infinity : Math.ceil(claimsBytes * 1.5);
    const keep = userBytes <= VERIFIED_TOKEN_USER_MAX_BYTES;
    this.cache.set(
      id,
      Object.freeze({
        token: keep ? flatCopy(token) : undefined,
        digest: keep ? undefined : tokenDigest(token),
        verified: keep ? verified : undefined,
        key,
        expMs: verified.expMs,
        nbfMs: verified.nbfMs,
        revocationId,
        bytes: VERIFIED_TOKEN_ENTRY_BYTES + (keep ? token.length + userBytes : 0),
      }),
    );
    return verified;
  }

  /** A cache hit whose entry keeps no user: the user again from this (already verified) token string. */
  private rebuild(token: string, hit: CacheEntry): EzidVerifiedToken {
    return Object.freeze({
      user: createEzidUser(parseCompactJws(token, this.maxBytes).payload),
      key: hit.key,
      expMs: hit.expMs,
      nbfMs: hit.nbfMs,
      revocationId: hit.revocationId,
    });
  }

  private checkHeader(h: JwsHeader): void {
    // Exact, case-sensitive match: "none", "NONE", "HS256" and anything unlisted never reach a key.
    if (!this.algorithms.has(h.alg)) throw new EzidTokenError('token_invalid', 'alg_not_allowed');
    if (this.typ !== undefined) {
      if (h.typ === undefined || normTyp(h.typ) !== this.typ)
        throw new EzidTokenError('token_invalid', 'typ_mismatch');
    } else if (h.typ !== undefined && !ACCESS_TYP.has(normTyp(h.typ))) {
      throw new EzidTokenError('token_invalid', 'typ_not_access_token');
    }
  }

  /** Claim rules (see the class doc). Throws `EzidTokenError`. */
  private checkClaims(p: Readonly<Record<string, unknown>>): void {
    const now = Date.now() / 1000;
    const exp = own(p, 'exp') ? p.exp : undefined;
    const iat = own(p, 'iat') ? p.iat : undefined;
    if (typeof exp !== 'number' || !Number.isFinite(exp))
      throw new EzidTokenError('token_invalid', 'exp_invalid');
    if (typeof iat !== 'number' || !Number.isFinite(iat))
      throw new EzidTokenError('token_invalid', 'iat_invalid');
    if (own(p, 'nbf') && (typeof p.nbf !== 'number' || !Number.isFinite(p.nbf))) {
      throw new EzidTokenError('token_invalid', 'nbf_invalid');
    }
    const iss = own(p, 'iss') ? p.iss : undefined;
    if (typeof iss !== 'string' || !this.issuers.has(iss))
      throw new EzidTokenError('token_invalid', 'iss_mismatch');
    const aud = own(p, 'aud') ? p.aud : undefined;
    if (this.audiences) {
      if (!audienceMatches(aud, this.audiences)) throw new EzidTokenError('token_invalid', 'aud_mismatch');
    } else if (aud !== undefined) {
      // No audience configured (EZiD access tokens carry none): an `aud` naming an authorized client is
      // an ID token (OIDC Core §2); any other names someone else's token.
      throw new EzidTokenError(
        'token_invalid',
        audienceMatches(aud, this.parties) || audienceMatches(aud, new Set([this.clientId]))
          ? 'id_token_audience'
          : 'aud_foreign',
      );
    }
    const hasAzp = checkPartyClaim(p, 'azp', this.parties);
    const hasClientId = checkPartyClaim(p, 'client_id', this.parties);
    if (!hasAzp && !hasClientId && !this.audiences && this.requireParty) {
      throw new EzidTokenError('token_invalid', 'unbound');
    }
    const sub = own(p, 'sub') ? p.sub : undefined;
    if (typeof sub !== 'string' || sub.length === 0) throw new EzidTokenError('token_invalid', 'sub_invalid');
    for (const c of ID_TOKEN_CLAIMS)
      if (own(p, c)) throw new EzidTokenError('token_invalid', 'id_token_claims');
    if (own(p, 'typ') && (typeof p.typ !== 'string' || NON_ACCESS_TYP_CLAIM.has(p.typ.toLowerCase()))) {
      throw new EzidTokenError('token_invalid', 'typ_claim_not_access');
    }
    if (iat > now + this.tolerance) throw new EzidTokenError('token_invalid', 'iat_future');
    if (exp < iat || exp - iat > this.maxLifetime)
      throw new EzidTokenError('token_invalid', 'lifetime_too_long');
    if (own(p, 'nbf') && (p.nbf as number) > now + this.tolerance)
      throw new EzidTokenError('token_invalid', 'nbf_future');
    if (now >= exp + this.tolerance) throw new EzidTokenError('token_expired', 'expired');
  }
}

/**
 * `azp` / `client_id`, when present, must be a non-empty string naming an authorized party
 * (cross-client replay). Returns whether the claim is present.
 */
function checkPartyClaim(
  p: Readonly<Record<string, unknown>>,
  name: string,
  parties: ReadonlySet<string>,
): boolean {
  if (!own(p, name)) return false;
  const v = p[name];
  if (typeof v !== 'string' || v.length === 0) throw new EzidTokenError('token_invalid', `${name}_invalid`);
  if (!parties.has(v)) throw new EzidTokenError('token_invalid', `${name}_mismatch`);
  return true;
}

function audienceMatches(aud: unknown, accepted: ReadonlySet<string>): boolean {
  if (typeof aud === 'string') return accepted.has(aud);
  if (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string')) {
    return aud.some((a) => accepted.has(a as string));
  }
  return false;
}

const PSS = {
  padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
  saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST,
};

/**
 * The verifier's signature check, exported so the Wycheproof suite drives this very function:
 * RS256/384/512 (RSASSA-PKCS1-v1_5) or PS256/384/512 (RSASSA-PSS, MGF1 with the same hash, salt =
 * hash length, RFC 7518 §3.5) over the bytes of `signingInput`, with `crypto.verify`. The signature
 * must be exactly the modulus length in bytes. Never throws: `false` for anything unverifiable.
 */
export function verifySignature(
  jws: Pick<ParsedJws, 'header' | 'signingInput' | 'signature'>,
  vk: Pick<EzidVerificationKey, 'key'>,
): boolean {
  const alg = jws.header.alg;
  const hash = Object.hasOwn(HASH, alg) ? HASH[alg] : undefined;
  if (!hash) return false;
  const bits = vk.key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits === 0 || jws.signature.length !== (bits + 7) >> 3) return false;
  const data = Buffer.from(jws.signingInput, 'latin1');
  try {
    return alg.charCodeAt(0) === 0x50 /* P */
      ? crypto.verify(hash, data, { key: vk.key, ...PSS }, jws.signature)
      : crypto.verify(hash, data, vk.key, jws.signature);
  } catch {
    return false;
  }
}

/** Escapes a `kid` for a log line: printable ASCII only, bounded. */
export function safeKid(kid: unknown): string | undefined {
  if (typeof kid !== 'string') return undefined;
  return JSON.stringify(kid.length > 64 ? `${kid.slice(0, 64)}…` : kid).replace(/[^\x20-\x7e]/g, '?');
}

/** Logs a rejection at debug level: reason code, route, escaped kid; never the token. */
export function logRejection(logger: Logger, err: unknown, route: string): void {
  if (err instanceof EzidTokenError) {
    logger.debug({
      event: 'token_rejected',
      code: err.code,
      reason: err.reason,
      route,
      kid: safeKid(err.kid),
    });
  } else if (err instanceof EzidKeysUnavailableError) {
    logger.debug({ event: 'token_rejected', code: 'idp_unavailable', reason: err.reason, route });
  } else {
    const name = (err as { name?: string })?.name ?? 'unknown';
    logger.warn({ event: 'token_rejected', code: 'token_invalid', reason: `internal_${name}`, route });
  }
}
