import { RequestMethod, VERSION_NEUTRAL, VersioningType } from '@nestjs/common';
import type { VersioningOptions } from '@nestjs/common';

/** `@Version()` / `@Controller({ version })` values. */
type VersionValue = string | symbol | ReadonlyArray<string | symbol>;
import {
  GUARDS_METADATA,
  HOST_METADATA,
  METHOD_METADATA,
  MODULE_PATH,
  PATH_METADATA,
  VERSION_METADATA,
} from '@nestjs/common/constants';
import type { EzidClass } from './openapi-schemas';
import { methodNames } from '../common/method-names';

/** A route handler as Nest registers it: its controller class, its method, and every path it is served at. */
export interface EzidRouteHandler {
  readonly controller: EzidClass;
  readonly handler: (...args: never[]) => unknown;
  readonly methodName: string;
  readonly method: RequestMethod;
  /** Nest route paths as served (global prefix, URI version, module, controller and handler paths). */
  readonly paths: readonly string[];
  /** The route's `@UseGuards()` entries (class, then handler). */
  readonly guards: readonly unknown[];
  /** `@Controller({ host })` of the class. */
  readonly host: unknown;
}

/** The parts of Nest's `ApplicationConfig` the route paths depend on. */
export interface EzidRoutingConfigLike {
  getGlobalPrefix(): string;
  getGlobalPrefixOptions(): { exclude?: unknown };
  getVersioning(): VersioningOptions | undefined;
}

/** One module of Nest's `ModulesContainer`. */
interface ModuleLike {
  readonly metatype?: unknown;
  readonly controllers: Map<unknown, { metatype?: unknown }>;
}

interface ExcludedRoute {
  readonly requestMethod?: RequestMethod;
  readonly pathRegex?: { test(path: string): boolean };
}

const stripEnd = (p: string): string => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);
const lead = (p: string): string => (p.startsWith('/') ? p : `/${p}`);
const concat = (a: string, b: string): string => (a.endsWith('/') ? a.slice(0, -1) : a) + lead(b);

function fragments(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' && value !== '' && value !== '/' ? [value] : undefined;
}

function append(paths: string[], fragment: unknown): string[] {
  const list = fragments(fragment);
  if (!list) return paths;
  return paths.flatMap((p) => list.map((f) => (f === '' || f === '/' ? p : concat(p, f))));
}

/**
 * The paths of one route, built as Nest's `RoutePathFactory` builds them: URI version prefix (one per
 * version; none for `VERSION_NEUTRAL`), `RouterModule` path, controller path(s), handler path(s), then
 * the global prefix unless its `exclude` list matches the unversioned path.
 */
export function routePaths(
  config: EzidRoutingConfigLike,
  modulePath: string | undefined,
  controllerPath: unknown,
  handlerPath: unknown,
  method: RequestMethod,
  version: VersionValue | undefined,
): string[] {
  const versioning = config.getVersioning();
  let versioned: { path: string }[] = [{ path: '' }];
  if (version !== undefined && versioning?.type === VersioningType.URI) {
    const prefix = versioning.prefix === false ? '' : (versioning.prefix ?? 'v');
    const versions = (Array.isArray(version) ? version : [version]) as unknown[];
    versioned = versions.map((v) => ({ path: v === VERSION_NEUTRAL ? '' : `/${prefix}${String(v)}` }));
  }
  const globalPrefix = config.getGlobalPrefix?.() ?? '';
  const exclude = config.getGlobalPrefixOptions?.().exclude;
  const excluded = Array.isArray(exclude) ? (exclude as ExcludedRoute[]) : [];
  const out = versioned.flatMap(({ path }) => {
    let paths = append([path], modulePath);
    paths = append(paths, controllerPath);
    paths = append(paths, handlerPath);
    if (!globalPrefix) return paths;
    return paths.map((p) => {
      const unversioned = p.slice(path.length);
      const isExcluded = excluded.some(
        (r) =>
          (r.requestMethod === undefined ||
            r.requestMethod === RequestMethod.ALL ||
            (r.requestMethod as number) === -1 ||
            r.requestMethod === method) &&
          typeof r.pathRegex?.test === 'function' &&
          r.pathRegex.test(lead(unversioned)),
      );
      return isExcluded ? p : stripEnd(globalPrefix) + p;
    });
  });
  return out.map((p) => lead(p || '/')).map((p) => (p !== '/' ? stripEnd(p) : p));
}

/** The `RouterModule` path of a module, as Nest stores it (per application, else global). */
function modulePathOf(metatype: unknown, applicationId: string | undefined): string | undefined {
  if (typeof metatype !== 'function') return undefined;
  const path: unknown =
    (applicationId !== undefined ? Reflect.getMetadata(MODULE_PATH + applicationId, metatype) : undefined) ??
    Reflect.getMetadata(MODULE_PATH, metatype);
  return typeof path === 'string' ? path : undefined;
}

/**
 * Every HTTP route handler of the app's controllers, with the paths Nest serves it at. Reads the
 * same metadata as Nest's router: the controllers of every module, `@Controller()` path and
 * version, handler path, method and version, `RouterModule` paths, global prefix and URI versioning.
 */
