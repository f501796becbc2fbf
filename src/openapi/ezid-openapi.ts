import { Logger } from '@nestjs/common';
import { ApplicationConfig, ModulesContainer, Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { EzidAuthGuard } from '../auth/ezid-auth.guard';
import { EzidAuthorizationHookRegistry } from '../authz/authorization-hook.registry';
import { hostParams, isRolesGuard } from '../authz/route-warnings';
import { EzidCallbackController } from '../callback/ezid-callback.controller';
import {
  EzidCallbackDto,
  EzidCallbackQueryDto,
  EzidCodeVerifyDto,
  EzidEmailCodeDto,
  EzidMagicLinkDto,
  EzidRefreshDto,
  EzidSmsDto,
} from '../callback/callback.dto';
import type { CompiledRule } from '../common/ezid-metadata';
import {
  OPTIONAL_AUTH_METADATA,
  PERMISSIONS_METADATA,
  PUBLIC_METADATA,
  ROLES_METADATA,
} from '../common/ezid-metadata';
import { EZID_ERROR_STATUS, type EzidErrorCode } from '../common/ezid-http.exception';
import { EZID_JWT_STRATEGY } from '../ezid.constants';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { EZID_MODULE_OPTIONS } from '../ezid.module-definition';
import { MAX_TENANT_ID_LENGTH } from '../authz/tenant-id';
import {
  canonicalOpenApiPath,
  canonicalRoutePath,
  collectRoutes,
  type EzidRouteHandler,
  type EzidRoutingConfigLike,
  openApiMethods,
  routeParamNames,
} from './openapi-routes';
import {
  type EzidClass,
  dtoSchema,
  EZID_ERROR_SCHEMA,
  ezidErrorResponse,
  ezidErrorSchema,
} from './openapi-schemas';

/**
 * An OpenAPI document as `SwaggerModule.createDocument()` returns it, described structurally so the
 * package's types do not depend on `@nestjs/swagger` (an optional peer).
 */
export interface OpenAPIObjectLike {
  openapi: string;
  paths: object;
  components?: object;
}

/** The app `applyEzidOpenApi()` reads its routes and the module's options from (a Nest application). */
export interface EzidOpenApiAppLike {
  get<T = unknown>(token: unknown, options?: { strict?: boolean }): T;
}

/** Options of `applyEzidOpenApi()`. */
export interface EzidOpenApiOptions {
  /** Names of the security schemes the helper adds. Default `{ bearer: 'bearer', cookie: 'cookie' }`. */
  securitySchemeNames?: { bearer?: string; cookie?: string };
}

/** The `x-ezid` extension of an operation: what the module's guards ask of it. */
export interface EzidOpenApiExtension {
  /** No token is read (`@Public()` without a rule). */
  readonly public: boolean;
  /**
   * A token is optional (`@OptionalAuth()`): none passes with no user, an invalid one is 401. Never on
   * a route with a rule or a tenant the roles guard checks (an anonymous request is refused there).
   */
  readonly optional: boolean;
  /** A token is verified by `EzidAuthGuard` (global, or listed in `@UseGuards()`). */
  readonly authenticated: boolean;
  /** Every listed rule must pass, in the request's tenant (handler and class rules when merged). */
  readonly roles?: readonly EzidOpenApiRule[];
  /** Every listed rule must pass, in the request's tenant. */
  readonly permissions?: readonly EzidOpenApiRule[];
  /** Where the tenant comes from, when the operation is tenant-scoped. */
  readonly tenant?: {
    readonly in: 'path' | 'header' | 'host';
    readonly name: string;
    readonly required: boolean;
  };
}

/** One `@Roles()` / `@Permissions()` rule. */
export interface EzidOpenApiRule {
  readonly names: readonly string[];
  readonly match: 'any' | 'all';
  readonly prohibited?: readonly string[];
}

type Json = Record<string, unknown>;
type Operation = Json & {
  description?: string;
  parameters?: Json[];
  responses?: Record<string, unknown>;
  security?: Record<string, string[]>[];
  requestBody?: Json;
};

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'search', 'query'];
const SAFE_METHODS = new Set(['get', 'head', 'options', 'trace']);
const MARKER = '**nestjs-ezid**';

/** What the guards ask of one route handler, read as they read it. */
interface RoutePolicy {
  readonly ext: EzidOpenApiExtension;
  readonly authorized: boolean;
  readonly callback?: string;
  readonly key: string;
}

