import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import type { DiscoveryService, Reflector } from '@nestjs/core';
import { EzidHttpException } from '../common/ezid-http.exception';
import { EZID_DEFERRED_AUTHORIZATION_MARKER, PUBLIC_METADATA } from '../common/ezid-metadata';
import { toContextException } from '../common/http-context';
import { anonymousPassBy, getAuthzView } from './authz-context';
import { INSUFFICIENT_SCOPE_CHALLENGE } from './ezid-roles.guard';
import { methodNames } from '../common/method-names';

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

function denied(context: ExecutionContext): never {
  throw toContextException(
    context,
    new EzidHttpException(403, 'access_denied', 'Access to this resource is denied.', {
      'WWW-Authenticate': INSUFFICIENT_SCOPE_CHALLENGE,
    }),
  );
}

/**
 * The deferred authorization, the last guard of every `@Public()` handler (see
 * `appendDeferredAuthorization`): when an `EzidRolesGuard` let the request through anonymously (a
 * `@Public()` route without a rule) and a later guard has since attached a user (the Passport short
 * form, `@Public() @UseGuards(AuthGuard('ezid-jwt'))`), that same guard authorizes the request again
 * with the user (tenant membership when it names a tenant, the `@EzidAuthorizationHook()` guards);
 * anything but `true` is 403 `access_denied`. Otherwise it allows at once. One object for every app of
 * the process: the guard to run is the one that recorded the anonymous pass. Internal.
 */
export const EZID_DEFERRED_AUTHORIZATION: CanActivate = Object.freeze({
  [EZID_DEFERRED_AUTHORIZATION_MARKER]: true,
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const view = getAuthzView(context);
    if (!view?.user) return true;
    const guard = anonymousPassBy(view);
    if (!guard) return true;
    const allowed = guard.canActivate(context);
    if (isThenable(allowed)) {
      return Promise.resolve(allowed).then((a) => (a === true ? true : denied(context)));
    }
    return allowed === true ? true : denied(context);
  },
});

/**
 * Appends `EZID_DEFERRED_AUTHORIZATION` to the method guards (`@UseGuards()` metadata) of every
 * handler that is `@Public()` or belongs to a `@Public()` class (base classes included), in every
 * controller, resolver and gateway of the app, once. Nest reads a handler's guards when it builds the
 * route (at `app.init()`, before `onModuleInit`; GraphQL resolvers and gateways later still), so this
 * runs while the module's providers are instantiated. Method guards run after every app-wide, class
 * and other method guard and before any interceptor, so the check happens in the guard phase. No
 * other route gets it: `EzidRolesGuard` lets a request through anonymously only on a `@Public()` route.
 * Internal.
 */
export function appendDeferredAuthorization(discovery: DiscoveryService, reflector: Reflector): void {
  const seen = new Set<unknown>();
  for (const wrapper of [...discovery.getControllers(), ...discovery.getProviders()]) {
    const cls = wrapper.metatype as unknown;
    // A factory provider's metatype is its factory function, not a class with handlers.
    if (typeof cls !== 'function' || wrapper.inject || seen.has(cls)) continue;
    seen.add(cls);
    const proto = (cls as { prototype?: unknown }).prototype;
    if (typeof proto !== 'object' || proto === null) continue;
    const classPublic = reflector.get(PUBLIC_METADATA, cls as never) !== undefined;
    for (const name of methodNames(proto)) {
      const handler = Object.getOwnPropertyDescriptor(ownerOf(proto, name), name)?.value as unknown;
      if (typeof handler !== 'function') continue;
      if (!classPublic && reflector.get(PUBLIC_METADATA, handler as never) === undefined) continue;
      const guards = (Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[] | undefined) ?? [];
      if (guards.includes(EZID_DEFERRED_AUTHORIZATION)) continue;
      Reflect.defineMetadata(GUARDS_METADATA, [...guards, EZID_DEFERRED_AUTHORIZATION], handler);
    }
  }
}

function ownerOf(proto: object, name: string): object {
  for (let p: object | null = proto; p; p = Object.getPrototypeOf(p) as object | null) {
    if (Object.hasOwn(p, name)) return p;
  }
  return proto;
}