export function collectRoutes(
  modules: Iterable<ModuleLike>,
  applicationId: string | undefined,
  config: EzidRoutingConfigLike,
): EzidRouteHandler[] {
  const out: EzidRouteHandler[] = [];
  const seen = new Set<unknown>();
  const versioning = config.getVersioning();
  for (const mod of modules) {
    const modulePath = modulePathOf(mod.metatype, applicationId);
    for (const wrapper of mod.controllers.values()) {
      const cls = wrapper.metatype;
      if (typeof cls !== 'function' || seen.has(cls)) continue;
      seen.add(cls);
      const proto = cls.prototype as Record<string, unknown>;
      const classGuards = (Reflect.getMetadata(GUARDS_METADATA, cls) as unknown[] | undefined) ?? [];
      const classVersion =
        versioning?.type === VersioningType.URI
          ? ((Reflect.getMetadata(VERSION_METADATA, cls) as VersionValue | undefined) ??
            versioning.defaultVersion)
          : undefined;
      for (const name of methodNames(proto)) {
        const descriptor = findDescriptor(proto, name);
        const handler = descriptor?.value as unknown;
        if (typeof handler !== 'function') continue;
        const handlerPath: unknown = Reflect.getMetadata(PATH_METADATA, handler);
        if (handlerPath === undefined) continue;
        const method = (Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined) ?? 0;
        const handlerVersion =
          versioning?.type === VersioningType.URI
            ? (Reflect.getMetadata(VERSION_METADATA, handler) as VersionValue | undefined)
            : undefined;
        out.push({
          controller: cls as EzidClass,
          handler: handler as EzidRouteHandler['handler'],
          methodName: name,
          method,
          paths: routePaths(
            config,
            modulePath,
            Reflect.getMetadata(PATH_METADATA, cls),
            handlerPath,
            method,
            handlerVersion ?? classVersion,
          ),
          guards: [
            ...classGuards,
            ...((Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[] | undefined) ?? []),
          ],
          host: Reflect.getMetadata(HOST_METADATA, cls),
        });
      }
    }
  }
  return out;
}

function findDescriptor(proto: object, name: string): PropertyDescriptor | undefined {
  for (let p: object | null = proto; p; p = Object.getPrototypeOf(p) as object | null) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (d) return d;
  }
  return undefined;
}

const NAME = /^(?:[$_\p{ID_Start}][$_\u200C\u200D\p{ID_Continue}]*|"(?:[^"\\]|\\.)*")/u;

/**
 * A Nest route path in a form that compares with an OpenAPI path whatever the parameter names:
 * every parameter (`:id`, `:"id"`, `*path`, a bare legacy `*` or `(.*)`) becomes `{}`, optional
 * groups `{...}` are flattened (as @nestjs/swagger writes them), inline patterns of Fastify params
 * (`:id(^\\d+)`) are dropped, `\\x` escapes are the character.
 */
export function canonicalRoutePath(path: string): string {
  let out = '';
  let i = 0;
  while (i < path.length) {
    const c = path[i];
    if (c === '\\' && i + 1 < path.length) {
      out += path[i + 1];
      i += 2;
    } else if (c === ':' || c === '*') {
      const m = NAME.exec(path.slice(i + 1));
      // `::` is an escaped colon for Fastify.
      if (c === ':' && path[i + 1] === ':') {
        out += ':';
        i += 2;
        continue;
      }
      out += '{}';
      i += 1 + (m ? m[0].length : 0);
      if (c === ':' && path[i] === '(') i = skipGroup(path, i);
    } else if (c === '(') {
      out += '{}';
      i = skipGroup(path, i);
    } else if (c === '{' || c === '}' || c === '?' || c === '+') {
      i += 1;
    } else {
      out += c;
      i += 1;
    }
  }
  out = out.replace(/\/{2,}/g, '/');
  return out.length > 1 && out.endsWith('/') ? out.slice(0, -1) : out || '/';
}

function skipGroup(path: string, start: number): number {
  let depth = 0;
  for (let i = start; i < path.length; i++) {
    if (path[i] === '\\') {
      i++;
      continue;
    }
    if (path[i] === '(') depth++;
    else if (path[i] === ')' && --depth === 0) return i + 1;
  }
  return path.length;
}

/** An OpenAPI path with every `{name}` as `{}` (see `canonicalRoutePath`). */
export function canonicalOpenApiPath(path: string): string {
  const out = path.replace(/\{[^}]*\}/g, '{}').replace(/\/{2,}/g, '/');
  return out.length > 1 && out.endsWith('/') ? out.slice(0, -1) : out || '/';
}

/** The parameter names of a Nest route path (`:name`, `*name`), in order. */
export function routeParamNames(path: string): string[] {
  const names: string[] = [];
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if ((c === ':' || c === '*') && path[i + 1] !== ':') {
      const m = NAME.exec(path.slice(i + 1));
      if (m) names.push(m[0].startsWith('"') ? JSON.parse(m[0]) : m[0]);
    }
  }
  return names;
}

/** The lower-case OpenAPI methods a Nest request method is documented under (`ALL`: every one). */
export function openApiMethods(method: RequestMethod): string[] {
  if (method === RequestMethod.ALL) return ['*'];
  const name = RequestMethod[method];
  return typeof name === 'string' ? [name.toLowerCase()] : [];
}
