import type { DynamicModule, Provider } from '@nestjs/common';

/**
 * What the authz area adds to every EzidModule.forRoot()/forRootAsync() dynamic module.
 * Owned by the authz area; the module only concatenates these lists.
 */
export const authzProviders: Provider[] = [];
export const authzExports: NonNullable<DynamicModule['exports']> = [];
export const authzControllers: NonNullable<DynamicModule['controllers']> = [];
