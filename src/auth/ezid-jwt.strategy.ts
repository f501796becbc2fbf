import { Injectable, Logger, Optional } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { KeyObject } from 'node:crypto';
import { ExtractJwt, Strategy, type StrategyOptionsWithRequest } from 'passport-jwt';
import { EZID_OBSERVER_OFF, EzidObserver } from '../observer/ezid-observer';
import { EzidSameOriginPolicy, isUnsafeMethod, isWebSocketUpgrade } from '../common/same-origin';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { EZID_JWT_STRATEGY } from '../ezid.constants';
import { InjectEzidOptions } from '../ezid.module-definition';
import type { EzidUser } from '../interfaces/ezid-user.interface';
import { ezidAuthFailure } from './ezid-auth.guard';
import { EzidTokenError } from './ezid-token.errors';
import { EzidTokenVerifier, logRejection } from './ezid-token-verifier';
import { type EzidHttpRequestLike, extractHttpToken } from './token-extractor';

/** Users verified by the key provider, handed to `validate()` for the same request. */
const VERIFIED = new WeakMap<object, EzidUser>();

/** The user `EzidJwtStrategy` verified and Passport attached to this request (`request.user`), else `undefined`. Internal. */
export function ezidStrategyUser(request: object): EzidUser | undefined {
  const user = VERIFIED.get(request);
  return user !== undefined && (request as { user?: unknown }).user === user ? user : undefined;
}

/**
 * The passport-jwt options of `EzidJwtStrategy`. `issuer`, `audience` and `algorithms` are set at
 * the top level: passport-jwt silently drops them when they are only in `jsonWebTokenOptions`.
 */
export function ezidPassportJwtOptions(
  options: ResolvedEzidOptions,
  verifier: EzidTokenVerifier,
  logger: Logger,
  observer: EzidObserver = EZID_OBSERVER_OFF,
): StrategyOptionsWithRequest {
  const t = options.token;
  const sameOrigin = new EzidSameOriginPolicy({
    publicUrl: options.callback ? options.callback.publicUrl : undefined,
    ...options.csrf,
  });
  return {
    jwtFromRequest: (req: unknown): string | null => {
      try {
        const token = extractHttpToken(req as EzidHttpRequestLike, t.cookieName);
        const r = req as EzidHttpRequestLike & { method?: string };
        const headers = r.headers ?? {};
        const byCookie = !!t.cookieName && headers.authorization === undefined;
        const handshake = isWebSocketUpgrade(r);
        const ambient = token !== undefined && byCookie && (handshake || isUnsafeMethod(r.method));
        if (ambient && !sameOrigin.check(headers, { handshake }).ok) {
          logger.debug({ event: 'csrf_rejected', reason: 'cookie_cross_origin', route: EZID_JWT_STRATEGY });
          if (observer.active) observer.strategyRejected(r, 'csrf_rejected');
          return null; // a cookie on a cross-origin unsafe request counts as no token (CSRF)
        }
        return token ?? null;
      } catch {
        return null; // malformed or ambiguous: passport-jwt answers "no auth token" (401)
      }
    },
    secretOrKeyProvider: (
      req: unknown,
      rawJwtToken: unknown,
      done: (err: unknown, key?: string | Buffer) => void,
    ) => {
      Promise.resolve()
        .then(() => verifier.verifyToken(rawJwtToken as string))
        .then(
          (v) => {
            VERIFIED.set(req as object, v.user);
            // jsonwebtoken 9 accepts a KeyObject (no PEM re-parse); the typings only list string | Buffer.
            done(null, v.key.key as KeyObject as unknown as Buffer);
          },
          (err: unknown) => {
            logRejection(logger, err, EZID_JWT_STRATEGY);
            if (observer.active) observer.strategyRejected(req as object, ezidAuthFailure(err).code);
            done(err);
          },
        );
    },
    issuer: [...t.issuer],
    audience: t.audience ? [...t.audience] : undefined,
    algorithms: [...t.algorithms] as StrategyOptionsWithRequest['algorithms'],
    ignoreExpiration: false,
    jsonWebTokenOptions: { clockTolerance: t.clockToleranceSec },
    passReqToCallback: true,
  };
}

/**
 * The Passport strategy `'ezid-jwt'` (passport-jwt), for apps that compose Passport guards
 * themselves (`AuthGuard('ezid-jwt')`). Keys come from the same JWKS / PEM key source as
 * `EzidAuthGuard`, and every rule of `EzidTokenVerifier` runs in the key provider before
 * jsonwebtoken verifies the signature again with `issuer`, `audience` and `algorithms` pinned at
 * the top level of the passport-jwt options. `validate()` returns the `EzidUser`.
 *
 * `EzidAuthGuard` does not go through Passport (same rules, less per-request work, and its own
 * 401/503 contract); `AuthGuard('ezid-jwt')` answers every failure with Nest's plain 401. The cookie
 * (`token.cookieName`) on an unsafe request that fails the same-origin check counts as no token.
 */
@Injectable()
export class EzidJwtStrategy extends PassportStrategy(Strategy, EZID_JWT_STRATEGY) {
  constructor(
    @InjectEzidOptions() options: ResolvedEzidOptions,
    verifier: EzidTokenVerifier,
    @Optional() observer?: EzidObserver,
  ) {
    super(ezidPassportJwtOptions(options, verifier, new Logger('EzidJwtStrategy'), observer));
  }

  /** Called by passport-jwt after jsonwebtoken verified the token: returns the `EzidUser`. */
  validate(req: object, payload: Record<string, unknown>): EzidUser {
    const user = VERIFIED.get(req);
    if (!user || user.id !== payload.sub) throw new EzidTokenError('token_invalid', 'strategy_mismatch');
    return user;
  }
}

/** Re-exported for users composing their own extractors. */
export { ExtractJwt };
