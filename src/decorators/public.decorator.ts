import { PUBLIC_METADATA } from '../common/ezid-metadata';

/**
 * Marks a route (or a whole controller) as public: `EzidAuthGuard` lets it through without reading
 * any token. It never switches off a rule: a route that also has `@Roles()` / `@Permissions()` (on the
 * handler, the class or a base class) is still authenticated and authorized.
 *
 * @example
 * ```ts
 * @Public()
 * @Get('health')
 * health() { return { ok: true }; }
 * ```
 */
export const Public = PUBLIC_METADATA;