function publicRule(rule: CompiledRule): EzidOpenApiRule {
  return {
    names: [...rule.names],
    match: rule.match,
    ...(rule.prohibited.length ? { prohibited: [...rule.prohibited] } : {}),
  };
}

function rulesFor(handlerRule?: CompiledRule, classRule?: CompiledRule): CompiledRule[] {
  if (handlerRule) return handlerRule.merge && classRule ? [classRule, handlerRule] : [handlerRule];
  return classRule ? [classRule] : [];
}

const guardType = (g: unknown): unknown =>
  typeof g === 'function' ? g : (g as { constructor?: unknown } | null)?.constructor;

function isOrExtends(type: unknown, base: unknown): boolean {
  return (
    typeof type === 'function' &&
    typeof base === 'function' &&
    (type === base || type.prototype instanceof (base as abstract new (...args: never[]) => unknown))
  );
}

/**
 * Adds to an OpenAPI document (`SwaggerModule.createDocument(app, config)`), from the metadata the
 * module's guards read:
 * - the `bearer` security scheme, and the `cookie` scheme when the guard reads the access token from a
 *   cookie (`token.cookieName`, set by default in `callback.mode: 'cookie'`);
 * - `security: []` on `@Public()` operations, `[{}, { bearer: [] }, ...]` on `@OptionalAuth()`, the
 *   schemes on every operation `EzidAuthGuard` guards (with `globalGuard: false`, only routes that
 *   list it, or `AuthGuard('ezid-jwt')`, in `@UseGuards()` or the app's global guards);
 * - the tenant parameter (the route param, else the tenant header) on tenant-scoped operations;
 * - the `@Roles()` / `@Permissions()` rules in the description and in an `x-ezid` extension;
 * - the 400 / 401 / 403 / 429 / 503 responses the module can answer, with the `EzidError` body schema
 *   and its `code` enum;
 * - the request and response schemas of the callback controller's routes.
 *
 * Operations are matched to handlers by method and path, built as Nest builds them (global prefix and
 * its `exclude` list, `RouterModule` paths, URI versioning), never by `operationId`. An operation
 * with no handler, or with several handlers the guards treat differently, is left as it is and
 * reported in one warning. The document is changed in place and returned. `@nestjs/swagger` itself
 * is not loaded.
 *
 * @example
 * ```ts
 * const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('API').build());
 * SwaggerModule.setup('docs', app, applyEzidOpenApi(app, document));
 * ```
 */
