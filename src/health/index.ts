export { EzidHealthIndicator } from './ezid-health.indicator';
export type { EzidHealthIndicatorResult, EzidHealthReport, EzidHealthStatus } from './ezid-health.indicator';
