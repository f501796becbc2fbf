import type { INestApplicationContext, Type } from '@nestjs/common';
import { ExternalContextCreator, type ParamsFactory } from '@nestjs/core';
import { EZID_MODULE_OPTIONS } from '../ezid.module-definition';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import type { EzidTestTokenOptions } from './emulator-kit';
import { EzidEmulator } from './ezid-emulator';

/** `ROUTE_ARGS_METADATA` of @nestjs/common: where `@Param()`, `@Body()`, `@Req()`... store their metadata. */
const ROUTE_ARGS_METADATA = '__routeArguments__';

/** Who `ezidRunAs()` runs the handler as: a raw token, or a seeded user of the emulator the app is wired to. */
export type EzidRunAsIdentity =
  | {
      /** The access token to present (`Authorization: Bearer <token>`). */
      token: string;
      /** Tenant name or id, set as the route's tenant param (`tenant.param`, default `tenantId`). */
      tenant?: string;
    }
  | {
      /** Seeded user, by email or id: the token is `emulator.tokenFor(user, tokenOptions)`. */
      user: string;
      /** Tenant name or id, set as the route's tenant param (`tenant.param`, default `tenantId`). */
      tenant?: string;
      /** Options of `tokenFor()` (other tenants, roles, permissions, claims, expiry). */
      tokenOptions?: EzidTestTokenOptions;
      /** The emulator to mint with. Default: the running emulator whose `url` is the app's `apiBaseUrl`. */
      emulator?: EzidEmulator;
    }
  | {
      /** No token at all (what an anonymous request sees). */
      anonymous: true;
      tenant?: string;
    };

/** The rest of the simulated request: what the handler's `@Param()`, `@Query()`, `@Body()`, `@Headers()` read. */
export interface EzidRunAsRequest {
  /** Default `'GET'`. */
  method?: string;
  /** Default `'/'`. */
  url?: string;
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  headers?: Record<string, string>;
  body?: unknown;
}

type Handler<T, K extends keyof T> = T[K] extends (...args: never[]) => infer R ? Awaited<R> : never;

/** Params factory for HTTP handlers run through `ExternalContextCreator` (args are `[req, res, next]`). */
const httpParamsFactory: ParamsFactory = {
  exchangeKeyForValue(type: number, data: unknown, args: unknown[]) {
    const [req, res, next] = args as [Record<string, Record<string, unknown>>, unknown, unknown];
    const key = typeof data === 'string' ? data : undefined;
    switch (type) {
      case 0: // REQUEST
        return req;
      case 1: // RESPONSE
        return res;
      case 2: // NEXT
        return next;
      case 3: // BODY
        return key && req.body ? req.body[key] : req.body;
      case 4: // QUERY
        return key ? req.query[key] : req.query;
      case 5: // PARAM
        return key ? req.params[key] : req.params;
      case 6: // HEADERS
        return key ? req.headers[key.toLowerCase()] : req.headers;
      case 10: // HOST
        return key ? req.hosts[key] : req.hosts;
      case 11: // IP
        return req.ip;
      default:
        return undefined;
    }
  },
};

/**
 * Runs a controller handler as a given user and tenant, without HTTP, through the app's real
 * enhancers: the global `EzidAuthGuard` and `EzidRolesGuard` of the real `EzidModule` (and any other
 * global, controller and handler guards and interceptors), with Nest's own `ExternalContextCreator`,
 * the mechanism Nest uses to run handlers outside its HTTP router (GraphQL resolvers, microservices).
 * Resolves to the handler's result; rejects with the exception a guard threw (`status` 401/403/503 and
 * the module's `{ statusCode, error, code, message }` body). Exception filters and pipes bound to the HTTP
 * router are not applied, and the request is a plain object: use an e2e test for anything about the
 * HTTP layer itself (headers, cookies, CSRF, status codes of your filters).
 *
 * `app` is a compiled `TestingModule` (after `await moduleRef.init()`) or an initialised application.
 *
 * @example
 * const moduleRef = await Test.createTestingModule({
 *   imports: [EzidModule.forRoot(emu.moduleOptions())], controllers: [SettingsController],
 * }).compile();
 * await moduleRef.init();
 * await ezidRunAs(moduleRef, { user: 'bob@example.com', tenant: 'org2' }, SettingsController, 'get'); // handler result
 * await ezidRunAs(moduleRef, { user: 'bob@example.com', tenant: 'org1' }, SettingsController, 'get'); // rejects: 403
 */
export async function ezidRunAs<T extends object, K extends keyof T & string>(
  app: INestApplicationContext,
  identity: EzidRunAsIdentity,
  controller: Type<T>,
  method: K,
  request: EzidRunAsRequest = {},
): Promise<Handler<T, K>> {
  const options = app.get<symbol, ResolvedEzidOptions>(EZID_MODULE_OPTIONS, { strict: false });
  const running = options.apiBaseUrl ? EzidEmulator.running(options.apiBaseUrl) : undefined;
  let token: string | undefined;
  let emulator: EzidEmulator | undefined = running;
  if ('token' in identity) {
    token = identity.token;
  } else if ('user' in identity) {
    emulator = identity.emulator ?? running;
    if (!emulator) {
      throw new Error(
        `ezidRunAs(): no running EzidEmulator serves the app's apiBaseUrl (${options.apiBaseUrl}); ` +
          'pass { emulator } or { token } instead of { user }',
      );
    }
    token = emulator.tokenFor(identity.user, identity.tokenOptions);
  }
  const instance = app.get(controller, { strict: false });
  const callback = instance[method] as unknown;
  if (typeof callback !== 'function') {
    throw new TypeError(`ezidRunAs(): ${controller.name}.${method} is not a method`);
  }
  const params: Record<string, string> = { ...(request.params ?? {}) };
  if (identity.tenant !== undefined) {
    const tenantParam = options.tenant?.param ?? 'tenantId';
    params[tenantParam] = emulator ? emulator.tenantId(identity.tenant) : identity.tenant;
  }
  const headers: Record<string, string> = { host: 'localhost' };
  for (const [k, v] of Object.entries(request.headers ?? {})) headers[k.toLowerCase()] = v;
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const url = request.url ?? '/';
  const req = {
    method: (request.method ?? 'GET').toUpperCase(),
    url,
    originalUrl: url,
    headers,
    params,
    query: request.query ?? {},
    body: request.body,
    hosts: {},
    cookies: {},
    ip: '127.0.0.1',
  };
  const responseHeaders = new Map<string, string>();
  const res = {
    statusCode: 200,
    setHeader: (name: string, value: string) => void responseHeaders.set(name.toLowerCase(), value),
    getHeader: (name: string) => responseHeaders.get(name.toLowerCase()),
  };
  const creator = app.get(ExternalContextCreator, { strict: false });
  const run = creator.create(
    instance,
    callback as (...args: unknown[]) => unknown,
    method,
    ROUTE_ARGS_METADATA,
    httpParamsFactory,
    undefined,
    undefined,
    { guards: true, interceptors: true, filters: false },
    'http',
  );
  return (await run(req, res, () => undefined)) as Handler<T, K>;
}
