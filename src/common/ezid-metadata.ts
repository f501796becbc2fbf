import { Reflector } from '@nestjs/core';

/**
 * The route metadata the decorators write and the guards read, in one place: `decorators/` builds on
 * it, and `auth/` and `authz/` read it without importing the decorators.
 */

/** How the names of a `@Roles()` / `@Permissions()` rule are matched against what the user holds. */
export type EzidMatchMode = 'any' | 'all';

/** A rule after validation: frozen, with its defaults applied. Internal. */
export interface CompiledRule {
  readonly names: readonly string[];
  readonly match: EzidMatchMode;
  readonly prohibited: readonly string[];
  readonly merge: boolean;
}

/** Written by `@Public()`. */
export const PUBLIC_METADATA = Reflector.createDecorator<boolean>({ transform: () => true });
/** Written by `@OptionalAuth()`. */
export const OPTIONAL_AUTH_METADATA = Reflector.createDecorator<boolean>({ transform: () => true });
/** Written by `@Roles()` (a namespaced key, never a bare `'roles'`). */
export const ROLES_METADATA = Reflector.createDecorator<CompiledRule>();
/** Written by `@Permissions()` (a namespaced key, never a bare `'permissions'`). */
export const PERMISSIONS_METADATA = Reflector.createDecorator<CompiledRule>();

/**
 * A static marker of `EzidRolesGuard` (inherited by subclasses), so the boot checks can tell whether a
 * route lists it in `@UseGuards()` without importing the guard. Internal.
 */
export const EZID_ROLES_GUARD_MARKER = Symbol.for('nestjs-ezid:roles-guard');

/**
 * Marks the deferred authorization the module appends to the guards of `@Public()` handlers, so the
 * boot checks leave it out of a route's `@UseGuards()` without importing it. Internal.
 */
export const EZID_DEFERRED_AUTHORIZATION_MARKER = Symbol.for('nestjs-ezid:deferred-authorization');
