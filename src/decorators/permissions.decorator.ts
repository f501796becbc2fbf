import type { CustomDecorator } from '@nestjs/common';
import { EzidRuleOptions, compileDecoratorArgs } from '../authz/authz-rule';
import { PERMISSIONS_METADATA } from '../common/ezid-metadata';

/**
 * Requires permissions in the request's tenant: the union of the permissions of the roles the user
 * holds there (`permissions: null` on a role means none). Enforced by `EzidRolesGuard`.
 *
 * - Default match `'all'`: every name is needed. `{ match: 'any' }` accepts one of them.
 * - `{ prohibited: [...] }`: holding any of these permissions in the tenant denies.
 * - `@Permissions()` with no names denies everyone.
 * - Names are compared exactly (`Team View` is not `team view`).
 * - On a handler it replaces the class's `@Permissions()`, unless `{ merge: true }`: then both must pass.
 * - Denials are 403 `insufficient_permission` (or `tenant_required` / `tenant_forbidden`).
 *
 * @example
 * ```ts
 * @Post('refund')
 * @Permissions('Billing Manage')                              // needs it in the request's tenant
 * refund() {}
 *
 * @Get('team')
 * @Permissions('Team View', 'Team Manage', { match: 'any' })
 * team() {}
 * ```
 */
export function Permissions(...args: Array<string | EzidRuleOptions>): CustomDecorator {
  return PERMISSIONS_METADATA(compileDecoratorArgs('permissions', args));
}
