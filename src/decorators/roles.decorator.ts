import type { CustomDecorator } from '@nestjs/common';
import { EzidRuleOptions, compileDecoratorArgs } from '../authz/authz-rule';
import { ROLES_METADATA } from '../common/ezid-metadata';

/**
 * Requires roles in the request's tenant (named by the route param, the tenant header or
 * `tenant.resolve`; none is 403 `tenant_required` unless `tenant.singleTenantFallback` applies).
 * Enforced by `EzidRolesGuard`, also on a `@Public()` route.
 *
 * - Default match `'any'`: one of the names is enough. `{ match: 'all' }` needs every name.
 * - `{ prohibited: [...] }`: holding any of these roles in the tenant denies.
 * - `@Roles()` with no names denies everyone.
 * - Names are compared exactly (`Admin` is not `admin`); a role in another tenant never counts.
 * - On a handler it replaces the class's `@Roles()`, unless `{ merge: true }`: then both must pass.
 * - Denials are 403 `insufficient_role` (or `tenant_required` / `tenant_forbidden`).
 *
 * @example
 * ```ts
 * @Controller('orgs/:tenantId/billing')
 * @Roles('Admin', 'Billing')                                 // any of these, in :tenantId
 * class BillingController {
 *   @Get() list() {}                                        // Admin or Billing
 *   @Post('close') @Roles('Owner', 'Admin', { match: 'all' }) close() {} // both, instead of the class rule
 *   @Post('refund') @Roles('Refunds', { merge: true, prohibited: ['Suspended'] }) refund() {}
 * }
 * ```
 */
export function Roles(...args: Array<string | EzidRuleOptions>): CustomDecorator {
  return ROLES_METADATA(compileDecoratorArgs('roles', args));
}
