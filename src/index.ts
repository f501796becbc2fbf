export { EzidModule } from './ezid.module';
export { EZID_MODULE_OPTIONS, InjectEzidOptions } from './ezid.module-definition';
export type { EzidOptionsFactory } from './ezid.module-definition';
export type {
  EzidModuleOptions,
  EzidHttpOptions,
  EzidTokenOptions,
  EzidJwksOptions,
  EzidTenantOptions,
  EzidProfileOptions,
  EzidCallbackOptions,
  EzidCallbackRateLimitOptions,
  EzidCallbackRefreshOptions,
  EzidStoreOptions,
  EzidHealthOptions,
  EzidAuditOptions,
} from './ezid.options';
export type { ResolvedEzidOptions } from './ezid-options.validation';
export { EzidError, EzidConfigurationError } from './ezid.errors';
export type { EzidConfigurationIssue } from './ezid.errors';
export { EZID_JWT_STRATEGY } from './ezid.constants';
export type { EzidUser, EzidTenant, EzidRole } from './interfaces/ezid-user.interface';
export * from './client';
export * from './auth';
export * from './authz';
export * from './callback';
export * from './decorators';
export * from './store';
export * from './context';
export * from './health';
export * from './openapi';
export * from './telemetry';
export * from './audit';
