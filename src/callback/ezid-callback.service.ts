import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import * as crypto from 'node:crypto';
import {
  canonicalRefreshToken,
  EzidRevocationList,
  EzidRevocationListFullError,
  refreshTokenRevocationId,
} from '../auth/ezid-revocation-list';
import { EzidKeysUnavailableError, EzidTokenError } from '../auth/ezid-token.errors';
import { EzidTokenVerifier } from '../auth/ezid-token-verifier';
import { EzidApiError, EzidUnavailableError } from '../client/ezid-api.error';
import { EzidService } from '../client/ezid.service';
import type { EzidTokenSet } from '../client/ezid.types';
import { ExpiringMap } from '../common/expiring-map';
import { EzidHttpException } from '../common/ezid-http.exception';
import { EZID_MONOTONIC_CLOCK, type EzidMonotonicClock } from '../common/monotonic-clock';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { InjectEzidOptions } from '../ezid.module-definition';
import type { EzidUser } from '../interfaces/ezid-user.interface';
import { EzidStore } from '../store/ezid-store';
import {
  EZID_REFRESH_COOKIE_MAX_AGE_SEC,
  EZID_LOCAL_REFUSALS_MAX_ENTRIES,
  EZID_REUSE_GRACE_DEFAULT_SEC,
  EZID_REUSE_GRACE_MAX_ENTRIES,
  EZID_ROTATION_DEFAULT_MAX_ENTRIES,
  EZID_ROTATION_DEFAULT_TTL_SEC,
} from './callback.constants';
import { type EzidSharedSession, EzidSharedRefresh } from './shared-refresh';
import { EzidSingleFlight } from './single-flight';
import { auditSubjectOf, withAuditSubject } from '../audit/audit-subject';

/** Which EZiD API issued a refresh token: `legacy` (`api.ezid.io` email link) or `api` (status, codes, SSO). */
export type EzidRefreshFamily = 'legacy' | 'api';

/** A verified sign-in: what the callback, verify and refresh routes hand back. */
export interface EzidSession {
  /** The EZiD access token, verified with `EzidTokenVerifier`. */
  readonly accessToken: string;
  /** The refresh token, tagged with the API that issued it (`legacy.` / `api.`): pass it back unchanged. */
  readonly refreshToken?: string;
  readonly tokenType: 'Bearer';
  /** When the access token expires. */
  readonly expiresAt: Date;
  /** The user the access token names. */
  readonly user: EzidUser;
}

/** What went wrong is decided per phase: a bad code (400), an ended session (401), bad input (400). */
export type EzidCallbackPhase = 'exchange' | 'refresh' | 'start';

const UNAVAILABLE_CODES = new Set(['redirect_not_followed', 'response_too_large', 'invalid_response']);

/** Tags a raw refresh token with the API that issued it. */
export function tagRefreshToken(family: EzidRefreshFamily, raw: string | undefined): string | undefined {
  return raw ? `${family}.${raw}` : undefined;
}

/** Splits a tagged refresh token; `undefined` when it carries no known tag. */
export function untagRefreshToken(tagged: string): { family: EzidRefreshFamily; raw: string } | undefined {
  const dot = tagged.indexOf('.');
  const family = tagged.slice(0, dot);
  const raw = tagged.slice(dot + 1);
  if (dot <= 0 || raw.length === 0 || (family !== 'legacy' && family !== 'api')) return undefined;
  return { family, raw };
}

/**
 * Maps any failure of an EZiD call or of token verification to a stable HTTP error:
 * - EZiD unreachable, timing out, answering 5xx, a redirect, an oversized or non-JSON body, or
 *   refusing our client credentials: 503 `idp_unavailable` with `Retry-After`;
 * - EZiD refusing the code/state: 400 `invalid_code` (`exchange`), the refresh token: 401
 *   `session_expired` (`refresh`), the input: 400 `invalid_request` (`start`);
 * - a token EZiD returned that does not verify: 401 `token_invalid` (`session_expired` on refresh);
 * - signing keys unavailable: 503.
 * Never EZiD's body or reason, never a 500.
 */
export function toEzidHttpError(err: unknown, phase: EzidCallbackPhase, logger?: Logger): EzidHttpException {
  if (err instanceof EzidHttpException) return err;
  const unavailable = (reason: string, retry = 5): EzidHttpException => {
    logger?.warn({ event: 'ezid_unavailable', phase, reason });
    return new EzidHttpException(
      503,
      'idp_unavailable',
      'The identity provider is unavailable; retry later',
      {
        'Retry-After': String(retry),
      },
    );
  };
  if (err instanceof EzidUnavailableError) return unavailable(`${err.endpoint}:${err.kind}`);
  if (err instanceof EzidKeysUnavailableError) return unavailable(`keys:${err.reason}`, err.retryAfterSec);
  if (err instanceof EzidApiError) {
    const label = `${err.endpoint}:${err.status}:${err.code}`;
    if (err.status >= 500 || err.status === 429 || UNAVAILABLE_CODES.has(err.code)) return unavailable(label);
    if (/client/i.test(err.code) || /client/i.test(err.reason)) {
      logger?.error({ event: 'ezid_client_rejected', phase, endpoint: err.endpoint, status: err.status });
      return unavailable(label);
    }
    logger?.debug({
      event: 'ezid_refused',
      phase,
      endpoint: err.endpoint,
      status: err.status,
      code: err.code,
    });
    if (phase === 'refresh') return sessionExpired();
    if (phase === 'start') return new EzidHttpException(400, 'invalid_request', 'EZiD refused the request');
    return new EzidHttpException(400, 'invalid_code', 'The code is invalid, expired or already used');
  }
  if (err instanceof EzidTokenError) {
    logger?.warn({ event: 'ezid_token_rejected', phase, code: err.code, reason: err.reason });
    if (phase === 'refresh') return sessionExpired();
    return new EzidHttpException(
      401,
      'token_invalid',
      'The identity provider returned a token that could not be verified',
    );
  }
  logger?.error({
    event: 'callback_internal_error',
    phase,
    name: (err as { name?: string })?.name ?? typeof err,
  });
  return unavailable('internal');
}

