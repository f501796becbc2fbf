import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { getAuthzView } from '../authz/authz-context';
import type { EzidUser } from '../interfaces/ezid-user.interface';

/**
 * The authenticated `EzidUser` (or one of its fields), as attached by `EzidAuthGuard`, on HTTP
 * (Express, Fastify: `request.user`), GraphQL, WebSocket and microservice handlers (`getEzidUser()`). `undefined` on `@Public()` / `@OptionalAuth()`
 * routes without a token.
 *
 * @example
 * ```ts
 * @Get('me')
 * me(@CurrentUser() user: EzidUser, @CurrentUser('email') email?: string) {
 *   return { id: user.id, email };
 * }
 * ```
 */
export const CurrentUser = createParamDecorator(
  (field: keyof EzidUser | undefined, context: ExecutionContext): unknown => {
    const user = getAuthzView(context)?.user;
    if (!user || field === undefined) return user;
    return Object.hasOwn(user, field) ? user[field] : undefined;
  },
);
