import { CanActivate, Injectable, Logger, OnModuleInit, Scope } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { InjectEzidOptions } from '../ezid.module-definition';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { EZID_AUTHORIZATION_HOOK, EzidAuthorizationHookOptions } from './authorization-hook';
import { routeWarnings } from './route-warnings';

/** The class a provider was registered with, or of the object it made (`useFactory`, `useValue`, `useExisting`). */
function hookClassOf(
  wrapper: InstanceWrapper,
): { type: object; meta: EzidAuthorizationHookOptions } | undefined {
  const candidates: unknown[] = [wrapper.metatype];
  const instance = wrapper.instance as unknown;
  if (typeof instance === 'object' && instance !== null) candidates.push(instance.constructor);
  for (const type of candidates) {
    if (typeof type !== 'function') continue;
    const meta = Reflect.getMetadata(EZID_AUTHORIZATION_HOOK, type) as
      EzidAuthorizationHookOptions | undefined;
    if (meta) return { type, meta };
  }
  return undefined;
}

/** A singleton provider: default scope, not transient, not request-scoped (or durable), and no such dependency. */
function isSingleton(wrapper: InstanceWrapper): boolean {
  return (
    (wrapper.scope === undefined || wrapper.scope === Scope.DEFAULT) &&
    !wrapper.isTransient &&
    wrapper.durable !== true &&
    wrapper.isDependencyTreeStatic()
  );
}

/**
 * The app's `@EzidAuthorizationHook()` guards, discovered once when the module initializes.
 * Provided and exported by `EzidModule` and a required dependency of `EzidRolesGuard`, so every
 * instance of the guard (the app-wide one, and each one Nest creates for a `@UseGuards()` in any
 * module) runs the same hooks. Until discovery has run, `hooks` throws: the guard then denies.
 * Exported for subclasses of `EzidRolesGuard` with their own constructor (inject it and pass it on);
 * apps do not call it. It also logs the boot warnings about routes the guard cannot protect.
 */
@Injectable()
export class EzidAuthorizationHookRegistry implements OnModuleInit {
  private readonly logger = new Logger('EzidRolesGuard');
  private list?: readonly CanActivate[];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    @InjectEzidOptions() private readonly options: ResolvedEzidOptions,
  ) {}

  /** Collects the hooks (refusing any that is not a singleton) and warns about routes the guard cannot protect. */
  onModuleInit(): void {
    if (this.list) return;
    const found: { order: number; index: number; hook: CanActivate }[] = [];
    const seenTypes = new Set<object>();
    const seenInstances = new Set<unknown>();
    this.discovery.getProviders().forEach((wrapper, index) => {
      const marked = hookClassOf(wrapper);
      if (!marked) return;
      const name = (marked.type as { name?: string }).name ?? 'a provider';
      if (!isSingleton(wrapper)) {
        throw new Error(
          `nestjs-ezid: @EzidAuthorizationHook() ${name} must be a singleton provider: transient, ` +
            `request-scoped and durable providers (or providers that depend on one) cannot be run by ` +
            `EzidRolesGuard. Remove the scope, or list the guard in @UseGuards() instead.`,
        );
      }
      const instance = wrapper.instance as CanActivate | undefined;
      if (!instance || typeof instance.canActivate !== 'function') {
        throw new Error(`nestjs-ezid: @EzidAuthorizationHook() ${name} must implement canActivate()`);
      }
      if (seenTypes.has(marked.type) || seenInstances.has(instance)) return;
      seenTypes.add(marked.type);
      seenInstances.add(instance);
      found.push({ order: marked.meta.order ?? 0, index, hook: instance });
    });
    this.list = Object.freeze(
      found.sort((a, b) => a.order - b.order || a.index - b.index).map((f) => f.hook),
    );
    const lines = routeWarnings(this.discovery, this.reflector, this.options.tenant.param, {
      globalGuard: this.options.globalGuard,
      hooks: this.list.length,
    });
    for (const line of lines) this.logger.warn(line);
  }

  /** Whether discovery has run (the app is initialized). */
  get ready(): boolean {
    return this.list !== undefined;
  }

  /** The hooks in run order. Throws before discovery has run. */
  get hooks(): readonly CanActivate[] {
    if (!this.list)
      throw new Error('nestjs-ezid: authorization hooks used before the application was initialized');
    return this.list;
  }
}
