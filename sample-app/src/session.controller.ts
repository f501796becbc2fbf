import { Controller, Get, Header } from '@nestjs/common';
import { CurrentUser, EzidUser, OptionalAuth, toPublicUser } from 'nestjs-ezid';

/**
 * The page's "who am I?" on load. `@OptionalAuth()`: signed out is a normal state, answered 200
 * `{ user: null }` rather than the 401 of `GET /auth/ezid/me`, so a signed-out page load logs no
 * failed request in the browser console. A present but invalid token is still a 401.
 */
@Controller('api')
export class SessionController {
  @OptionalAuth()
  @Get('session')
  @Header('Cache-Control', 'no-store')
  session(@CurrentUser() user?: EzidUser) {
    return { user: user ? toPublicUser(user) : null };
  }
}