/** 401 `refresh_token_reused`: a refresh token that was already rotated was presented again. */
export function refreshTokenReused(): EzidHttpException {
  return new EzidHttpException(
    401,
    'refresh_token_reused',
    'The refresh token was already used; the session has ended, sign in again',
  );
}

/**
 * 409 `refresh_superseded`: the exact refresh token was rotated moments ago by this same client
 * (another tab won the race). No tokens, nothing revoked: use the session that request received.
 */
export function refreshSuperseded(): EzidHttpException {
  return new EzidHttpException(
    409,
    'refresh_superseded',
    'This refresh token was just rotated by another request from this client; use the session it returned',
  );
}

/**
 * Reuse was detected but the revocation list could not record every revocation it implies: the
 * presenter still gets 401 `refresh_token_reused`; a logout answers 503 `revocation_unavailable`.
 */
class IncompleteReuseRevocation extends Error {
  override readonly name = 'IncompleteReuseRevocation';
}

/** Rotation-eviction warnings are logged at most this often (monotonic ms). */
const EVICTION_LOG_INTERVAL_MS = 60_000;

/** What a rotation led to: the successor session's revocation ids. */
interface EzidRotation {
  readonly refreshId?: string;
  readonly accessId?: string;
  readonly accessExpMs: number;
  readonly userId?: string;
}

/** What a rotation gives: the new session, or (`superseded`) the one the same client just received. */
interface EzidRotationResult {
  readonly session: EzidSession;
  readonly superseded: boolean;
}

/** The credentials `EzidCallbackService.logout()` revokes. */
export interface EzidLogoutCredentials {
  /** The session's access token (verified before it is put on the revocation list). */
  readonly accessToken?: string;
  /** The session's (tagged) refresh token. */
  readonly refreshToken?: string;
}

/** 401 `session_expired`. */
export function sessionExpired(message = 'The session has ended; sign in again'): EzidHttpException {
  return new EzidHttpException(401, 'session_expired', message);
}

/**
 * The backend half of EZiD's login, without HTTP: starts logins, exchanges codes and states,
 * refreshes (one upstream refresh per refresh token at a time), and verifies every token EZiD
 * returns with `EzidTokenVerifier` before returning it. Used by `EzidCallbackController`; usable
 * from custom controllers and resolvers.
 */
@Injectable()
export class EzidCallbackService {
  private readonly logger = new Logger('EzidCallback');
  private readonly refreshes = new EzidSingleFlight<EzidRotationResult>();
  /**
   * Rotation records (reuse detection), kept apart from the revocation list: bounded, evictable (oldest
   * first) and expiring, so rotations never consume the fail-closed list's capacity.
   */
  private readonly rotated: ExpiringMap<EzidRotation>;
  /**
   * The successor session of each rotation, for `reuseGraceSec` only, with the hash of the exact
   * refresh token that was rotated: only that string gets it back. Absent when the grace is off.
   */
  private readonly graces?: ExpiringMap<{
    readonly exact: string;
    readonly client: string;
    readonly session: EzidSession;
  }>;
  /**
   * Refresh ids this process revoked (reuse detection, logout), marked synchronously before any
   * write to the revocation list: a rotation in flight re-checks here too, so an `EzidRevocationList`
   * whose `isRevoked()` catches up only after its write completes cannot let a successor escape.
   */
  private readonly revokedHere: ExpiringMap<true>;
  /**
   * Refresh ids of logouts that could not be completed (EZiD could not validate the token, or the
   * revocation list was full): refused by this process from then on, without calling EZiD. Bounded
   * and evictable (an anonymous caller can add junk ids here; it cannot fill the fail-closed list).
   */
  private readonly logoutPending: ExpiringMap<true>;
  private evicted = { count: 0, youngestAgeMs: Infinity, loggedAt: -Infinity };
  /** Rotation across instances when the store is shared (`store: { redis }`); else `undefined`. */
  private readonly shared?: EzidSharedRefresh;
  private readonly rotationTtlMs: number;
  private lockTtlMs = 0;
  private readonly graceTtlMs: number;
  private sharedDown = false;
  /**
   * Store writes of a rotation that failed on a store fault (the rotation record, the grace session,
   * the result, the lock's release), replayed in order when the store is available again, each until
   * it would no longer matter, so a brief Redis stall does not strand the requests waiting on the lock
   * nor lose the record that detects reuse on other instances.
   */
  private readonly replay: Array<{ readonly op: () => Promise<unknown>; readonly untilMs: number }> = [];
  private draining = false;

