// Public exports of the client area.
export { EzidService } from './ezid.service';
export type {
  EzidMagicLinkApi,
  EzidEmailCodeApi,
  EzidSmsApi,
  EzidPasskeysApi,
  EzidAuthApi,
  EzidTokensApi,
  EzidLegacyApi,
  EzidUsersApi,
  EzidOrganizationsApi,
  EzidRolesApi,
  EzidPermissionsApi,
  EzidMfaApi,
} from './ezid.service';
export { EzidApiError, EzidUnavailableError, EzidValidationError } from './ezid-api.error';
export { EZID_ENDPOINTS } from './ezid-endpoints';
export type {
  EzidEndpointName,
  EzidEndpointDefinition,
  EzidHttpMethod,
  EzidApiBase,
  EzidClientIdPlacement,
} from './ezid-endpoints';
export { EZID_USER_AGENT } from './ezid-http.client';
export type * from './ezid.types';
