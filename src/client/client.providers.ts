import type { DynamicModule, Provider } from '@nestjs/common';
import { EzidService } from './ezid.service';

/**
 * What the client area adds to every EzidModule.forRoot()/forRootAsync() dynamic module.
 * Owned by the client area; the module only concatenates these lists.
 */
export const clientProviders: Provider[] = [EzidService];
export const clientExports: NonNullable<DynamicModule['exports']> = [EzidService];
export const clientControllers: NonNullable<DynamicModule['controllers']> = [];