  constructor(
    @InjectEzidOptions() private readonly options: ResolvedEzidOptions,
    private readonly ezid: EzidService,
    private readonly verifier: EzidTokenVerifier,
    private readonly revocations: EzidRevocationList,
    @Inject(EZID_MONOTONIC_CLOCK) private readonly clock: EzidMonotonicClock,
    @Optional() store?: EzidStore,
  ) {
    const r = options.callback
      ? options.callback.refresh
      : {
          rotationTtlSec: EZID_ROTATION_DEFAULT_TTL_SEC,
          rotationMaxEntries: EZID_ROTATION_DEFAULT_MAX_ENTRIES,
          reuseGraceSec: EZID_REUSE_GRACE_DEFAULT_SEC,
        };
    this.rotated = new ExpiringMap({
      maxEntries: r.rotationMaxEntries,
      ttlMs: r.rotationTtlSec * 1000,
      clock,
      onEvict: (ageMs) => this.rotationEvicted(ageMs),
    });
    const local = {
      maxEntries: EZID_LOCAL_REFUSALS_MAX_ENTRIES,
      ttlMs: EZID_REFRESH_COOKIE_MAX_AGE_SEC * 1000,
      clock,
    };
    this.revokedHere = new ExpiringMap(local);

    // The lock outlives the upstream call's deadline plus the new token's verification (a JWKS fetch
    // at most), so a slow answer never lets a second instance call EZiD with the same token.
    if (store?.shared) {
      this.lockTtlMs = options.http.timeoutMs + options.token.jwks.timeoutMs + 5_000;
      this.shared = new EzidSharedRefresh(store, this.lockTtlMs);
      store.onAvailable(() => void this.drainReplay());
    }
    this.rotationTtlMs = r.rotationTtlSec * 1000;
    this.graceTtlMs = r.reuseGraceSec * 1000;
    this.logoutPending = new ExpiringMap(local);
    if (r.reuseGraceSec > 0) {
      this.graces = new ExpiringMap({
        maxEntries: Math.min(r.rotationMaxEntries, EZID_REUSE_GRACE_MAX_ENTRIES),
        ttlMs: r.reuseGraceSec * 1000,
        clock,
      });
    }
  }

  /** Rotation records held now (each one is a superseded refresh token watched for reuse). */
  get rotationRecords(): number {
    return this.rotated.size;
  }

  /** Whether the legacy `api.ezid.io` email link (needs `clientSecret`) is used for magic links. */
  get usesLegacyEmailLink(): boolean {
    return !!this.options.clientSecret;
  }

  /** Legacy email link: `code` → `POST /email-link/verify` (with the client secret). */
  exchangeEmailLinkCode(code: string): Promise<EzidSession> {
    return this.run('exchange', 'email_link', async () => {
      const t = await this.ezid.legacy.emailLinkVerify(code);
      return this.session('legacy', {
        accessToken: t.accessToken,
        refreshToken: t.refreshToken,
        tokenType: 'Bearer',
      });
    });
  }

  /** Magic link: `state` → status. 401 `login_pending` until the link is clicked. */
  exchangeMagicLinkState(state: string): Promise<EzidSession> {
    return this.run('exchange', 'magic_link_status', async () => {
      const r = await this.ezid.magicLink.status(state);
      if (!r.authenticated || !r.tokens) throw this.loginPending();
      return this.session('api', r.tokens);
    });
  }

  /** SSO: `code` + `state` → access token by auth code. */
  exchangeSsoCode(code: string, state: string): Promise<EzidSession> {
    return this.run('exchange', 'sso', async () =>
      this.session('api', await this.ezid.tokens.byAuthCode(code, state)),
    );
  }

  /** Email code: `state` + `code` → tokens. */
  verifyEmailCode(state: string, code: string): Promise<EzidSession> {
    return this.run('exchange', 'email_code', async () => {
      const r = await this.ezid.emailCode.verify(state, code);
      if (!r.authenticated || !r.tokens)
        throw new EzidHttpException(400, 'invalid_code', 'The code is invalid, expired or already used');
      return this.session('api', r.tokens);
    });
  }

  /** SMS code: `state` + `code` → tokens. */
  verifySmsCode(state: string, code: string): Promise<EzidSession> {
    return this.run('exchange', 'sms_code', async () => {
      const r = await this.ezid.sms.verify(state, code);
      if (!r.authenticated || !r.tokens)
        throw new EzidHttpException(400, 'invalid_code', 'The code is invalid, expired or already used');
      return this.session('api', r.tokens);
    });
  }

