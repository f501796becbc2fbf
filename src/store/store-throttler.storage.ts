import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { type ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import type { EzidStore, EzidStoreHitRecord } from './ezid-store';

/**
 * `@nestjs/throttler` storage on a shared `EzidStore`: one fixed-window counter per key (client IP,
 * route and limiter) for every instance, counted atomically in the store (a Lua script on Redis).
 * Store down: counts in this process (`ThrottlerStorageService`) until it is back (fails open to the
 * per-process limit, never to no limit; docs/scaling.md).
 */
export class EzidStoreThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger('EzidStore');
  private readonly local = new ThrottlerStorageService();
  private fallingBack = false;

  constructor(private readonly store: EzidStore) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<EzidStoreHitRecord> {
    try {
      const r = await this.store.hit(`throttle:${throttlerName}:${key}`, ttl, limit, blockDuration);
      if (this.fallingBack) {
        this.fallingBack = false;
        this.logger.log({ event: 'rate_limit_shared' });
      }
      return { ...r };
    } catch {
      if (!this.fallingBack) {
        this.fallingBack = true;
        this.logger.warn({ event: 'rate_limit_per_process' });
      }
      return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
    }
  }

  onApplicationShutdown(): void {
    this.local.onApplicationShutdown();
  }
}
