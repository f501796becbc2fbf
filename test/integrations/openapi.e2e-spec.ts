// OpenAPI from the guards' own metadata (issue 17, part 1): applyEzidOpenApi() on a real app, Express
// and Fastify, with @nestjs/swagger's own document, validated by @apidevtools/swagger-parser, served
// by SwaggerModule.setup and fetched over HTTP; every documented outcome checked against the guards.
import SwaggerParser from '@apidevtools/swagger-parser';
import {
  All,
  Controller,
  Get,
  Module,
  Param,
  Post,
  RequestMethod,
  Type,
  UseGuards,
  VersioningType,
} from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ApiExcludeController, ApiForbiddenResponse, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import {
  applyEzidOpenApi,
  EZID_ERROR_CODES,
  EzidAuthGuard,
  EzidModule,
  type EzidModuleOptions,
  EzidRolesGuard,
  OptionalAuth,
  Permissions,
  Public,
  Roles,
} from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { CaptureLogger } from '../support/capture-logger';

type Platform = 'express' | 'fastify';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const T1 = EMULATOR_IDS.tenant1;
const UNKNOWN_TENANT = '664e2686a1b2c3d4e5f60009';

@Controller('pub')
@Public()
class PublicController {
  @Get() list() {
    return { ok: true };
  }
  // A rule under a @Public() class is still enforced (and so authenticated) by the guards.
  @Get('admin') @Roles('Admin') admin() {
    return { ok: true };
  }
}

@Controller('feed')
class FeedController {
  @OptionalAuth() @Get() feed() {
    return { ok: true };
  }
}

@Controller('profile')
class GuardedController {
  @Get() show() {
    return { ok: true };
  }
  @Post() update() {
    return { ok: true };
  }
}

@Controller('orgs/:tenantId/billing')
@Roles('Admin', 'Billing')
class BillingController {
  @Get() list(@Param('tenantId') t: string) {
    return { t };
  }
  @Post('refund') @Permissions('Billing Manage') refund(@Param('tenantId') t: string) {
    return { t };
  }
  @Post('close') @Roles('Owner', 'Admin', { match: 'all' }) close(@Param('tenantId') t: string) {
    return { t };
  }
  @Get('members') @Roles('Member', { merge: true, prohibited: ['Suspended'] }) members(
    @Param('tenantId') t: string,
  ) {
    return { t };
  }
}

@Controller('orgs/:tenantId/overview')
class MembershipController {
  @Get() overview(@Param('tenantId') t: string) {
    return { t };
  }
}

@Controller('reports')
class HeaderTenantController {
  @Get() @Permissions('Team View') list() {
    return { ok: true };
  }
}

@Controller({ path: 'versioned', version: '2' })
class VersionedController {
  @Get() @Roles('Admin') list() {
    return { ok: true };
  }
}

@ApiExcludeController()
@Controller('internal')
class HiddenController {
  @Get() secret() {
    return { ok: true };
  }
}

@Controller('documented')
class DocumentedController {
  @Get() @Roles('Admin') @ApiForbiddenResponse({ description: 'Own 403 text' }) list() {
    return { ok: true };
  }
}

@Controller('stats')
class AdminStatsController {
  @Get() @Roles('Admin') stats() {
    return { ok: true };
  }
}

@Module({ controllers: [AdminStatsController] })
class AdminModule {}

/** Odd routes each router accepts (Express 5's path-to-regexp 8 has no inline regex; Fastify has no `*name`). */
@Controller('odd')
class ExpressOddController {
  @Get('files/*path') @Public() files(@Param('path') path: string[]) {
    return { path };
  }
  @Get('opt{/:id}') opt(@Param('id') id?: string) {
    return { id };
  }
  @All('any/:tenantId') @Roles('Admin') any(@Param('tenantId') t: string) {
    return { t };
  }
  // Two handlers for one method and path that the guards treat differently: Express serves the
  // first, the document describes the second. The helper cannot tell which: left as is, reported.
  @Get('dup') @Public() dupPublic() {
    return { ok: true };
  }
  @Get('dup') dupGuarded() {
    return { ok: true };
  }
}