export function applyEzidOpenApi<T extends OpenAPIObjectLike>(
  app: EzidOpenApiAppLike,
  document: T,
  options: EzidOpenApiOptions = {},
): T {
  const logger = new Logger('EzidOpenApi');
  const ezid = app.get<ResolvedEzidOptions>(EZID_MODULE_OPTIONS, { strict: false });
  const reflector = app.get<Reflector>(Reflector, { strict: false });
  const modules = app.get<ModulesContainer>(ModulesContainer, { strict: false });
  const config = app.get<ApplicationConfig>(ApplicationConfig, { strict: false });
  const hooks = hookCount(app);
  const bearer = options.securitySchemeNames?.bearer ?? 'bearer';
  const cookieName = ezid.token.cookieName;
  const cookie = cookieName ? (options.securitySchemeNames?.cookie ?? 'cookie') : undefined;

  const doc = document as unknown as Json & { paths: Record<string, Json>; components?: Json };
  const components = (doc.components ??= {}) as Json;
  const schemes = (components.securitySchemes ??= {}) as Json;
  schemes[bearer] = {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An EZiD access token (RS256), in `Authorization: Bearer <token>`.',
  };
  if (cookie && cookieName) {
    schemes[cookie] = {
      type: 'apiKey',
      in: 'cookie',
      name: cookieName,
      description:
        'The EZiD access token in its HttpOnly cookie. Unsafe methods must also prove same-origin (`Sec-Fetch-Site`, `Origin` or `Referer`).',
    };
  }
  const schemas = (components.schemas ??= {}) as Json;
  schemas[EZID_ERROR_SCHEMA] = ezidErrorSchema();
  const errorRef = `#/components/schemas/${EZID_ERROR_SCHEMA}`;
  const required: Record<string, string[]>[] = [{ [bearer]: [] }, ...(cookie ? [{ [cookie]: [] }] : [])];

  const globalAuth = globalEzidAuth(config);
  const globalRoles = (config.getGlobalGuards?.() ?? []).some((g) => isRolesGuard(g));
  const passportGuard = AuthGuard(EZID_JWT_STRATEGY) as unknown;
  // Passport's guard itself reads neither @Public() nor @OptionalAuth(); a subclass that overrides
  // canActivate() may (the usual "skip when public" guard), so only one that keeps Passport's counts.
  const passportCanActivate = (passportGuard as { prototype: { canActivate: unknown } }).prototype
    .canActivate;
  const ignoresPublic = (g: unknown): boolean => {
    const type = guardType(g);
    return (
      isOrExtends(type, passportGuard) &&
      (type as { prototype: { canActivate?: unknown } }).prototype.canActivate === passportCanActivate
    );
  };
  const globalPassport = (config.getGlobalGuards?.() ?? []).some(ignoresPublic);
  const routes = collectRoutes(
    modules.values() as Iterable<never>,
    (modules as unknown as { applicationId?: string }).applicationId,
    config as unknown as EzidRoutingConfigLike,
  );
  const prefix = canonicalOpenApiPath(`/${config.getGlobalPrefix?.() ?? ''}`);
  const byKey = new Map<string, { route: EzidRouteHandler; path: string }[]>();
  for (const route of routes) {
    for (const path of route.paths) {
      for (const m of openApiMethods(route.method)) {
        const key = `${m} ${canonicalRoutePath(path)}`;
        const list = byKey.get(key) ?? [];
        list.push({ route, path });
        byKey.set(key, list);
      }
    }
  }
  const lookup = (method: string, path: string): { route: EzidRouteHandler; path: string }[] => {
    const canonical = canonicalOpenApiPath(path);
    const found = [...(byKey.get(`${method} ${canonical}`) ?? []), ...(byKey.get(`* ${canonical}`) ?? [])];
    if (found.length || prefix === '/') return found;
    // `createDocument(app, config, { ignoreGlobalPrefix: true })`: the document's paths lack the prefix.
    const withPrefix = canonicalOpenApiPath(`${prefix}${canonical}`);
    return [...(byKey.get(`${method} ${withPrefix}`) ?? []), ...(byKey.get(`* ${withPrefix}`) ?? [])];
  };

  const routePolicy = (route: EzidRouteHandler, path: string): RoutePolicy => {
    const { handler, controller: cls } = route;
    const targets = [handler, cls];
    const hasRule = targets.some(
      (t) =>
        reflector.get(ROLES_METADATA, t) !== undefined ||
        reflector.get(PERMISSIONS_METADATA, t) !== undefined,
    );
    const passport = globalPassport || route.guards.some(ignoresPublic);
    const isPublic = !hasRule && !passport && reflector.getAllAndOverride(PUBLIC_METADATA, targets) === true;
    const optional = !passport && reflector.getAllAndOverride(OPTIONAL_AUTH_METADATA, targets) === true;
    const authGuarded =
      ezid.globalGuard ||
      globalAuth ||
      route.guards.some(
        (g) => isOrExtends(guardType(g), EzidAuthGuard) || isOrExtends(guardType(g), passportGuard),
      );
    const authorized = ezid.globalGuard || globalRoles || route.guards.some((g) => isRolesGuard(g));
    const roles = authorized
      ? rulesFor(reflector.get(ROLES_METADATA, handler), reflector.get(ROLES_METADATA, cls))
      : [];
    const permissions = authorized
      ? rulesFor(reflector.get(PERMISSIONS_METADATA, handler), reflector.get(PERMISSIONS_METADATA, cls))
      : [];
    const enforcedRule = roles.length > 0 || permissions.length > 0;
    const authenticated = !isPublic && authGuarded;
    const params = routeParamNames(path);
    const tenantParam = ezid.tenant.param;
    let tenant: EzidOpenApiExtension['tenant'];
    if (authorized && !isPublic) {
      if (params.includes(tenantParam)) tenant = { in: 'path', name: tenantParam, required: true };
      else if (hostParams(route.host).includes(tenantParam))
        tenant = { in: 'host', name: tenantParam, required: true };
      else if (enforcedRule)
        tenant = {
          in: 'header',
          name: ezid.tenant.header,
          required: !ezid.tenant.singleTenantFallback && !ezid.tenant.resolve,
        };
    }
    const ext: EzidOpenApiExtension = {
      public: isPublic,
      // EzidRolesGuard refuses an anonymous request on a route with a rule (401) or naming a tenant (403).
      optional: optional && !isPublic && !(authorized && (enforcedRule || tenant !== undefined)),
      authenticated,
      ...(roles.length ? { roles: roles.map(publicRule) } : {}),
      ...(permissions.length ? { permissions: permissions.map(publicRule) } : {}),
      ...(tenant ? { tenant } : {}),
    };
    const callback =
      cls.prototype instanceof EzidCallbackController || cls === EzidCallbackController
        ? route.methodName
        : undefined;
    return { ext, authorized, callback, key: JSON.stringify([ext, authorized, callback]) };
  };

  const unmapped: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!item || typeof item !== 'object') continue;
    for (const method of HTTP_METHODS) {
      const op = item[method] as Operation | undefined;
      if (!op || typeof op !== 'object') continue;
      const found = lookup(method, path);
      const distinct = new Map(found.map((f) => [routePolicy(f.route, f.path).key, f]));
      if (distinct.size !== 1) {
        unmapped.push(
          `${method.toUpperCase()} ${path}${distinct.size > 1 ? ` (${found.length} handlers the guards treat differently)` : ''}`,
        );
        continue;
      }
      const [{ route, path: routePath }] = [...distinct.values()];
      const policy = routePolicy(route, routePath);
      decorate(op, method, policy);
    }
  }
  if (unmapped.length) {
    logger.warn(
      `left unchanged ${unmapped.length} operation(s) no route handler could be matched to: ${unmapped.join(', ')}`,
    );
  }
  return document;

  function decorate(op: Operation, method: string, policy: RoutePolicy): void {
    const { ext } = policy;
    const relevant = ext.public || ext.authenticated || ext.tenant || ext.roles || ext.permissions;
    if (!relevant && !policy.callback) return;
    if (ext.public) op.security = [];
    else if (ext.authenticated)
      op.security = ext.optional ? [{}, ...required] : required.map((r) => ({ ...r }));
    op['x-ezid'] = ext;
    const codes = new Set<EzidErrorCode>();
    if (ext.authenticated) {
      for (const c of ['token_malformed', 'token_expired', 'token_invalid', 'token_revoked'] as const)
        codes.add(c);
      if (!ext.optional || ext.roles || ext.permissions) codes.add('token_missing');
      codes.add('invalid_request');
      codes.add('idp_unavailable');
      if (cookie && !SAFE_METHODS.has(method)) codes.add('csrf_rejected');
    }
    if (policy.authorized && !ext.public) {
      if (ext.tenant || ext.roles || ext.permissions) codes.add('tenant_forbidden');
      if (ext.tenant?.in === 'header') codes.add('tenant_required');
      if (ext.roles) codes.add('insufficient_role');
      if (ext.permissions) codes.add('insufficient_permission');
      if (ezid.tenant.resolve && (ext.tenant || ext.roles || ext.permissions))
        codes.add('tenant_unavailable');
      if (ezid.profile.source === 'api' && (ext.tenant || ext.roles || ext.permissions))
        codes.add('idp_unavailable');
    }
    if (policy.authorized && hooks > 0) codes.add('access_denied');
    if (policy.callback) {
      for (const c of callbackCodes(policy.callback, ezid)) codes.add(c);
      decorateCallback(op, policy.callback);
    }
    addTenantParameter(op, ext);
    addErrorResponses(op, codes);
    describe(op, ext);
  }

  function addErrorResponses(op: Operation, codes: Set<EzidErrorCode>): void {
    const byStatus = new Map<number, EzidErrorCode[]>();
    for (const c of codes) {
      const s = EZID_ERROR_STATUS[c];
      byStatus.set(s, [...(byStatus.get(s) ?? []), c]);
    }
    const responses = (op.responses ??= {});
    for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
      // A response the app documented itself (`@ApiForbiddenResponse()`) is kept.
      if (responses[String(status)] === undefined)
        responses[String(status)] = ezidErrorResponse(status, list, errorRef);
    }
  }

  function addTenantParameter(op: Operation, ext: EzidOpenApiExtension): void {
    const t = ext.tenant;
    if (!t || t.in === 'host') return;
    const params = (op.parameters ??= []);
    const description = `The tenant the request is authorized in (an EZiD tenant id). nestjs-ezid: a tenant you are not a verified member of is 403 \`tenant_forbidden\`.`;
    const schema = {
      type: 'string',
      minLength: 1,
      maxLength: MAX_TENANT_ID_LENGTH,
      pattern: '^[A-Za-z0-9_.:@-]+$',
    };
    const existing = params.find(
      (p) =>
        p.in === t.in &&
        typeof p.name === 'string' &&
        (t.in === 'header' ? p.name.toLowerCase() === t.name.toLowerCase() : p.name === t.name),
    );
    if (existing) {
      existing.description ??= description;
      if (t.in === 'header' && t.required) existing.required = true;
      return;
    }
    params.push({ name: t.name, in: t.in, required: t.required, description, schema });
  }

  function describe(op: Operation, ext: EzidOpenApiExtension): void {
    const lines: string[] = [];
    if (ext.public) lines.push('Public: no access token is read.');
    else if (ext.authenticated && ext.optional)
      lines.push(
        'Optional authentication: without a token the request has no user; an invalid token is 401.',
      );
    else if (ext.authenticated) lines.push('Requires a valid EZiD access token.');
    const where =
      ext.tenant?.in === 'path'
        ? `path parameter \`${ext.tenant.name}\``
        : ext.tenant?.in === 'host'
          ? `host parameter \`${ext.tenant.name}\``
          : ext.tenant
            ? `header \`${ext.tenant.name}\``
            : undefined;
    const quote = (names: readonly string[]): string => names.map((n) => `\`${n}\``).join(', ');
    const rule = (kind: 'roles' | 'permissions', r: EzidOpenApiRule): string => {
      const names =
        r.names.length === 0
          ? `no ${kind} (denies everyone)`
          : r.names.length === 1
            ? `${kind.slice(0, -1)} ${quote(r.names)}`
            : `${r.match} of ${kind} ${quote(r.names)}`;
      return names + (r.prohibited?.length ? `, and none of ${quote(r.prohibited)}` : '');
    };
    const needs = [
      ...(ext.roles ?? []).map((r) => rule('roles', r)),
      ...(ext.permissions ?? []).map((r) => rule('permissions', r)),
    ];
    if (needs.length) lines.push(`In the tenant named by the ${where ?? 'request'}: ${needs.join('; ')}.`);
    else if (where) lines.push(`Membership of the tenant named by the ${where} is checked.`);
    if (!lines.length) return;
    const base =
      typeof op.description === 'string' ? op.description.split(`\n\n${MARKER}`)[0].split(MARKER)[0] : '';
    op.description = `${base ? `${base}\n\n` : ''}${MARKER} ${lines.join(' ')}`;
  }

  function decorateCallback(op: Operation, name: string): void {
    const body = CALLBACK_BODIES[name];
    const mode = ezid.callback ? ezid.callback.mode : 'json';
    if (body) {
      schemas[body.name] = dtoSchema(body.dto, body.description);
      op.requestBody = {
        required: name !== 'refresh' && name !== 'logout',
        content: { 'application/json': { schema: { $ref: `#/components/schemas/${body.name}` } } },
      };
    }
    if (name === 'callbackRedirect') {
      const query = dtoSchema(EzidCallbackQueryDto);
      const params = (op.parameters ??= []).filter((p) => p.in !== 'query');
      for (const [field, schema] of Object.entries(query.properties as Record<string, Json>)) {
        params.push({ name: field, in: 'query', required: false, schema });
      }
      op.parameters = params;
      op.responses = {
        ...withoutDefault200(op.responses),
        '303': {
          description:
            'Signed in (session cookies set), or failed: `Location: <errorRedirect>?ezid_error=<code>`.',
          headers: { Location: { schema: { type: 'string' } } },
        },
      };
      return;
    }
    const session = SESSION_ROUTES.has(name);
    if (session || name === 'me') {
      schemas.EzidPublicUser = PUBLIC_USER_SCHEMA;
      const ok = name === 'me' ? { user: true } : mode === 'json' ? JSON_SESSION : { user: true };
      const schema =
        'user' in ok && Object.keys(ok).length === 1
          ? {
              type: 'object',
              required: ['user'],
              properties: { user: { $ref: '#/components/schemas/EzidPublicUser' } },
            }
          : ok;
      op.responses = {
        ...op.responses,
        '200': { description: 'The session.', content: { 'application/json': { schema } } },
      };
    }
    if (LOGIN_START_ROUTES.has(name)) {
      op.responses = {
        ...op.responses,
        '200': {
          description: 'The sign-in was started.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['sent'],
                properties: { sent: { type: 'boolean', enum: [true] }, state: { type: 'string' } },
              },
            },
          },
        },
      };
    }
  }
}

