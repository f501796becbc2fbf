import type { DynamicModule, Provider } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { EzidStore } from '../store/ezid-store';
import { EzidStoreThrottlerStorage } from '../store/store-throttler.storage';
import { EZID_CALLBACK_THROTTLER_STORAGE } from './callback.constants';
import { EzidCallbackCsrfGuard } from './callback-csrf.guard';
import {
  EzidCallbackExceptionFilter,
  EzidCallbackHeadersInterceptor,
  EzidCallbackRedirectExceptionFilter,
} from './callback-http';
import {
  createEzidCallbackControllerClass,
  ezidCallbackMountProvider,
  withEzidCallback,
} from './callback-mount';
import { EzidCallbackThrottlerGuard, EzidSessionThrottlerGuard } from './callback-throttler.guard';
import { EzidCallbackService } from './ezid-callback.service';

/** The default controller class (replaced per module instance by `withEzidCallback`). */
const defaultController = createEzidCallbackControllerClass();
const defaultMountProvider = ezidCallbackMountProvider(defaultController);

/**
 * What the callback area adds to every EzidModule.forRoot()/forRootAsync() dynamic module.
 * Owned by the callback area; the module only concatenates these lists.
 */
export const callbackProviders: Provider[] = [
  EzidCallbackService,
  EzidCallbackThrottlerGuard,
  EzidSessionThrottlerGuard,
  EzidCallbackCsrfGuard,
  EzidCallbackExceptionFilter,
  EzidCallbackRedirectExceptionFilter,
  EzidCallbackHeadersInterceptor,
  {
    // Per client IP across every instance when the store is shared (docs/scaling.md).
    provide: EZID_CALLBACK_THROTTLER_STORAGE,
    useFactory: (store: EzidStore) =>
      store.shared ? new EzidStoreThrottlerStorage(store) : new ThrottlerStorageService(),
    inject: [EzidStore],
  },
  defaultMountProvider,
];
export const callbackExports: NonNullable<DynamicModule['exports']> = [EzidCallbackService];
export const callbackControllers: NonNullable<DynamicModule['controllers']> = [defaultController];

/**
 * Module hook: per-instance controller class and mount provider, and the callback option defaults
 * (see `withEzidCallback`). `EzidModule` applies it to every dynamic module it builds.
 */
export function applyCallbackArea(module: DynamicModule): DynamicModule {
  return withEzidCallback(module, { controller: defaultController, mountProvider: defaultMountProvider });
}
