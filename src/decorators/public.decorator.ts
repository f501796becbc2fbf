import { Reflector } from '@nestjs/core';

/**
 * Marks a route (or a whole controller) as public: `EzidAuthGuard` lets it through without reading
 * any token, and `EzidRolesGuard` does not run.
 *
 * @example
 * ```ts
 * @Public()
 * @Get('health')
 * health() { return { ok: true }; }
 * ```
 */
export const Public = Reflector.createDecorator<boolean>({ transform: () => true });
