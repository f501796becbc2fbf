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
import { EZID_CALLBACK_THROTTLER, EZID_CALLBACK_THROTTLER_STORAGE } from './callback.constants';

/**
 * Rate limit of the login-start and callback routes (`@nestjs/throttler`), per client IP and per
 * route, with `callback.rateLimit` (default 10 requests per 60 s). Over the limit:
 * 429 `{ statusCode: 429, error: 'Too Many Requests', code: 'rate_limited', message }` with
 * `Retry-After`. The IP is `request.ip` (Express honours `trust proxy`, Fastify `trustProxy`).
 * Counters live in this process (`ThrottlerStorageService`): behind N instances the effective
 * limit is up to N times higher unless the storage is shared.
 */
@Injectable()
export class EzidCallbackThrottlerGuard extends ThrottlerGuard {
  private initialised = false;

  constructor(
    @InjectEzidOptions() options: ResolvedEzidOptions,
    @Inject(EZID_CALLBACK_THROTTLER_STORAGE) storage: ThrottlerStorage,
    reflector: Reflector,
  ) {
    const rl = options.callback ? options.callback.rateLimit : { limit: 10, ttlSec: 60 };
    super(
      {
        throttlers: [{ name: EZID_CALLBACK_THROTTLER, limit: rl.limit, ttl: seconds(rl.ttlSec) }],
        setHeaders: false,
      },
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
