import type { DynamicModule, NestInterceptor, Provider } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, DiscoveryService } from '@nestjs/core';
import { defer } from 'rxjs';
import { EzidHttpHeadersInterceptor } from '../common/ezid-http-headers.interceptor';
import { EZID_MODULE_OPTIONS } from '../ezid.module-definition';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { EzidAuthorizationHookRegistry } from './authorization-hook.registry';
import { EzidAuthorizer } from './ezid-authorizer';
import { EzidDeferredAuthorizationInterceptor } from './ezid-deferred-authorization.interceptor';
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
 * The module's two app-wide interceptors registered as one: `EzidHttpHeadersInterceptor` around
 * `EzidDeferredAuthorizationInterceptor`, the order two registrations gave (so the deferred check's
 * 403s and 503s get their headers too). Nest wraps every app-wide interceptor in its own layer (an
 * async step, a `defer`, an async-scope binding and a `mergeAll`) on every request of every route; one
 * registration pays that once. The inner call is deferred to subscription, as Nest's layer defers it,
 * so an error it throws reaches the headers interceptor as an error of the stream.
 */
const ezidInterceptors: Provider = {
  provide: APP_INTERCEPTOR,
  useFactory: (
    headers: EzidHttpHeadersInterceptor,
    deferred: EzidDeferredAuthorizationInterceptor,
  ): NestInterceptor => ({
    intercept: (context, next) =>
      headers.intercept(context, { handle: () => defer(() => deferred.intercept(context, next)) }),
  }),
  inject: [EzidHttpHeadersInterceptor, EzidDeferredAuthorizationInterceptor],
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
  EzidDeferredAuthorizationInterceptor,
  ezidInterceptors,
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
