import {
  Controller,
  type DynamicModule,
  type FactoryProvider,
  Logger,
  type Provider,
  type Type,
} from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { EZID_MODULE_OPTIONS } from '../ezid.module-definition';
import { EZID_CALLBACK_DEFAULT_PATH } from './callback.constants';
import { EZID_CALLBACK_ROUTE_HANDLERS, EzidCallbackController } from './ezid-callback.controller';
import { ezidCookieNames, isSecureCookieDeployment } from './session-cookies';

/** Injection token of the provider that mounts the callback controller. Internal. */
export const EZID_CALLBACK_MOUNT = Symbol.for('nestjs-ezid:callback-mount');

type Handler = (...args: unknown[]) => unknown;

/**
 * A fresh subclass of `EzidCallbackController` with its own route-handler functions (each carrying
 * a copy of the base handler's metadata), so its prefix can be set, and its routes removed, per
 * module instance without touching `EzidCallbackController` or another app in the same process.
 */
export function createEzidCallbackControllerClass(): Type<EzidCallbackController> {
  // Same name as the base class: it appears in logs and in the throttler's keys.
  const Mounted = { EzidCallbackController: class extends EzidCallbackController {} }.EzidCallbackController;
  for (const name of EZID_CALLBACK_ROUTE_HANDLERS) {
    const base = EzidCallbackController.prototype[name] as unknown as Handler;
    const own = {
      [name](this: EzidCallbackController, ...args: unknown[]): unknown {
        return base.apply(this, args);
      },
    }[name];
    for (const key of Reflect.getOwnMetadataKeys(base)) {
      Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, base), own);
    }
    Object.defineProperty(Mounted.prototype, name, { value: own, writable: true, configurable: true });
  }
  Controller(EZID_CALLBACK_DEFAULT_PATH)(Mounted);
  return Mounted;
}

/**
 * Applies the resolved options to a class made by `createEzidCallbackControllerClass()`, before
 * Nest registers routes (providers are instantiated before `app.init()` resolves routes, so this
 * follows `forRootAsync` options too):
 * - `callback: false`: every route of the class is removed (no route exists);
 * - otherwise the controller path is `callback.path`; in `json` mode `GET /callback` is removed.
 */
export function mountEzidCallbackController(
  cls: Type<EzidCallbackController>,
  options: ResolvedEzidOptions,
): void {
  const cb = options.callback;
  const proto = cls.prototype as unknown as Record<string, Handler>;
  for (const name of EZID_CALLBACK_ROUTE_HANDLERS) {
    const fn = proto[name];
    const unmount = cb === false || (name === 'callbackRedirect' && cb.mode !== 'cookie');
    if (unmount) {
      Reflect.deleteMetadata(PATH_METADATA, fn);
      Reflect.deleteMetadata(METHOD_METADATA, fn);
    }
  }
  if (cb !== false) Reflect.defineMetadata(PATH_METADATA, cb.path, cls);
}

/**
 * Callback defaults other areas must agree on, applied to the resolved options: in cookie mode,
 * `token.cookieName` defaults to the access-token cookie the controller sets (`__Host-ezid_at`,
 * or `ezid_at` on plain-http localhost), so `EzidAuthGuard` reads it.
 */
export function applyEzidCallbackDefaults(options: ResolvedEzidOptions): ResolvedEzidOptions {
  const cb = options.callback;
  if (cb === false || cb.mode !== 'cookie' || options.token.cookieName) return options;
  const cookieName = ezidCookieNames(isSecureCookieDeployment(cb.publicUrl)).access;
  return Object.freeze({ ...options, token: Object.freeze({ ...options.token, cookieName }) });
}

/** The mount provider of one module instance. */
export function ezidCallbackMountProvider(cls: Type<EzidCallbackController>): Provider {
  return {
    provide: EZID_CALLBACK_MOUNT,
    useFactory: (options: ResolvedEzidOptions) => {
      mountEzidCallbackController(cls, options);
      if (
        options.callback &&
        options.callback.mode === 'cookie' &&
        !options.callback.flowSecret &&
        !options.clientSecret
      ) {
        new Logger('EzidCallback').warn(
          'callback.flowSecret and clientSecret are unset: the login-flow cookie key is random per process, so a login started on one instance fails on another',
        );
      }
      return cls;
    },
    inject: [EZID_MODULE_OPTIONS],
  };
}

/**
 * Hook for `EzidModule`: gives each `forRoot()` / `forRootAsync()` dynamic module its own callback
 * controller class (and mount provider), and wraps the resolved-options provider with
 * `applyEzidCallbackDefaults()`. Only touches the entries the callback area contributed.
 */
export function withEzidCallback(
  module: DynamicModule,
  placeholder: { controller: Type<unknown>; mountProvider: Provider },
): DynamicModule {
  const cls = createEzidCallbackControllerClass();
  const controllers = (module.controllers ?? []).map((c) => (c === placeholder.controller ? cls : c));
  const providers = (module.providers ?? []).map((p) => {
    if (p === placeholder.mountProvider) return ezidCallbackMountProvider(cls);
    const fp = p as FactoryProvider;
    if (
      fp &&
      typeof fp === 'object' &&
      fp.provide === EZID_MODULE_OPTIONS &&
      typeof fp.useFactory === 'function'
    ) {
      const inner = fp.useFactory;
      return {
        ...fp,
        useFactory: async (...args: unknown[]) => applyEzidCallbackDefaults(await inner(...args)),
      };
    }
    return p;
  });
  return { ...module, controllers, providers };
}
