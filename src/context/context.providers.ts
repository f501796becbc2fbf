import type { DynamicModule, Provider } from '@nestjs/common';
import { EzidContext } from './ezid-context';

/**
 * What the request-context area adds to every EzidModule.forRoot()/forRootAsync() dynamic module.
 * Owned by the context area; the module only concatenates these lists.
 */
export const contextProviders: Provider[] = [EzidContext];
export const contextExports: NonNullable<DynamicModule['exports']> = [EzidContext];
