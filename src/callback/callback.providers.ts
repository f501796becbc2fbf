import type { DynamicModule, Provider } from '@nestjs/common';

/**
 * What the callback area adds to every EzidModule.forRoot()/forRootAsync() dynamic module.
 * Owned by the callback area; the module only concatenates these lists.
 */
export const callbackProviders: Provider[] = [];
export const callbackExports: NonNullable<DynamicModule['exports']> = [];
export const callbackControllers: NonNullable<DynamicModule['controllers']> = [];
