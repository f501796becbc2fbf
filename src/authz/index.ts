// Public exports of the authz area.
export { EzidRolesGuard, INSUFFICIENT_SCOPE_CHALLENGE } from './ezid-roles.guard';
export { EzidAuthorizer, EZID_AUTHZ_DENIALS } from './ezid-authorizer';
export type { EzidAuthzDecision, EzidAuthzDeniedCode } from './ezid-authorizer';
export type { EzidAuthzRequirement, EzidMatchMode, EzidNameRequirement, EzidRuleOptions } from './authz-rule';
export { EZID_PROFILE_SOURCE, EzidProfileCache } from './ezid-profile.source';
export type { EzidProfileSource } from './ezid-profile.source';
export { getEzidTenant } from './authz-context';
export { isWellFormedTenantId, MAX_TENANT_ID_LENGTH } from './tenant-id';
export { EzidApiProfileSource, tenantsFromOrganizations } from './ezid-api-profile.source';
export { EzidProfileStore } from './ezid-profile.source';
export { EzidAuthorizationHook } from './authorization-hook';
export { EzidAuthorizationHookRegistry } from './authorization-hook.registry';
export type { EzidAuthorizationHookOptions } from './authorization-hook';
