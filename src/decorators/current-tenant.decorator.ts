import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { getEzidTenant } from '../authz/authz-context';

/**
 * The `EzidTenant` that `EzidRolesGuard` authorized the request against: the tenant named by the
 * route param / header / `tenant.resolve`, or the user's only tenant. `undefined` when the guard
 * resolved none (a route without `@Roles()` / `@Permissions()` that names no tenant, for a user with
 * several tenants or with `profile.source: 'api'`).
 *
 * @example
 * ```ts
 * @Get('orgs/:tenantId/settings')
 * @Roles('Admin')
 * settings(@CurrentTenant() tenant: EzidTenant) {
 *   return { tenant: tenant.name };
 * }
 * ```
 */
export const CurrentTenant = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  getEzidTenant(context),
);
