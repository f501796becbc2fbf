import type { DynamicModule, Provider } from '@nestjs/common';
import { EzidInMemoryRevocationList, EzidRevocationList } from '../auth/ezid-revocation-list';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { EZID_MODULE_OPTIONS } from '../ezid.module-definition';
import { EzidStore } from './ezid-store';
import { EzidMemoryStore } from './memory-store';
import { type EzidRedisClient, EzidRedisStore } from './redis-store';
import { EzidSharedRevocationList } from './shared-revocation-list';

/** The store of `options.store`: Redis when configured, else this process's memory. */
export function createEzidStore(options: ResolvedEzidOptions): EzidStore {
  const s = options.store;
  if (!s) return new EzidMemoryStore();
  return new EzidRedisStore({
    redis: s.redis as EzidRedisClient | string,
    keyPrefix: s.keyPrefix,
    commandTimeoutMs: s.commandTimeoutMs,
    connectTimeoutMs: s.connectTimeoutMs,
  });
}

/** The revocation list: a local copy kept fresh by the store's push when it is shared, else one process's map. */
export function createRevocationList(store: EzidStore): EzidRevocationList {
  return store.shared ? new EzidSharedRevocationList(store) : new EzidInMemoryRevocationList();
}

/**
 * What the store area adds to every EzidModule.forRoot()/forRootAsync() dynamic module. Owned by
 * the store area; the module only concatenates these lists.
 */
export const storeProviders: Provider[] = [
  { provide: EzidStore, useFactory: createEzidStore, inject: [EZID_MODULE_OPTIONS] },
  { provide: EzidRevocationList, useFactory: createRevocationList, inject: [EzidStore] },
];
export const storeExports: NonNullable<DynamicModule['exports']> = [EzidStore];