function withoutDefault200(responses: Record<string, unknown> | undefined): Record<string, unknown> {
  const out = { ...responses };
  const ok = out['200'] as { description?: unknown; content?: unknown } | undefined;
  if (ok && !ok.content) delete out['200'];
  return out;
}

const CALLBACK_BODIES: Record<string, { name: string; dto: EzidClass; description: string }> = {
  callback: {
    name: 'EzidCallbackDto',
    dto: EzidCallbackDto,
    description: '`{ code }` (email link), `{ state }` (magic-link status) or `{ code, state }` (SSO).',
  },
  refresh: {
    name: 'EzidRefreshDto',
    dto: EzidRefreshDto,
    description: 'json mode: the refresh token; cookie mode: empty (the refresh cookie is read).',
  },
  logout: {
    name: 'EzidRefreshDto',
    dto: EzidRefreshDto,
    description: 'json mode: the refresh token to revoke.',
  },
  magicLink: { name: 'EzidMagicLinkDto', dto: EzidMagicLinkDto, description: 'Emails a magic link.' },
  emailCode: { name: 'EzidEmailCodeDto', dto: EzidEmailCodeDto, description: 'Emails a code.' },
  emailCodeVerify: { name: 'EzidCodeVerifyDto', dto: EzidCodeVerifyDto, description: 'Verifies a code.' },
  sms: { name: 'EzidSmsDto', dto: EzidSmsDto, description: 'Texts a code.' },
  smsVerify: { name: 'EzidCodeVerifyDto', dto: EzidCodeVerifyDto, description: 'Verifies a code.' },
};

