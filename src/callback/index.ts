// Public exports of the callback area.
export { EzidCallbackController, toPublicUser } from './ezid-callback.controller';
export type {
  EzidPublicUser,
  EzidJsonSessionBody,
  EzidCookieSessionBody,
  EzidLoginStartedBody,
} from './ezid-callback.controller';
export { EzidCallbackService } from './ezid-callback.service';
export type { EzidSession, EzidRefreshFamily, EzidLogoutCredentials } from './ezid-callback.service';
export { EzidCallbackThrottlerGuard, EzidSessionThrottlerGuard } from './callback-throttler.guard';
export { sanitizeRedirect, isAllowedRedirectPath } from './redirect-sanitizer';
export { EZID_ERROR_QUERY_PARAM } from './callback-http';
export type { EzidRedirectPolicy } from './redirect-sanitizer';
export {
  EzidCallbackDto,
  EzidCallbackQueryDto,
  EzidMagicLinkDto,
  EzidEmailCodeDto,
  EzidSmsDto,
  EzidCodeVerifyDto,
  EzidRefreshDto,
} from './callback.dto';
export { ezidCookieNames, isSecureCookieDeployment } from './session-cookies';
export type { EzidCookieNames } from './session-cookies';
