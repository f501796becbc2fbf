// Public exports of the decorators area.
export { Public } from './public.decorator';
export { OptionalAuth } from './optional-auth.decorator';
export { Roles } from './roles.decorator';
export { Permissions } from './permissions.decorator';
export { CurrentUser } from './current-user.decorator';
export { CurrentTenant } from './current-tenant.decorator';