const SESSION_ROUTES = new Set(['callback', 'refresh', 'emailCodeVerify', 'smsVerify']);
const LOGIN_START_ROUTES = new Set(['magicLink', 'emailCode', 'sms']);

const PUBLIC_USER_SCHEMA = {
  type: 'object',
  required: ['id', 'tenants'],
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    firstName: { type: 'string' },
    lastName: { type: 'string' },
    tenants: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name', 'status', 'roles'],
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          status: { type: 'string' },
          roles: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'name', 'permissions'],
              properties: {
                id: { type: 'string' },
                name: { type: 'string' },
                permissions: { type: 'array', items: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  },
};

const JSON_SESSION = {
  type: 'object',
  required: ['accessToken', 'tokenType', 'expiresAt', 'user'],
  properties: {
    accessToken: { type: 'string' },
    refreshToken: { type: 'string' },
    tokenType: { type: 'string', enum: ['Bearer'] },
    expiresAt: { type: 'string', format: 'date-time' },
    user: { $ref: '#/components/schemas/EzidPublicUser' },
  },
};

/** The codes a callback route answers besides authentication (see docs/callback.md). */
function callbackCodes(name: string, options: ResolvedEzidOptions): EzidErrorCode[] {
  if (name === 'me') return [];
  const cookieMode = options.callback !== false && options.callback.mode === 'cookie';
  const out: EzidErrorCode[] = ['rate_limited', 'idp_unavailable'];
  if (name !== 'callbackRedirect') out.push('validation_failed', 'invalid_request');
  if (cookieMode) out.push('csrf_rejected');
  if (cookieMode && name !== 'callbackRedirect') out.push('unsupported_media_type');
  switch (name) {
    case 'callback':
      out.push('invalid_code', 'token_invalid', 'login_pending');
      break;
    case 'emailCodeVerify':
    case 'smsVerify':
      out.push('invalid_code', 'token_invalid');
      break;
    case 'refresh':
      out.push('session_expired', 'refresh_token_reused', 'refresh_superseded');
      break;
    case 'logout':
      out.push('revocation_unavailable');
      break;
  }
  return out;
}

/** Whether the app's own global guards (`useGlobalGuards`, `APP_GUARD`) include `EzidAuthGuard`. */
function globalEzidAuth(config: ApplicationConfig): boolean {
  const passport = AuthGuard(EZID_JWT_STRATEGY) as unknown;
  return (config.getGlobalGuards?.() ?? []).some(
    (g) => isOrExtends(guardType(g), EzidAuthGuard) || isOrExtends(guardType(g), passport),
  );
}

function hookCount(app: EzidOpenApiAppLike): number {
  try {
    const registry = app.get<EzidAuthorizationHookRegistry>(EzidAuthorizationHookRegistry, { strict: false });
    return registry.ready ? registry.hooks.length : 0;
  } catch {
    return 0;
  }
}
