import type { DynamicModule, Provider } from '@nestjs/common';

/**
 * What the client area adds to every EzidModule.forRoot()/forRootAsync() dynamic module.
 * Owned by the client area; the module only concatenates these lists.
 */
export const clientProviders: Provider[] = [];
export const clientExports: NonNullable<DynamicModule['exports']> = [];
export const clientControllers: NonNullable<DynamicModule['controllers']> = [];