  /**
   * Sends a magic link. With `clientSecret`: the legacy email link whose `?code=` opens
   * `landingUrl` (returns that code, to bind the login-flow cookie to it). Without: the magic-link
   * flow whose `state` is polled (returns the state). An answer that gives neither (EZiD's documented
   * `{ status: 200 }` without `email_link`, or a link without a `code`) refuses to start the flow:
   * 503 `idp_unavailable`, so no flow cookie is ever bound to nothing.
   */
  sendMagicLink(
    email: string,
    landingUrl: string,
    callbackPath: string,
  ): Promise<{ code?: string; state?: string }> {
    return this.run('start', 'magic_link_send', async () => {
      if (!this.usesLegacyEmailLink) return { state: (await this.ezid.magicLink.send(email)).state };
      const { emailLink } = await this.ezid.legacy.emailLinkSend({
        email,
        baseUrlEmailLink: landingUrl,
        callbackUrl: callbackPath,
        pushEmail: true,
      });
      let code: string | undefined;
      try {
        code = new URL(emailLink).searchParams.get('code') || undefined;
      } catch {
        code = undefined;
      }
      if (!code) {
        throw new EzidApiError({
          status: 200,
          code: 'invalid_response',
          reason: 'the email link has no code to bind the sign-in to',
          endpoint: 'legacy.emailLinkSend',
        });
      }
      return { code };
    });
  }

  /** Emails a code; returns the flow's `state`. */
  sendEmailCode(email: string): Promise<string> {
    return this.run('start', 'email_code_send', async () => (await this.ezid.emailCode.send(email)).state);
  }

  /** Texts a code; returns the flow's `state`. */
  sendSmsCode(phone: string): Promise<string> {
    return this.run('start', 'sms_send', async () => (await this.ezid.sms.send(phone)).state);
  }

  /**
   * Rotates a session. Requests with the same refresh token that arrive while its upstream refresh
   * is in flight share it (one EZiD call, the same new session). After it settles, a rotated refresh
   * token never gets tokens again. Presented again within `callback.refresh.reuseGraceSec` (default
   * 10 s), as the exact same string, by the same client (`client`: the caller's IP and User-Agent),
   * while its successor is unused, it is 409 `refresh_superseded` (a second tab that raced the
   * first: nothing is revoked and no cookie is touched, the browser already holds the new session);
   * otherwise it is reuse: 401 `refresh_token_reused`, no EZiD call, and the session it was rotated
   * into is revoked (its refresh and access tokens). Rotation records live in a bounded, expiring
   * store, never in the revocation list. Every tagging of one refresh token (`legacy.`, `api.`,
   * nested) is one token here. A refresh token revoked by logout, or one EZiD rejects (reused,
   * revoked, expired) or that this module did not issue, gives 401 `session_expired`.
   */
  async refresh(taggedRefreshToken: string, client?: string): Promise<EzidSession> {
    let r: EzidRotationResult;
    try {
      r = await this.rotate(taggedRefreshToken, client);
    } catch (err) {
      // To the presenter, reuse is reuse, whether or not every revocation could be recorded.
      throw err instanceof IncompleteReuseRevocation
        ? withAuditSubject(refreshTokenReused(), auditSubjectOf(err))
        : err;
    }
    if (r.superseded) {
      this.logger.debug({ event: 'refresh_superseded' });
      throw refreshSuperseded();
    }
    return r.session;
  }

  /**
   * `refresh` without the grace answer: `superseded` when the token was rotated moments ago by the
   * same client (see `refresh`), with the session it was rotated into (for logout to end it).
   */
  private rotate(taggedRefreshToken: string, client: string | undefined): Promise<EzidRotationResult> {
    const parsed = untagRefreshToken(taggedRefreshToken);
    if (!parsed) return Promise.reject(sessionExpired());
    // Every representation of one refresh token (re-tagged, tags nested) has one id: reuse
    // detection, revocation and the single flight all key on the canonical raw token.
    const id = refreshTokenRevocationId(taggedRefreshToken);
    if (this.refreshes.has(id)) this.logger.debug({ event: 'refresh_joined' });
    return this.refreshes.run(id, () =>
      this.shared
        ? this.rotateShared(this.shared, id, parsed, taggedRefreshToken, client)
        : this.rotateHere(id, parsed, taggedRefreshToken, client),
    );
  }