@Controller('odd')
class FastifyOddController {
  @Get('num/:id(^\\d+)') @Public() num(@Param('id') id: string) {
    return { id };
  }
  @Get('files/*') files() {
    return { ok: true };
  }
  @Get('range/:from-:to') @Roles('Admin') range(@Param('from') from: string, @Param('to') to: string) {
    return { from, to };
  }
  @All('any/:tenantId') @Roles('Admin') any(@Param('tenantId') t: string) {
    return { t };
  }
}

const CONTROLLERS: Type<unknown>[] = [
  PublicController,
  FeedController,
  GuardedController,
  BillingController,
  MembershipController,
  HeaderTenantController,
  VersionedController,
  HiddenController,
  DocumentedController,
];

interface Started {
  app: Awaited<ReturnType<typeof boot>>['app'];
  url: string;
  logger: CaptureLogger;
}

async function boot(
  platform: Platform,
  emu: EzidEmulator,
  controllers: Type<unknown>[],
  options: Partial<EzidModuleOptions>,
  imports: unknown[] = [],
) {
  const logger = new CaptureLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [
      EzidModule.forRoot({
        clientId: 'cli_openapi_test',
        clientSecret: 'openapi-test-secret',
        apiBaseUrl: emu.url,
        ...options,
        token: { ...options.token, jwksUri: emu.jwksUri, issuer: emu.issuer, audience: emu.audience },
      }),
      ...(imports as never[]),
    ],
    controllers,
  }).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger })
      : moduleRef.createNestApplication({ logger });
  return { app, logger };
}

async function listen(app: Started['app']): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
}

const op = (doc: Json, path: string, method: string): Json => {
  const o = doc.paths[path]?.[method];
  if (!o) throw new Error(`no ${method} ${path} in ${Object.keys(doc.paths).join(', ')}`);
  return o;
};

/** The `code` enum documented for a status of an operation. */
const codesOf = (o: Json, status: number): string[] =>
  o.responses?.[String(status)]?.content?.['application/json']?.schema?.allOf?.[1]?.properties?.code?.enum ??
  [];

const warningsOf = (logger: CaptureLogger): string[] =>
  logger.lines.filter((l) => l.startsWith('warn') && l.includes('EzidOpenApi'));

let emu: EzidEmulator;
let demo: string;

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_openapi_test', clientSecret: 'openapi-test-secret' });
  demo = emu.mintAccessToken('demo@example.com');
});
afterAll(() => emu?.stop());

