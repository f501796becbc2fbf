import { DynamicModule, Module, Provider } from '@nestjs/common';
import { authControllers, authExports, authProviders } from './auth/auth.providers';
import { authzControllers, authzExports, authzProviders } from './authz/authz.providers';
import {
  applyCallbackArea,
  callbackControllers,
  callbackExports,
  callbackProviders,
} from './callback/callback.providers';
import { clientControllers, clientExports, clientProviders } from './client/client.providers';
import { contextExports, contextProviders } from './context/context.providers';
import { healthExports, healthProviders } from './health/health.providers';
import { EzidObserver } from './observer/ezid-observer';
import { resolveEzidOptions } from './ezid-options.validation';
import { storeExports, storeProviders } from './store/store.providers';
import {
  EZID_ASYNC_OPTIONS_TYPE,
  EZID_MODULE_OPTIONS,
  EZID_OPTIONS_TYPE,
  EZID_RAW_OPTIONS,
  EzidConfigurableModuleClass,
} from './ezid.module-definition';
import type { EzidModuleOptions } from './ezid.options';

const resolvedOptionsProvider: Provider = {
  provide: EZID_MODULE_OPTIONS,
  useFactory: (raw: EzidModuleOptions) => resolveEzidOptions(raw),
  inject: [EZID_RAW_OPTIONS],
};

/**
 * The nestjs-ezid module: `EzidModule.forRoot(options)` or `EzidModule.forRootAsync({ imports, inject, useFactory })`.
 * Options are validated when the module is instantiated; a bad configuration fails boot with one
 * `EzidConfigurationError` listing every invalid field.
 */
@Module({})
export class EzidModule extends EzidConfigurableModuleClass {
  static override forRoot(options: typeof EZID_OPTIONS_TYPE): DynamicModule {
    return EzidModule.withAreas(super.forRoot(options));
  }

  static override forRootAsync(options: typeof EZID_ASYNC_OPTIONS_TYPE): DynamicModule {
    return EzidModule.withAreas(super.forRootAsync(options));
  }

  private static withAreas(base: DynamicModule): DynamicModule {
    // Callback hook: a controller class per module instance (prefix and `callback: false` follow
    // forRootAsync options) and the cookie-mode default of token.cookieName. See src/callback/callback-mount.ts.
    return applyCallbackArea({
      ...base,
      controllers: [
        ...(base.controllers ?? []),
        ...clientControllers,
        ...authControllers,
        ...authzControllers,
        ...callbackControllers,
      ],
      providers: [
        ...(base.providers ?? []),
        resolvedOptionsProvider,
        EzidObserver,
        ...storeProviders,
        ...clientProviders,
        ...authProviders,
        ...authzProviders,
        ...callbackProviders,
        ...contextProviders,
        ...healthProviders,
      ],
      exports: [
        ...(base.exports ?? []),
        EZID_MODULE_OPTIONS,
        EzidObserver,
        ...storeExports,
        ...clientExports,
        ...authExports,
        ...authzExports,
        ...callbackExports,
        ...contextExports,
        ...healthExports,
      ],
    });
  }
}
