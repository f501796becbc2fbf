import { SetMetadata } from '@nestjs/common';

/** Metadata key of `@EzidAuthorizationHook()` (namespaced). Internal. */
export const EZID_AUTHORIZATION_HOOK = 'nestjs-ezid:authorization-hook';

/** Options of `@EzidAuthorizationHook()`. */
export interface EzidAuthorizationHookOptions {
  /** Hooks run in ascending `order` (default 0), then in provider registration order. */
  readonly order?: number;
}

/**
 * Marks an injectable `CanActivate` class as a guard that `EzidRolesGuard` runs **after**
 * authentication and authorization, wherever `EzidRolesGuard` runs (app-wide with `globalGuard`).
 * Use it for checks that need the user, such as a block-list: an `APP_GUARD` of the app's root module
 * runs before the module's guards and never sees `request.user`.
 *
 * Register the class as an ordinary (singleton) provider of any module, not as an `APP_GUARD`.
 * The hook sees `@CurrentUser()` / `getEzidUser(context)` and `@CurrentTenant()` / `getEzidTenant(context)`;
 * the user is `undefined` on `@Public()` / `@OptionalAuth()` routes called without a token.
 * Returning anything but `true` is 403 `access_denied`; a thrown exception is sent as is.
 *
 * @example
 * ```ts
 * @Injectable()
 * @EzidAuthorizationHook()
 * export class BlockListGuard implements CanActivate {
 *   constructor(private readonly blocked: BlockList) {}
 *   canActivate(context: ExecutionContext): boolean {
 *     const user = getEzidUser(context);
 *     return !user || !this.blocked.has(user.id);
 *   }
 * }
 *
 * @Module({ imports: [EzidModule.forRoot(options)], providers: [BlockList, BlockListGuard] })
 * export class AppModule {}
 * ```
 */
export function EzidAuthorizationHook(options: EzidAuthorizationHookOptions = {}): ClassDecorator {
  if (options.order !== undefined && !Number.isFinite(options.order)) {
    throw new TypeError('nestjs-ezid: @EzidAuthorizationHook() order must be a finite number');
  }
  return SetMetadata(EZID_AUTHORIZATION_HOOK, Object.freeze({ ...options }));
}
