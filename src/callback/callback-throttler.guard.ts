import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  normalizeIp,
  seconds,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { EzidHttpException } from '../common/ezid-http.exception';
import { applyEzidHeaders } from '../common/http-context';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { InjectEzidOptions } from '../ezid.module-definition';
import {
  EZID_CALLBACK_THROTTLER,
  EZID_CALLBACK_THROTTLER_STORAGE,
  EZID_SESSION_RATE_LIMIT_DEFAULT,
  EZID_SESSION_THROTTLER,
} from './callback.constants';

/**
 * The callback area's rate limiters (`@nestjs/throttler`): per client IP and per route. Over the
 * limit: 429 `{ statusCode: 429, error: 'Too Many Requests', code: 'rate_limited', message }` with
 * `Retry-After`. The IP is `request.ip` (Express honours `trust proxy`, Fastify `trustProxy`).
 * Counters live in this process (`ThrottlerStorageService`): behind N instances the effective
 * limit is up to N times higher unless the storage is shared.
 */
abstract class EzidIpThrottlerGuard extends ThrottlerGuard {
  private initialised = false;

  protected constructor(
    name: string,
    rl: { readonly limit: number; readonly ttlSec: number },
    storage: ThrottlerStorage,
    reflector: Reflector,
  ) {
    super(
      { throttlers: [{ name, limit: rl.limit, ttl: seconds(rl.ttlSec) }], setHeaders: false },
      storage,
      reflector,
    );
  }

  override async onModuleInit(): Promise<void> {
    if (this.initialised) return;
    this.initialised = true;
    await super.onModuleInit();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    await this.onModuleInit(); // guards are not always given lifecycle hooks
    return super.canActivate(context);
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const ip = typeof req.ip === 'string' && req.ip ? req.ip : 'unknown';
    return normalizeIp(ip, this.ipv6SubnetPrefix);
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const retryAfter = String(Math.max(1, Math.ceil(detail.timeToBlockExpire)));
    const headers = { 'Retry-After': retryAfter };
    applyEzidHeaders(context, headers);
    throw new EzidHttpException(429, 'rate_limited', 'Too many requests; retry later', headers);
  }
}

/**
 * Rate limit of the login-start and callback routes, per client IP and per route, with
 * `callback.rateLimit` (default 10 requests per 60 s). See `EzidIpThrottlerGuard` for the answer.
 */
@Injectable()
export class EzidCallbackThrottlerGuard extends EzidIpThrottlerGuard {
  constructor(
    @InjectEzidOptions() options: ResolvedEzidOptions,
    @Inject(EZID_CALLBACK_THROTTLER_STORAGE) storage: ThrottlerStorage,
    reflector: Reflector,
  ) {
    const rl = options.callback ? options.callback.rateLimit : { limit: 10, ttlSec: 60 };
    super(EZID_CALLBACK_THROTTLER, rl, storage, reflector);
  }
}

/**
 * Rate limit of `POST /refresh` and `POST /logout`, per client IP and per route, with
 * `callback.sessionRateLimit` (default 60 requests per 60 s): higher than the login limit, since
 * every signed-in user behind one address refreshes, but low enough that a stolen refresh token
 * cannot be rotated thousands of times to flush the rotation records that detect its reuse, and
 * that junk refresh tokens cannot drive unbounded EZiD calls.
 */
@Injectable()
export class EzidSessionThrottlerGuard extends EzidIpThrottlerGuard {
  constructor(
    @InjectEzidOptions() options: ResolvedEzidOptions,
    @Inject(EZID_CALLBACK_THROTTLER_STORAGE) storage: ThrottlerStorage,
    reflector: Reflector,
  ) {
    const rl = options.callback ? options.callback.sessionRateLimit : EZID_SESSION_RATE_LIMIT_DEFAULT;
    super(EZID_SESSION_THROTTLER, rl, storage, reflector);
  }
}
