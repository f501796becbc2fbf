import type { DynamicModule, Provider } from '@nestjs/common';

/**
 * What the auth area adds to every EzidModule.forRoot()/forRootAsync() dynamic module.
 * Owned by the auth area; the module only concatenates these lists.
 */
export const authProviders: Provider[] = [];
export const authExports: NonNullable<DynamicModule['exports']> = [];
export const authControllers: NonNullable<DynamicModule['controllers']> = [];
