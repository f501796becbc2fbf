export { EZID_INSTRUMENTATION_SCOPE, EZID_METRICS } from './ezid-telemetry';
