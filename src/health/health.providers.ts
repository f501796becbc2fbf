import type { DynamicModule, Provider } from '@nestjs/common';
import { EzidHealthIndicator } from './ezid-health.indicator';

/**
 * What the health area adds to every EzidModule.forRoot()/forRootAsync() dynamic module (no
 * per-request work: the indicator runs when a health check calls it). Owned by the health area.
 */
export const healthProviders: Provider[] = [EzidHealthIndicator];
export const healthExports: NonNullable<DynamicModule['exports']> = [EzidHealthIndicator];
