import type { DynamicModule, NestInterceptor, Provider } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, DiscoveryService, Reflector } from '@nestjs/core';
import { EzidHttpHeadersInterceptor } from '../common/ezid-http-headers.interceptor';
import { EZID_MODULE_OPTIONS } from '../ezid.module-definition';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { EzidAuthorizationHookRegistry } from './authorization-hook.registry';
import { EzidAuthorizer } from './ezid-authorizer';
import { appendDeferredAuthorization } from './ezid-deferred-authorization';
import { EzidApiProfileSource } from './ezid-api-profile.source';
import { EZID_PROFILE_SOURCE, EzidProfileStore } from './ezid-profile.source';
import { EzidRolesGuard } from './ezid-roles.guard';

/** The global `EzidRolesGuard` when `globalGuard` is on; a pass-through otherwise (the class stays usable in `@UseGuards`). */
const globalRolesGuard: Provider = {
  provide: APP_GUARD,
  useFactory: (options: ResolvedEzidOptions, guard: EzidRolesGuard) =>
    options.globalGuard ? guard : { canActivate: () => true },
  inject: [EZID_MODULE_OPTIONS, EzidRolesGuard],
};

/**
 * `EzidHttpHeadersInterceptor` app-wide, only with `profile.source: 'api'`: the one configuration in
 * which the module's services called from a handler (`EzidAuthorizer.check()`, `EzidProfileStore`)
 * throw an exception with headers (503 `idp_unavailable` with `Retry-After`). Otherwise nothing: any
 * app-wide interceptor makes Nest run every route of the app through its interceptor pipeline
 * (rxjs), which Nest skips for a route without one. A factory that gives `null` registers nothing.
 */
const ezidHeadersInterceptor: Provider = {
  provide: APP_INTERCEPTOR,
  useFactory: (options: ResolvedEzidOptions, headers: EzidHttpHeadersInterceptor): NestInterceptor | null =>
    options.profile.source === 'api' ? headers : null,
  inject: [EZID_MODULE_OPTIONS, EzidHttpHeadersInterceptor],
};

/** Internal token of the provider that appends the deferred authorization to the `@Public()` handlers. */
const EZID_DEFERRED_AUTHORIZATION_SETUP = Symbol('nestjs-ezid:deferred-authorization-setup');

/**
 * Appends `EZID_DEFERRED_AUTHORIZATION` to the guards of every `@Public()` handler while the providers
 * are instantiated: Nest reads a route's guards when it builds the route, before any lifecycle hook.
 */
const deferredAuthorizationSetup: Provider = {
  provide: EZID_DEFERRED_AUTHORIZATION_SETUP,
  useFactory: (discovery: DiscoveryService, reflector: Reflector): true => {
    appendDeferredAuthorization(discovery, reflector);
    return true;
  },
  inject: [DiscoveryService, Reflector],
};

/**
 * What the authz area adds to every EzidModule.forRoot()/forRootAsync() dynamic module.
 * Owned by the authz area; the module only concatenates these lists (auth before authz, so the
 * global `EzidAuthGuard` runs before the global `EzidRolesGuard`).
 */
export const authzProviders: Provider[] = [
  { provide: EZID_PROFILE_SOURCE, useClass: EzidApiProfileSource },
  EzidProfileStore,
  EzidAuthorizer,
  EzidAuthorizationHookRegistry,
  EzidRolesGuard,
  globalRolesGuard,
  EzidHttpHeadersInterceptor,
  ezidHeadersInterceptor,
  deferredAuthorizationSetup,
  DiscoveryService,
];
export const authzExports: NonNullable<DynamicModule['exports']> = [
  EZID_PROFILE_SOURCE,
  EzidProfileStore,
  EzidAuthorizer,
  EzidAuthorizationHookRegistry,
  EzidRolesGuard,
];
export const authzControllers: NonNullable<DynamicModule['controllers']> = [];
