import { OPTIONAL_AUTH_METADATA } from '../common/ezid-metadata';

/**
 * Authentication is optional on this route: with no token the request goes through with no user;
 * with a valid token the user is attached; an invalid token is still rejected with 401.
 *
 * @example
 * ```ts
 * @OptionalAuth()
 * @Get('feed')
 * feed(@CurrentUser() user?: EzidUser) { ... }
 * ```
 */
export const OptionalAuth = OPTIONAL_AUTH_METADATA;