  /**
   * `rotateHere` under the store's lock of this refresh token: one instance rotates, the instances
   * that arrive while it holds the lock get its result (the same session, one EZiD call); one that
   * arrives after finds the rotation record (grace or reuse). Store unavailable: this process only.
   */
  private async rotateShared(
    shared: EzidSharedRefresh,
    id: string,
    parsed: { family: EzidRefreshFamily; raw: string },
    tagged: string,
    client: string | undefined,
  ): Promise<EzidRotationResult> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const lock = await this.tryShared(() => shared.lock(id), null);
      if (lock === null) return this.rotateHere(id, parsed, tagged, client);
      if ('held' in lock) {
        const held = { value: lock.held };
        try {
          return await this.rotateHere(id, parsed, tagged, client, held);
        } finally {
          await this.tryShared(() => shared.unlock(id, held.value), undefined, this.lockTtlMs);
        }
      }
      this.logger.debug({ event: 'refresh_joined', instance: 'other' });
      const waited = await this.tryShared(
        () => shared.awaitResult(id, lock.other, canonicalRefreshToken(parsed.raw)),
        null,
      );
      if (waited === null) return this.rotateHere(id, parsed, tagged, client);
      if (typeof waited === 'object') {
        const session = await this.fromShared(waited).catch(() => undefined);
        if (!session) throw sessionExpired();
        return { session, superseded: false };
      }
      // Released without a session (the holder answered grace, reuse or an error) or the holder
      // died: take the lock and decide here, from the rotation record.
    }
    this.logger.warn({ event: 'refresh_lock_contended' });
    throw new EzidHttpException(503, 'idp_unavailable', 'The identity provider is unavailable; retry later', {
      'Retry-After': '5',
    });
  }

  /**
   * One rotation decided by this process (with `held`: holding the store's lock of `id`, whose value
   * changes to `done:` once the upstream call has returned).
   */
  private async rotateHere(
    id: string,
    parsed: { family: EzidRefreshFamily; raw: string },
    taggedRefreshToken: string,
    client: string | undefined,
    held?: { value: string },
  ): Promise<EzidRotationResult> {
    const rotation = await this.rotationOf(id);
    if (rotation !== undefined) {
      const grace = await this.graceSession(id, taggedRefreshToken, client, rotation);
      if (grace) return { session: grace, superseded: true };
      this.forgetGrace(id);
      const complete = await this.revokeFamily(id);
      this.logger.warn({ event: 'refresh_token_reused' });
      throw withAuditSubject(
        complete ? refreshTokenReused() : new IncompleteReuseRevocation(),
        rotation.userId,
      );
    }
    if (this.refusedHere(id) || this.revocations.isRevoked(id)) {
      this.logger.debug({ event: 'refresh_token_revoked' });
      throw sessionExpired();
    }
    // Nested tags (`legacy.api.<raw>`): never issued by this module, so never sent to EZiD.
    if (canonicalRefreshToken(parsed.raw) !== parsed.raw) throw sessionExpired();
    const inFlight = held?.value;
    // Marked as soon as EZiD has answered (before the new token is verified, which may fetch the JWKS):
    // from then on a request that finds the lock is late, never a joiner.
    const upstreamReturned = async (): Promise<void> => {
      const shared = this.shared;
      if (held && inFlight && shared)
        held.value = await this.tryShared(() => shared.markDone(id, inFlight), inFlight);
    };
    const session = await this.run('refresh', 'refresh', async () => {
      if (parsed.family === 'legacy') {
        const t = await this.ezid.legacy.emailLinkRefresh(parsed.raw).finally(upstreamReturned);
        return this.session('legacy', {
          accessToken: t.accessToken,
          refreshToken: t.refreshToken,
          tokenType: 'Bearer',
        });
      }
      const r = await this.ezid.tokens.refresh(parsed.raw).finally(upstreamReturned);
      if (!r.tokens) throw sessionExpired();
      return this.session('api', r.tokens);
    });
    // With a shared store the rotation is recorded first and the revocation then read from the store:
    // a reuse detected on another instance meanwhile either sees this record (and revokes the new
    // session) or has written its revocation of `id` before this read (see `revokeFamily`).
    if (this.shared) await this.recordRotation(id, session);
    if (this.refusedHere(id) || (await this.revokedForRefresh(id))) {
      // Revoked while the upstream call was in flight (reuse of an earlier token in this chain, or
      // logout): the new session is born revoked instead of escaping as the chain's new tip.
      await this.revokeRotated(session);
      throw sessionExpired();
    }
    if (!this.shared) await this.recordRotation(id, session);
    if (this.graces) {
      const exact = exactHash(taggedRefreshToken);
      this.graces.set(id, { exact, client: clientHash(client), session });
      const shared = this.shared;
      if (shared) {
        await this.tryShared(
          () =>
            shared.putGrace(id, taggedRefreshToken, clientHash(client), toShared(session), this.graceTtlMs),
          undefined,
          this.graceTtlMs,
        );
      }
    }
    const shared = this.shared;
    if (shared && inFlight !== undefined) {
      const result = toShared(session);
      await this.tryShared(
        () => shared.putResult(id, inFlight, parsed.raw, result),
        undefined,
        this.lockTtlMs,
      );
    }
    return { session, superseded: false };
  }

  /**
   * Ends a session in this module: the refresh token is refused from now on (`POST /refresh` answers
   * 401 without calling EZiD) and the access token is put on the `EzidRevocationList` until its `exp`
   * (the guard and `EzidTokenVerifier` answer 401 `token_revoked`). EZiD documents no revocation
   * endpoint; its refresh tokens are single use, so the refresh token is first rotated once at EZiD
   * (which kills it there, for every instance) and the resulting session is revoked as well. Only
   * credentials that prove valid are recorded (an access token that verifies, a refresh token EZiD
   * accepts), so the list cannot be filled with junk. Throws 503 `revocation_unavailable` when the
   * revocation list cannot record them, and 503 `idp_unavailable` (with `Retry-After`) when EZiD
   * cannot be reached to validate the refresh token: nothing is recorded for it then (the access
   * token, if valid, is still revoked), and the caller may retry.
   */
  async logout(credentials: EzidLogoutCredentials): Promise<void> {
    const revoke: Promise<void>[] = [];
    if (credentials.accessToken) revoke.push(this.revokeAccessToken(credentials.accessToken));
    const rt = credentials.refreshToken;
    if (rt && untagRefreshToken(rt)) {
      revoke.push(
        this.rotate(rt, undefined).then(
          (next) => this.revokeSession(rt, next.session),
          (err: unknown) => {
            // 401: already dead (rejected by EZiD, reused or revoked), nothing to record.
            if (err instanceof EzidHttpException && err.getStatus() === 401) return;
            // EZiD did not validate the token, or reuse detection could not record every
            // revocation: nothing goes on the fail-closed list for it, but this process refuses it
            // from now on (bounded, evictable), and the logout answers 503.
            this.logoutPending.set(refreshTokenRevocationId(rt), true);
            throw err;
          },
        ),
      );
    }
    const failures = (await Promise.allSettled(revoke)).flatMap((r) =>
      r.status === 'rejected' ? [r.reason as unknown] : [],
    );
    if (failures.length === 0) {
      try {
        // Every revocation this process holds must be visible to the other instances before the
        // logout says so (a retried logout finds its tokens already revoked here: this is what
        // keeps it from answering 204 while they are not shared yet).
        if (typeof this.revocations.flush === 'function') await this.revocations.flush();
      } catch {
        this.logger.warn({ event: 'logout_incomplete', code: 'revocation_unavailable' });
        throw new EzidHttpException(
          503,
          'revocation_unavailable',
          'The session could not be revoked; retry later',
          { 'Retry-After': '5' },
        );
      }
      this.logger.log({ event: 'signed_out' });
      return;
    }
    const upstream = failures.find((e): e is EzidHttpException => e instanceof EzidHttpException);
    if (upstream && failures.every((e) => e instanceof EzidHttpException)) {
      this.logger.warn({ event: 'logout_incomplete', code: upstream.code });
      throw upstream;
    }
    throw new EzidHttpException(
      503,
      'revocation_unavailable',
      'The session could not be revoked; retry later',
      { 'Retry-After': '5' },
    );
  }

  /** The 401 `login_pending` answer, with a `Retry-After` that keeps polling under the rate limit. */
  loginPending(): EzidHttpException {
    const rl = this.options.callback ? this.options.callback.rateLimit : { limit: 10, ttlSec: 60 };
    const retry = Math.max(1, Math.ceil(rl.ttlSec / rl.limit));
    return new EzidHttpException(401, 'login_pending', 'The sign-in has not been completed yet', {
      'Retry-After': String(retry),
    });
  }

  private async session(
    family: EzidRefreshFamily,
    t: Pick<EzidTokenSet, 'accessToken' | 'refreshToken' | 'expiresAt' | 'tokenType'>,
  ): Promise<EzidSession> {
    if (t.tokenType && t.tokenType.toLowerCase() !== 'bearer') {
      throw new EzidTokenError('token_invalid', 'token_type_not_bearer');
    }
    const user = await this.verifier.verify(t.accessToken);
    const exp = typeof user.claims.exp === 'number' ? new Date(user.claims.exp * 1000) : undefined;
    return Object.freeze({
      accessToken: t.accessToken,
      refreshToken: tagRefreshToken(family, t.refreshToken),
      tokenType: 'Bearer' as const,
      expiresAt: exp ?? t.expiresAt ?? new Date(Date.now() + 600_000),
      user,
    });
  }

  private refreshExpiry(): number {
    return Date.now() + EZID_REFRESH_COOKIE_MAX_AGE_SEC * 1000;
  }

  private toleranceMs(): number {
    return this.options.token.clockToleranceSec * 1000;
  }

  /** Puts an id on the revocation list; a full list is logged and rethrown. */
  private async put(id: string, expiresAtMs: number): Promise<void> {
    try {
      await this.revocations.revoke(id, expiresAtMs);
    } catch (err) {
      this.logger.error({
        event: 'revocation_failed',
        reason: err instanceof EzidRevocationListFullError ? 'full' : 'store_error',
      });
      throw err;
    }
  }

  /** Revokes an access token that verifies (an invalid, expired or already revoked one needs nothing). */
  private async revokeAccessToken(token: string): Promise<void> {
    let verified;
    try {
      verified = await this.verifier.verifyToken(token);
    } catch (err) {
      // Keys this instance cannot get yet (the JWKS unreachable, or a new signing key not fetched
      // during the cooldown): another instance may well accept the token, so the logout cannot say
      // it is revoked; 503, retry. Any other failure: the token is invalid, nothing to revoke.
      if (err instanceof EzidKeysUnavailableError) throw err;
      if (err instanceof EzidTokenError && err.reason === 'kid_unknown') {
        throw new EzidKeysUnavailableError('kid_unknown', 5);
      }
      return;
    }
    await this.put(verified.revocationId, verified.expMs + this.toleranceMs());
  }

  /** Revokes `old` and the session it was just rotated into (logout). */
  private async revokeSession(old: string, next: EzidSession): Promise<void> {
    const id = refreshTokenRevocationId(old);
    this.revokedHere.set(id, true);
    if (next.refreshToken) this.revokedHere.set(refreshTokenRevocationId(next.refreshToken), true);
    this.rotated.delete(id);
    this.forgetGrace(id);
    const shared = this.shared;
    if (shared) await this.tryShared(() => shared.deleteRotation(id), undefined);
    await this.put(id, this.refreshExpiry());
    if (next.refreshToken) await this.put(refreshTokenRevocationId(next.refreshToken), this.refreshExpiry());
    await this.revokeAccessToken(next.accessToken);
  }

  /**
   * After a rotation: the superseded refresh token is remembered with its successor, for reuse
   * detection, in the rotation records (not in the revocation list, whose capacity is kept for
   * logout; EZiD refuses the superseded token anyway, its refresh tokens being single use).
   */
  private async recordRotation(id: string, next: EzidSession): Promise<void> {
    let accessId: string | undefined;
    let accessExpMs = next.expiresAt.getTime();
    try {
      const v = await this.verifier.verifyToken(next.accessToken);
      accessId = v.revocationId;
      accessExpMs = v.expMs;
    } catch {
      accessId = undefined;
    }
    const rotation: EzidRotation = {
      refreshId: next.refreshToken ? refreshTokenRevocationId(next.refreshToken) : undefined,
      accessId,
      accessExpMs: accessExpMs + this.toleranceMs(),
      userId: next.user.id,
    };
    this.rotated.set(id, rotation);
    const shared = this.shared;
    if (shared) {
      const ttl = this.rotationTtlMs;
      await this.tryShared(() => shared.putRotation(id, rotation, ttl), undefined, ttl);
    }
  }

  /** The rotation record of `id`: this process's, else the shared store's. */
  private async rotationOf(id: string): Promise<EzidRotation | undefined> {
    const here = this.rotated.get(id);
    const shared = this.shared;
    if (here !== undefined || !shared) return here;
    return this.tryShared(() => shared.getRotation(id), undefined);
  }

  /** Forgets the grace session of `id` (here and in the store). */
  private forgetGrace(id: string): void {
    this.graces?.delete(id);
    const shared = this.shared;
    if (shared && this.graces) void this.tryShared(() => shared.deleteGrace(id), undefined);
  }

  /**
   * Runs a store operation; when the store fails, logs the switch to this process and returns
   * `fallback`. With `replayForMs`, a failed write is queued and replayed once the store is back.
   */
  private async tryShared<T, F>(op: () => Promise<T>, fallback: F, replayForMs?: number): Promise<T | F> {
    try {
      const v = await op();
      if (this.sharedDown) {
        this.sharedDown = false;
        this.logger.log({ event: 'refresh_shared' });
      }
      return v;
    } catch {
      if (!this.sharedDown) {
        this.sharedDown = true;
        this.logger.warn({ event: 'refresh_per_process' });
      }
      if (replayForMs !== undefined) {
        this.replay.push({ op, untilMs: Date.now() + replayForMs });
        if (this.replay.length > EZID_LOCAL_REFUSALS_MAX_ENTRIES) this.replay.shift();
      }
      return fallback;
    }
  }

  /**
   * Replays the queued store writes in order, one drain at a time; stops at the first that fails again
   * (kept for the next time the store becomes available).
   */
  private async drainReplay(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      await this.drainQueue();
    } finally {
      this.draining = false;
    }
  }

  private async drainQueue(): Promise<void> {
    while (this.replay.length > 0) {
      const next = this.replay[0];
      if (next.untilMs > Date.now()) {
        try {
          await next.op();
        } catch {
          return;
        }
      }
      this.replay.shift();
    }
  }

  /** A session another instance rotated into, rebuilt here (its access token verified again). */
  private async fromShared(s: EzidSharedSession): Promise<EzidSession> {
    const user = await this.verifier.verify(s.accessToken);
    return Object.freeze({
      accessToken: s.accessToken,
      refreshToken: s.refreshToken,
      tokenType: 'Bearer' as const,
      expiresAt: new Date(s.expiresAtMs),
      user,
    });
  }

  /**
   * A live rotation record was evicted because the store is full: reuse of that token is no longer
   * detected (EZiD still refuses it). Logged at most once a minute, with how many were evicted and the
   * youngest evicted age: the reuse-detection window actually kept.
   */
  private rotationEvicted(ageMs: number): void {
    const e = this.evicted;
    e.count++;
    e.youngestAgeMs = Math.min(e.youngestAgeMs, ageMs);
    const now = this.clock.now();
    if (now - e.loggedAt < EVICTION_LOG_INTERVAL_MS) return;
    this.logger.warn({
      event: 'refresh_rotation_evicted',
      evicted: e.count,
      windowSec: Math.floor(e.youngestAgeMs / 1000),
    });
    this.evicted = { count: 0, youngestAgeMs: Infinity, loggedAt: now };
  }

  /**
   * The grace result: the session `id` was just rotated into, when the request presents the exact
   * refresh token that was rotated, from the same client (any client for logout, which ends that
   * session), within `reuseGraceSec`, and that successor was neither rotated nor revoked since.
   * Otherwise `undefined` (the request is reuse).
   */
  private async graceSession(
    id: string,
    tagged: string,
    client: string | undefined,
    rotation: EzidRotation,
  ): Promise<EzidSession | undefined> {
    if (!this.graces) return undefined;
    let grace: { client: string; session: EzidSession } | undefined;
    const g = this.graces.get(id);
    const shared = this.shared;
    if (g) {
      if (!crypto.timingSafeEqual(Buffer.from(g.exact), Buffer.from(exactHash(tagged)))) return undefined;
      grace = g;
    } else if (shared) {
      // Sealed with the exact token string: another representation of it cannot open it.
      const sg = await this.tryShared(() => shared.getGrace(id, tagged), undefined);
      const session = sg && (await this.fromShared(sg.session).catch(() => undefined));
      grace = sg && session ? { client: sg.client, session } : undefined;
    }
    if (!grace) return undefined;
    if (client !== undefined && grace.client !== clientHash(client)) return undefined;
    const { refreshId, accessId } = rotation;
    if (
      refreshId &&
      ((await this.rotationOf(refreshId)) !== undefined || this.revocations.isRevoked(refreshId))
    )
      return undefined;
    if (accessId && this.revocations.isRevoked(accessId)) return undefined;
    return grace.session;
  }

  /** Whether a refresh id is revoked, asking the shared store when there is one (not the hot path). */
  private revokedForRefresh(id: string): Promise<boolean> {
    const list = this.revocations;
    return typeof list.check === 'function' ? list.check(id) : Promise.resolve(list.isRevoked(id));
  }

  /** Longest rotation chain walked on reuse (the rotation store's bound). */
  private rotationWalkLimit(): number {
    return this.options.callback
      ? this.options.callback.refresh.rotationMaxEntries
      : EZID_ROTATION_DEFAULT_MAX_ENTRIES;
  }

  /** Refused by this process without asking the revocation list (see `revokedHere`, `logoutPending`). */
  private refusedHere(id: string): boolean {
    return this.revokedHere.get(id) !== undefined || this.logoutPending.get(id) !== undefined;
  }

  /** Revokes a session that was rotated into after its predecessor was revoked. */
  private async revokeRotated(next: EzidSession): Promise<void> {
    if (next.refreshToken) this.revokedHere.set(refreshTokenRevocationId(next.refreshToken), true);
    try {
      if (next.refreshToken)
        await this.put(refreshTokenRevocationId(next.refreshToken), this.refreshExpiry());
      await this.revokeAccessToken(next.accessToken);
    } catch {
      // A full list: the session is still not handed out.
    }
  }

  /**
   * Reuse detected: revokes every session the reused token was rotated into, however long the chain
   * (a thief who rotated N times keeps nothing): the access token of each rotation that has not
   * expired yet, and the refresh token at the tip of the chain (the only one not already caught as
   * reuse by its own rotation record). The chain is read first and its tip marked in this process at
   * once, before any write; the walk is bounded by the rotation store's size, a visited set stops any
   * cycle. Resolves `false` when the revocation list could not record everything.
   */
  private async revokeFamily(id: string): Promise<boolean> {
    const seen = new Set<string>([id]);
    const limit = this.rotationWalkLimit();
    const pending: { id: string; expMs: number }[] = [];
    try {
      let rec = await this.rotationOf(id);
      while (rec && seen.size <= limit) {
        if (rec.accessId && rec.accessExpMs > Date.now())
          pending.push({ id: rec.accessId, expMs: rec.accessExpMs });
        const next = rec.refreshId !== undefined && !seen.has(rec.refreshId) ? rec.refreshId : undefined;
        if (next === undefined) break;
        seen.add(next);
        rec = await this.rotationOf(next);
        if (rec !== undefined) continue;
        // `next` is the chain's tip: refused by this process at once, then written. With a shared
        // store its record is read again afterwards: an instance rotating it concurrently writes its
        // rotation record before it checks the revocation, so one of the two always sees the other.
        this.revokedHere.set(next, true);
        for (const a of pending.splice(0)) await this.put(a.id, a.expMs);
        await this.put(next, this.refreshExpiry());
        rec = this.shared ? await this.rotationOf(next) : undefined;
      }
      for (const a of pending.splice(0)) await this.put(a.id, a.expMs);
      return true;
    } catch {
      // A full list (or a failing store): the reuse is still refused, the tip is refused by this
      // process; the caller learns that the rest could not be recorded.
      return false;
    }
  }

  private async run<T>(phase: EzidCallbackPhase, flow: string, fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      if (phase !== 'start')
        this.logger.log({ event: phase === 'refresh' ? 'session_refreshed' : 'signed_in', flow });
      return out;
    } catch (err) {
      throw toEzidHttpError(err, phase, this.logger);
    }
  }
}

/** What the store keeps of a session (sealed there): the user is rebuilt from the access token. */
function toShared(s: EzidSession): EzidSharedSession {
  return { accessToken: s.accessToken, refreshToken: s.refreshToken, expiresAtMs: s.expiresAt.getTime() };
}

/** SHA-256 of the client fingerprint (IP and User-Agent) that rotated a token; `-` when unknown. */
function clientHash(client: string | undefined): string {
  return client === undefined ? '-' : crypto.hash('sha256', client, 'base64url');
}

/** SHA-256 of the exact (tagged) refresh-token string: the grace result is bound to it. */
function exactHash(tagged: string): string {
  return crypto.hash('sha256', tagged, 'base64url');
}
