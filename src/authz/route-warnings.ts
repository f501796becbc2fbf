import { RequestMethod } from '@nestjs/common';
import {
  GUARDS_METADATA,
  HOST_METADATA,
  METHOD_METADATA,
  MODULE_PATH,
  PATH_METADATA,
} from '@nestjs/common/constants';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import type { DiscoveryService, Reflector } from '@nestjs/core';
import {
  EZID_DEFERRED_AUTHORIZATION_MARKER,
  EZID_ROLES_GUARD_MARKER,
  PERMISSIONS_METADATA,
  PUBLIC_METADATA,
  ROLES_METADATA,
} from '../common/ezid-metadata';
import { methodNames } from '../common/method-names';

const PARAM = /:([A-Za-z0-9_]+)/g;

function paths(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [''];
}

/**
 * The params of `@Controller({ host })`: `:name` of string hosts, named groups of RegExp hosts (a
 * RegExp without one is reported as `(RegExp)`). Empty when the host names nothing.
 */
export function hostParams(host: unknown): string[] {
  const out = new Set<string>();
  for (const h of Array.isArray(host) ? (host as unknown[]) : [host]) {
    if (typeof h === 'string') for (const m of h.matchAll(PARAM)) out.add(m[1]);
    if (h instanceof RegExp) {
      const groups = [...h.source.matchAll(/\(\?<([A-Za-z0-9_]+)>/g)].map((m) => m[1]);
      // A RegExp without named groups still selects by host: name it so the route is reported.
      for (const g of groups.length ? groups : ['(RegExp)']) out.add(g);
    }
  }
  return [...out];
}

function join(a: string, b: string): string {
  const path = `/${a}/${b}`.replace(/\/+/g, '/');
  return path.length > 1 ? path.replace(/\/$/, '') : path;
}

/** The class of a `@UseGuards()` entry (a class, or an instance). */
function guardClass(guard: unknown): unknown {
  return typeof guard === 'function' ? guard : (guard as { constructor?: unknown } | null)?.constructor;
}

/**
 * A route's `@UseGuards()` entries in Nest's order: the class's, then the handler's (without the
 * deferred authorization the module appends to `@Public()` handlers).
 */
function routeGuards(cls: object, handler: object): unknown[] {
  return [
    ...((Reflect.getMetadata(GUARDS_METADATA, cls) as unknown[] | undefined) ?? []),
    ...((Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[] | undefined) ?? []),
  ].filter((g) => (g as Record<symbol, unknown> | null)?.[EZID_DEFERRED_AUTHORIZATION_MARKER] !== true);
}

/** Whether `guard` (a class or an instance in `@UseGuards()`) is `EzidRolesGuard` or a subclass. */
export function isRolesGuard(guard: unknown): boolean {
  const type = guardClass(guard);
  return (
    typeof type === 'function' &&
    (type as unknown as Record<symbol, unknown>)[EZID_ROLES_GUARD_MARKER] === true
  );
}

/** An excluded route of `setGlobalPrefix(prefix, { exclude })`, as Nest stores it. */
interface ExcludedRoute {
  readonly requestMethod?: RequestMethod;
  readonly pathRegex?: { test(path: string): boolean };
}

/**
 * Where the app mounts routes, read from the application as Nest's router does: the global prefix
 * (`app.setGlobalPrefix()`, with its `exclude` list) and the `RouterModule` path of each module.
 */
class MountedPaths {
  private readonly prefix: string;
  private readonly exclude: readonly ExcludedRoute[];
  private readonly applicationId?: string;

  constructor(discovery: DiscoveryService) {
    let config: ApplicationConfig | undefined;
    let modules: ModulesContainer | undefined;
    for (const wrapper of discovery.getProviders()) {
      if (!config && wrapper.token === ApplicationConfig) config = wrapper.instance as ApplicationConfig;
      if (!modules && wrapper.token === ModulesContainer) modules = wrapper.instance as ModulesContainer;
      if (config && modules) break;
    }
    const prefix = config?.getGlobalPrefix?.();
    this.prefix = typeof prefix === 'string' ? prefix : '';
    const exclude = (config?.getGlobalPrefixOptions?.() as { exclude?: unknown } | undefined)?.exclude;
    this.exclude = Array.isArray(exclude) ? (exclude as ExcludedRoute[]) : [];
    this.applicationId = modules?.applicationId;
  }

  /** The `RouterModule` path of the module that declares the controller, or `''`. */
  modulePath(host: unknown): string {
    const metatype = (host as { metatype?: unknown } | undefined)?.metatype;
    if (typeof metatype !== 'function') return '';
    const path: unknown =
      (this.applicationId !== undefined
        ? Reflect.getMetadata(MODULE_PATH + this.applicationId, metatype)
        : undefined) ?? Reflect.getMetadata(MODULE_PATH, metatype);
    return typeof path === 'string' ? path : '';
  }

  /** The path as served: with the global prefix unless `exclude` lists it (same test as Nest). */
  withPrefix(path: string, method: RequestMethod): string {
    if (!this.prefix) return path;
    const excluded = this.exclude.some(
      (r) =>
        (r.requestMethod === undefined ||
          r.requestMethod === RequestMethod.ALL ||
          r.requestMethod === method) &&
        typeof r.pathRegex?.test === 'function' &&
        r.pathRegex.test(path),
    );
    return excluded ? path : join(this.prefix, path);
  }
}

/** Is the last EzidRolesGuard of these route guards followed by another guard (not EzidAuthGuard)? */
function rolesGuardBeforeAnother(guards: readonly unknown[]): boolean {
  let last = -1;
  guards.forEach((g, i) => {
    if (isRolesGuard(g)) last = i;
  });
  return last >= 0 && guards.slice(last + 1).some((g) => !isRolesGuard(g) && !isEzidAuthGuard(g));
}

/** `EzidAuthGuard` (by name, to keep authz free of an auth import): it never attaches a user after a rule check. */
function isEzidAuthGuard(guard: unknown): boolean {
  const type = guardClass(guard);
  return typeof type === 'function' && type.name === 'EzidAuthGuard';
}

/**
 * The Passport short form: `@UseGuards()` (without `EzidAuthGuard`) ends with a guard other than
 * `EzidRolesGuard`, so a user that guard attaches is authorized only by the deferred authorization the
 * module appends to the handler's guards, which the route's own `@UseGuards()` does not show.
 */
function endsWithAnotherGuard(guards: readonly unknown[]): boolean {
  const others = guards.filter((g) => !isEzidAuthGuard(g));
  return others.length > 0 && !isRolesGuard(others[others.length - 1]);
}

/**
 * One line per route that carries `@Roles()` / `@Permissions()` and
 * - has path parameters, none of which is the tenant param, in its full mounted path (global prefix,
 *   `RouterModule` path, controller and handler paths): the request names its tenant where the
 *   guard does not look (`/orgs/:orgId/...`), so the rule is checked in another tenant or refused;
 * - is host-routed with host parameters (`@Controller({ host: ':org.example.com' })`), none of which
 *   is the tenant param: the same, in the host;
 * - with `globalGuard: false`, does not list `EzidRolesGuard` (or a subclass) in
 *   `@UseGuards()`: the rule is enforced by nothing, or lists it before another guard;
 * and one line per `@Public()` route without a rule, with `globalGuard` on, whose `@UseGuards()` ends
 * with another guard (the Passport short form) when its path names the tenant or authorization hooks
 * exist. Internal.
 */
export function routeWarnings(
  discovery: DiscoveryService,
  reflector: Reflector,
  tenantParam: string,
  options: { readonly globalGuard: boolean; readonly hooks?: number },
): string[] {
  const out = new Set<string>();
  const mounted = new MountedPaths(discovery);
  for (const wrapper of discovery.getControllers()) {
    const cls = wrapper.metatype as (new (...a: unknown[]) => unknown) | null;
    if (typeof cls !== 'function') continue;
    const modulePath = mounted.modulePath(wrapper.host);
    const hosts = hostParams(Reflect.getMetadata(HOST_METADATA, cls));
    const classHasRule =
      reflector.get(ROLES_METADATA, cls) !== undefined ||
      reflector.get(PERMISSIONS_METADATA, cls) !== undefined;
    for (const name of methodNames(cls.prototype as object)) {
      const handler = Object.getOwnPropertyDescriptor(findOwner(cls.prototype as object, name), name)
        ?.value as unknown;
      if (typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) continue;
      const hasRule =
        classHasRule ||
        reflector.get(ROLES_METADATA, handler) !== undefined ||
        reflector.get(PERMISSIONS_METADATA, handler) !== undefined;
      const guards = routeGuards(cls, handler);
      const deferred =
        !hasRule &&
        options.globalGuard &&
        (reflector.get(PUBLIC_METADATA, handler as never) === true ||
          reflector.get(PUBLIC_METADATA, cls) === true) &&
        endsWithAnotherGuard(guards);
      if (!hasRule && !deferred) continue;
      const guarded = options.globalGuard || guards.some(isRolesGuard);
      for (const prefix of paths(Reflect.getMetadata(PATH_METADATA, cls))) {
        for (const sub of paths(Reflect.getMetadata(PATH_METADATA, handler))) {
          const path = mounted.withPrefix(join(join(modulePath, prefix), sub), method);
          const route = `${RequestMethod[method] ?? 'ALL'} ${path} (${cls.name}.${name})`;
          const params = [...path.matchAll(PARAM)].map((m) => m[1]);
          if (!hasRule) {
            if (params.includes(tenantParam) || (options.hooks ?? 0) > 0) {
              out.add(
                `${route} is @Public() and its @UseGuards() does not end with EzidRolesGuard: a user a later ` +
                  `guard attaches (AuthGuard('ezid-jwt')) is authorized (tenant membership, hooks) only by ` +
                  `the deferred authorization nestjs-ezid appends after the route's guards, which the route ` +
                  `does not show. List EzidRolesGuard last: ` +
                  `@UseGuards(AuthGuard('ezid-jwt'), EzidRolesGuard).`,
              );
            }
            continue;
          }
          if (!options.globalGuard && rolesGuardBeforeAnother(guards)) {
            out.add(
              `${route} has @Roles()/@Permissions() and lists EzidRolesGuard before another guard in ` +
                `@UseGuards(): EzidRolesGuard runs before that guard attaches the user, so the rule can only ` +
                `answer 401. List EzidRolesGuard last: @UseGuards(AuthGuard('ezid-jwt'), EzidRolesGuard).`,
            );
          }
          if (!guarded) {
            out.add(
              `${route} has @Roles()/@Permissions() but globalGuard is false and EzidRolesGuard is not in its ` +
                `@UseGuards(): the rule is not enforced. Add @UseGuards(EzidAuthGuard, EzidRolesGuard).`,
            );
          }
          if (hosts.length > 0 && !hosts.includes(tenantParam)) {
            out.add(
              `${route} has @Roles()/@Permissions() and the host parameter(s) ` +
                `${hosts.map((p) => `:${p}`).join(', ')}, none of which is the tenant param :${tenantParam}: ` +
                `the guard does not read the tenant from this host. Rename the host parameter, set ` +
                `tenant.param, or name the tenant in the header or tenant.resolve.`,
            );
          }
          if (params.length === 0 || params.includes(tenantParam)) continue;
          out.add(
            `${route} has @Roles()/@Permissions() and the ` +
              `path parameter(s) ${params.map((p) => `:${p}`).join(', ')}, none of which is the tenant param ` +
              `:${tenantParam}: the guard does not read the tenant from this path. Rename the parameter, set ` +
              `tenant.param, or name the tenant in the header or tenant.resolve.`,
          );
        }
      }
    }
  }
  return [...out];
}

function findOwner(proto: object, name: string): object {
  for (let p: object | null = proto; p; p = Object.getPrototypeOf(p) as object | null) {
    if (Object.hasOwn(p, name)) return p;
  }
  return proto;
}
