export { EzidStore, EzidStoreUnavailableError } from './ezid-store';
export type { EzidStoreHealth, EzidStoreHitRecord } from './ezid-store';
export { EzidMemoryStore } from './memory-store';
export { EzidRedisStore } from './redis-store';
export type { EzidRedisClient } from './redis-store';
export { EzidSharedRevocationList } from './shared-revocation-list';
export { EzidStoreThrottlerStorage } from './store-throttler.storage';
