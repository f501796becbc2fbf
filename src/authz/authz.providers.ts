import type { DynamicModule, Provider } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, DiscoveryService } from '@nestjs/core';
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
  { provide: APP_INTERCEPTOR, useClass: EzidHttpHeadersInterceptor },
  // After the headers interceptor, so its 503s and 403s get their headers too (also applied here).
  { provide: APP_INTERCEPTOR, useClass: EzidDeferredAuthorizationInterceptor },
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
