// Public exports of the OpenAPI area (no import of @nestjs/swagger: the document is read structurally).
export { applyEzidOpenApi } from './ezid-openapi';
export type {
  OpenAPIObjectLike,
  EzidOpenApiAppLike,
  EzidOpenApiOptions,
  EzidOpenApiExtension,
  EzidOpenApiRule,
} from './ezid-openapi';
export { EZID_ERROR_CODES, EZID_ERROR_STATUS } from '../common/ezid-http.exception';
export type { EzidErrorCode, EzidErrorBody } from '../common/ezid-http.exception';