describe.each<Platform>(['express', 'fastify'])('applyEzidOpenApi (%s)', (platform) => {
  describe('global guard, cookie mode, global prefix, URI versioning, RouterModule', () => {
    let s: Started;
    let doc: Json;

    beforeAll(async () => {
      const odd = platform === 'express' ? ExpressOddController : FastifyOddController;
      const { app, logger } = await boot(
        platform,
        emu,
        [...CONTROLLERS, odd],
        { callback: { mode: 'cookie', publicUrl: 'http://127.0.0.1:3000' }, profile: { source: 'token' } },
        [AdminModule, RouterModule.register([{ path: 'admin', module: AdminModule }])],
      );
      app.setGlobalPrefix('api', { exclude: [{ path: 'pub', method: RequestMethod.GET }] });
      app.enableVersioning({ type: VersioningType.URI });
      // As an app's main.ts does: document and serve the docs before listen() (which runs init()); on
      // Express, routes added after init() sit behind Nest's 404 handler (@nestjs/swagger 11).
      // The app names its operations itself: the helper must not rely on operationId.
      const raw = SwaggerModule.createDocument(
        app,
        new DocumentBuilder().setTitle('t').setVersion('1').build(),
        {
          operationIdFactory: (controller, method, version) => `${method}Of${controller}${version ?? ''}`,
        },
      );
      doc = applyEzidOpenApi(app, raw) as unknown as Json;
      SwaggerModule.setup('docs', app, raw as never);
      s = { app, url: await listen(app), logger };
    });
    afterAll(() => s?.app.close());

    it('is a valid OpenAPI document (swagger-parser)', async () => {
      const copy = structuredClone(doc);
      // @nestjs/swagger itself lists @All() routes under `search` (and `query`), which OpenAPI 3.0 has not.
      for (const item of Object.values(copy.paths as Record<string, Json>)) {
        delete item.search;
        delete item.query;
      }
      await expect(SwaggerParser.validate(copy as never)).resolves.toBeDefined();
    });

    it('is served as is by SwaggerModule.setup (fetched over HTTP)', async () => {
      const res = await fetch(`${s.url}/docs-json`);
      expect(res.status).toBe(200);
      const served = (await res.json()) as Json;
      expect(served.components.securitySchemes).toEqual(doc.components.securitySchemes);
      expect(served.paths['/api/profile'].get.security).toEqual([{ bearer: [] }, { cookie: [] }]);
      expect(served.paths['/pub'].get.security).toEqual([]);
      expect(served.paths['/api/orgs/{tenantId}/billing'].get['x-ezid'].roles).toEqual([
        { names: ['Admin', 'Billing'], match: 'any' },
      ]);
    });

    it('adds the bearer scheme and, in cookie mode, the cookie scheme named after the access cookie', () => {
      expect(doc.components.securitySchemes.bearer).toMatchObject({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
      });
      // Plain-http localhost publicUrl: the cookie is ezid_at (no __Host- prefix), as the guard reads it.
      expect(doc.components.securitySchemes.cookie).toMatchObject({
        type: 'apiKey',
        in: 'cookie',
        name: 'ezid_at',
      });
    });

    it('@Public(): security [] (also on a path excluded from the global prefix), unless a rule applies', () => {
      expect(op(doc, '/pub', 'get').security).toEqual([]);
      expect(op(doc, '/pub', 'get')['x-ezid']).toMatchObject({ public: true, authenticated: false });
      expect(op(doc, '/pub', 'get').responses['401']).toBeUndefined();
      const ruled = op(doc, '/api/pub/admin', 'get');
      expect(ruled.security).toEqual([{ bearer: [] }, { cookie: [] }]);
      expect(ruled['x-ezid']).toMatchObject({
        public: false,
        authenticated: true,
        roles: [{ names: ['Admin'] }],
      });
    });

    it('@OptionalAuth(): the empty requirement first, then the schemes', () => {
      const o = op(doc, '/api/feed', 'get');
      expect(o.security).toEqual([{}, { bearer: [] }, { cookie: [] }]);
      expect(o['x-ezid']).toMatchObject({ public: false, optional: true, authenticated: true });
      expect(codesOf(o, 401)).not.toContain('token_missing');
      expect(codesOf(o, 401)).toContain('token_expired');
    });

    it('guarded routes require the schemes, with 400/401/503 and, on unsafe methods in cookie mode, 403 csrf_rejected', () => {
      const get = op(doc, '/api/profile', 'get');
      expect(get.security).toEqual([{ bearer: [] }, { cookie: [] }]);
      expect(codesOf(get, 401)).toEqual([
        'token_missing',
        'token_malformed',
        'token_expired',
        'token_invalid',
        'token_revoked',
      ]);
      expect(codesOf(get, 400)).toEqual(['invalid_request']);
      expect(codesOf(get, 503)).toEqual(['idp_unavailable']);
      expect(get.responses['503'].headers['Retry-After']).toBeDefined();
      expect(get.responses['401'].headers['WWW-Authenticate']).toBeDefined();
      expect(get.responses['403']).toBeUndefined();
      expect(codesOf(op(doc, '/api/profile', 'post'), 403)).toEqual(['csrf_rejected']);
    });

    it('roles and permissions: x-ezid and the description, class rule replaced or merged as the guard does', () => {
      const list = op(doc, '/api/orgs/{tenantId}/billing', 'get');
      expect(list['x-ezid']).toEqual({
        public: false,
        optional: false,
        authenticated: true,
        roles: [{ names: ['Admin', 'Billing'], match: 'any' }],
        tenant: { in: 'path', name: 'tenantId', required: true },
      });
      expect(list.description).toContain('any of roles `Admin`, `Billing`');
      expect(codesOf(list, 403)).toEqual(['tenant_forbidden', 'insufficient_role']);
      const refund = op(doc, '/api/orgs/{tenantId}/billing/refund', 'post');
      expect(refund['x-ezid'].roles).toEqual([{ names: ['Admin', 'Billing'], match: 'any' }]);
      expect(refund['x-ezid'].permissions).toEqual([{ names: ['Billing Manage'], match: 'all' }]);
      expect(codesOf(refund, 403)).toEqual(
        ['tenant_forbidden', 'insufficient_role', 'insufficient_permission', 'csrf_rejected'].sort(order),
      );
      const close = op(doc, '/api/orgs/{tenantId}/billing/close', 'post');
      expect(close['x-ezid'].roles).toEqual([{ names: ['Owner', 'Admin'], match: 'all' }]);
      expect(close.description).toContain('all of roles `Owner`, `Admin`');
      const members = op(doc, '/api/orgs/{tenantId}/billing/members', 'get');
      expect(members['x-ezid'].roles).toEqual([
        { names: ['Admin', 'Billing'], match: 'any' },
        { names: ['Member'], match: 'any', prohibited: ['Suspended'] },
      ]);
      expect(members.description).toContain('role `Member`, and none of `Suspended`');
    });

    it('tenant from the route param: the path parameter is described, no header added', () => {
      const o = op(doc, '/api/orgs/{tenantId}/billing', 'get');
      const params = o.parameters.filter((p: Json) => p.name === 'tenantId');
      expect(params).toHaveLength(1);
      expect(params[0]).toMatchObject({ in: 'path', required: true });
      expect(params[0].description).toContain('tenant');
      expect(o.parameters.some((p: Json) => p.in === 'header')).toBe(false);
      // Membership only (no rule): tenant-scoped through the param, 403 tenant_forbidden.
      const m = op(doc, '/api/orgs/{tenantId}/overview', 'get');
      expect(m['x-ezid'].tenant).toEqual({ in: 'path', name: 'tenantId', required: true });
      expect(codesOf(m, 403)).toEqual(['tenant_forbidden']);
      expect(m.description).toContain('Membership of the tenant named by the path parameter `tenantId`');
    });

    it('tenant from the header: a required x-tenant-id header parameter, 403 tenant_required', () => {
      const o = op(doc, '/api/reports', 'get');
      expect(o.parameters.filter((p: Json) => p.in === 'header')).toEqual([
        expect.objectContaining({ name: 'x-tenant-id', in: 'header', required: true }),
      ]);
      expect(o['x-ezid'].tenant).toEqual({ in: 'header', name: 'x-tenant-id', required: true });
      expect(codesOf(o, 403)).toEqual(['tenant_required', 'tenant_forbidden', 'insufficient_permission']);
    });

    it('URI versioning and RouterModule paths are mapped', () => {
      expect(op(doc, '/api/v2/versioned', 'get')['x-ezid'].roles).toEqual([
        { names: ['Admin'], match: 'any' },
      ]);
      expect(op(doc, '/api/admin/stats', 'get')['x-ezid'].roles).toEqual([
        { names: ['Admin'], match: 'any' },
      ]);
    });

    it('keeps a response the app documented itself', () => {
      expect(op(doc, '/api/documented', 'get').responses['403']).toEqual({ description: 'Own 403 text' });
    });

    it('@ApiExcludeController() stays excluded', () => {
      expect(Object.keys(doc.paths).some((p) => p.includes('internal'))).toBe(false);
    });

    it('odd paths: wildcards, optional groups, inline patterns, @All', () => {
      if (platform === 'express') {
        expect(op(doc, '/api/odd/files/{path}', 'get').security).toEqual([]);
        expect(op(doc, '/api/odd/opt/{id}', 'get').security).toEqual([{ bearer: [] }, { cookie: [] }]);
      } else {
        expect(op(doc, '/api/odd/num/{id}', 'get').security).toEqual([]);
        expect(op(doc, '/api/odd/files/{path}', 'get').security).toEqual([{ bearer: [] }, { cookie: [] }]);
        const range = op(doc, '/api/odd/range/{from}-{to}', 'get');
        expect(range['x-ezid'].tenant).toEqual({ in: 'header', name: 'x-tenant-id', required: true });
      }
      for (const m of ['get', 'post', 'delete']) {
        const o = op(doc, '/api/odd/any/{tenantId}', m);
        expect(o['x-ezid'].tenant).toEqual({ in: 'path', name: 'tenantId', required: true });
      }
    });

    it('an operation with several handlers the guards treat differently is left as is, with one warning', () => {
      const warnings = warningsOf(s.logger);
      if (platform === 'express') {
        const dup = op(doc, '/api/odd/dup', 'get');
        expect(dup.security).toBeUndefined();
        expect(dup['x-ezid']).toBeUndefined();
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain('GET /api/odd/dup (2 handlers the guards treat differently)');
      } else {
        expect(warnings).toEqual([]);
      }
    });

    it('callback routes: DTO schemas from the class-validator rules, at the mounted path', () => {
      const schemas = doc.components.schemas;
      expect(schemas.EzidCallbackDto).toEqual({
        type: 'object',
        description: expect.any(String),
        properties: {
          code: { type: 'string', pattern: '^[A-Za-z0-9._~+/=-]+$', maxLength: 4096, minLength: 1 },
          state: { type: 'string', pattern: '^[A-Za-z0-9._~+/=-]+$', maxLength: 512, minLength: 1 },
        },
        additionalProperties: false,
      });
      expect(schemas.EzidMagicLinkDto.required).toEqual(['email']);
      expect(schemas.EzidMagicLinkDto.properties.email).toMatchObject({
        type: 'string',
        format: 'email',
        maxLength: 254,
      });
      expect(schemas.EzidSmsDto.properties.phone.pattern).toBe('^\\+[1-9][0-9]{6,14}$');
      expect(schemas.EzidCodeVerifyDto.required).toEqual(['state', 'code']);
      const cb = op(doc, '/api/auth/ezid/callback', 'post');
      expect(cb.security).toEqual([]);
      expect(cb.requestBody.content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/EzidCallbackDto',
      });
      expect(cb.responses['200'].content['application/json'].schema.properties.user).toEqual({
        $ref: '#/components/schemas/EzidPublicUser',
      });
      expect(codesOf(cb, 429)).toEqual(['rate_limited']);
      expect(codesOf(cb, 400)).toEqual(['invalid_request', 'invalid_code', 'validation_failed']);
      expect(codesOf(cb, 403)).toEqual(['csrf_rejected']);
      expect(codesOf(op(doc, '/api/auth/ezid/refresh', 'post'), 409)).toEqual(['refresh_superseded']);
      const redirect = op(doc, '/api/auth/ezid/callback', 'get');
      expect(redirect.parameters.map((p: Json) => p.name).sort()).toEqual([
        'callback_url',
        'code',
        'redirect',
        'state',
      ]);
      expect(redirect.responses['303']).toBeDefined();
      const me = op(doc, '/api/auth/ezid/me', 'get');
      expect(me.security).toEqual([{ bearer: [] }, { cookie: [] }]);
    });

    it('writes no option value a client must not see (secret, EZiD URLs, issuer)', () => {
      const text = JSON.stringify(doc);
      for (const value of ['openapi-test-secret', emu.url, emu.jwksUri, emu.issuer, 'cli_openapi_test']) {
        expect([value, text.includes(value)]).toEqual([value, false]);
      }
    });

    it('the error schema carries every code the package emits', () => {
      expect(doc.components.schemas.EzidError.properties.code.enum).toEqual([...EZID_ERROR_CODES]);
      expect(doc.components.schemas.EzidError.required).toEqual(['statusCode', 'error', 'code', 'message']);
    });

    it('the guards answer what the document says (no token, and a valid token without the tenant)', async () => {
      const checked: string[] = [];
      for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
        const o = item.get;
        if (!o?.['x-ezid'] || path.includes('{') || path.includes('/auth/ezid/')) continue;
        const headers: Record<string, string> =
          o['x-ezid'].tenant?.in === 'header' ? { 'x-tenant-id': T1 } : {};
        const anon = await fetch(s.url + path, { headers });
        const body = (await anon.json()) as Json;
        if (o.security.length === 0 || (o.security[0] && Object.keys(o.security[0]).length === 0)) {
          expect([path, anon.status]).toEqual([path, 200]);
        } else {
          expect([path, anon.status, body.code]).toEqual([path, 401, 'token_missing']);
          expect(codesOf(o, 401)).toContain(body.code);
        }
        checked.push(path);
      }
      expect(checked.length).toBeGreaterThanOrEqual(6);
      const billing = op(doc, '/api/orgs/{tenantId}/billing', 'get');
      const denied = await fetch(`${s.url}/api/orgs/${UNKNOWN_TENANT}/billing`, {
        headers: { authorization: `Bearer ${demo}` },
      });
      expect(denied.status).toBe(403);
      expect(codesOf(billing, 403)).toContain(((await denied.json()) as Json).code);
      const ok = await fetch(`${s.url}/api/orgs/${T1}/billing`, {
        headers: { authorization: `Bearer ${demo}` },
      });
      expect(ok.status).toBe(200);
      const noTenant = await fetch(`${s.url}/api/reports`, { headers: { authorization: `Bearer ${demo}` } });
      expect(noTenant.status).toBe(403);
      expect(codesOf(op(doc, '/api/reports', 'get'), 403)).toContain(((await noTenant.json()) as Json).code);
    });

    it('an operation no handler serves is left as is and reported in the same single warning', () => {
      const before = warningsOf(s.logger).length;
      const copy = structuredClone(doc);
      copy.paths['/ghost/{id}'] = { get: { responses: { '200': { description: '' } } } };
      copy.paths['/api/profile'].trace = { responses: { '200': { description: '' } } };
      applyEzidOpenApi(s.app, copy as never);
      const added = warningsOf(s.logger).slice(before);
      expect(added).toHaveLength(1);
      expect(added[0]).toContain('GET /ghost/{id}');
      expect(added[0]).toContain('TRACE /api/profile');
      expect(copy.paths['/ghost/{id}'].get).toEqual({ responses: { '200': { description: '' } } });
    });

    it('is idempotent: applying it again changes nothing', () => {
      expect(applyEzidOpenApi(s.app, structuredClone(doc) as never)).toEqual(doc);
    });

    it('maps the document built with ignoreGlobalPrefix too', () => {
      const bare = SwaggerModule.createDocument(s.app, new DocumentBuilder().build(), {
        ignoreGlobalPrefix: true,
      });
      const out = applyEzidOpenApi(s.app, bare) as unknown as Json;
      expect(out.paths['/profile'].get.security).toEqual([{ bearer: [] }, { cookie: [] }]);
      expect(out.paths['/orgs/{tenantId}/billing'].get['x-ezid'].roles).toHaveLength(1);
    });
  });

  describe('globalGuard: false, json mode, custom tenant param and header', () => {
    @Controller('opt-in')
    class OptInController {
      @UseGuards(EzidAuthGuard) @Get('auth') auth() {
        return { ok: true };
      }
      @Get('open') open() {
        return { ok: true };
      }
      @UseGuards(AuthGuard('ezid-jwt')) @Get('passport') passport() {
        return { ok: true };
      }
      @Public() @Get('public') pub() {
        return { ok: true };
      }
      @UseGuards(EzidAuthGuard, EzidRolesGuard) @Roles('Admin') @Get('roles') roles() {
        return { ok: true };
      }
      @UseGuards(EzidAuthGuard, EzidRolesGuard) @Roles('Admin') @Get('orgs/:orgId') org(
        @Param('orgId') o: string,
      ) {
        return { o };
      }
      // No EzidRolesGuard: the rule is enforced by nothing, so it is not documented.
      @UseGuards(EzidAuthGuard) @Roles('Admin') @Get('unenforced') unenforced() {
        return { ok: true };
      }
    }

    let s: Started;
    let doc: Json;

    beforeAll(async () => {
      const { app, logger } = await boot(platform, emu, [OptInController], {
        globalGuard: false,
        tenant: { param: 'orgId', header: 'x-org' },
      });
      await app.init();
      doc = applyEzidOpenApi(
        app,
        SwaggerModule.createDocument(app, new DocumentBuilder().build()),
      ) as unknown as Json;
      s = { app, url: await listen(app), logger };
    });
    afterAll(() => s?.app.close());

    it('is valid, has no cookie scheme and no GET /callback (json mode)', async () => {
      await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
      expect(Object.keys(doc.components.securitySchemes)).toEqual(['bearer']);
      expect(doc.paths['/auth/ezid/callback'].get).toBeUndefined();
      expect(
        doc.paths['/auth/ezid/callback'].post.responses['200'].content['application/json'].schema.required,
      ).toContain('accessToken');
    });

    it('secures only routes that use EzidAuthGuard or AuthGuard("ezid-jwt")', async () => {
      expect(op(doc, '/opt-in/auth', 'get').security).toEqual([{ bearer: [] }]);
      expect(op(doc, '/opt-in/passport', 'get').security).toEqual([{ bearer: [] }]);
      expect(op(doc, '/opt-in/public', 'get').security).toEqual([]);
      const open = op(doc, '/opt-in/open', 'get');
      expect(open.security).toBeUndefined();
      expect(open['x-ezid']).toBeUndefined();
      expect(open.responses['401']).toBeUndefined();
      expect((await fetch(`${s.url}/opt-in/open`)).status).toBe(200);
      expect((await fetch(`${s.url}/opt-in/auth`)).status).toBe(401);
      expect((await fetch(`${s.url}/opt-in/passport`)).status).toBe(401);
    });

    it('documents rules only where EzidRolesGuard enforces them, with the configured tenant carriers', () => {
      const roles = op(doc, '/opt-in/roles', 'get');
      expect(roles['x-ezid'].tenant).toEqual({ in: 'header', name: 'x-org', required: true });
      expect(roles.parameters).toContainEqual(
        expect.objectContaining({ name: 'x-org', in: 'header', required: true }),
      );
      const org = op(doc, '/opt-in/orgs/{orgId}', 'get');
      expect(org['x-ezid'].tenant).toEqual({ in: 'path', name: 'orgId', required: true });
      const unenforced = op(doc, '/opt-in/unenforced', 'get');
      expect(unenforced['x-ezid']).toEqual({ public: false, optional: false, authenticated: true });
      expect(unenforced.responses['403']).toBeUndefined();
    });

    it('warns about nothing when every operation maps', () => {
      expect(warningsOf(s.logger)).toEqual([]);
    });
  });
});

const order = (a: string, b: string): number =>
  EZID_ERROR_CODES.indexOf(a as never) - EZID_ERROR_CODES.indexOf(b as never);
