import {
  Controller,
  DynamicModule,
  Get,
  INestApplication,
  LoggerService,
  Provider,
  Type,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import type { EzidModuleOptions, EzidTenant, EzidUser } from '../../src';
import { CurrentTenant, CurrentUser, EzidModule, Permissions, Roles } from '../../src';
import type { EzidEmulator } from '../../src/testing';

type ModuleImport = Type<unknown> | DynamicModule;

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

/** The checks of the matrix: one handler per match mode, plus membership only (no decorator). */
export const CHECKS = [
  'role-any',
  'role-all',
  'role-prohibited',
  'perm-all',
  'perm-any',
  'perm-prohibited',
  'member',
] as const;
export type Check = (typeof CHECKS)[number];

/**
 * The same seven handlers under a path prefix (`p/:tenantId` for the param carrier, `x` for the
 * others). Roles/permissions of the emulator's default seed: Admin (Team View, Team Manage,
 * Billing Manage), Member (Team View).
 */
export function matrixController(prefix: string): Type<unknown> {
  @Controller(prefix)
  class MatrixController {
    @Get('role-any')
    @Roles('Admin', 'Owner')
    roleAny(@CurrentTenant() t?: EzidTenant) {
      return { tenant: t?.id ?? null };
    }

    @Get('role-all')
    @Roles('Admin', 'Member', { match: 'all' })
    roleAll(@CurrentTenant() t?: EzidTenant) {
      return { tenant: t?.id ?? null };
    }

    @Get('role-prohibited')
    @Roles('Member', { prohibited: ['Admin'] })
    roleProhibited(@CurrentTenant() t?: EzidTenant) {
      return { tenant: t?.id ?? null };
    }

    @Get('perm-all')
    @Permissions('Team View', 'Team Manage')
    permAll(@CurrentTenant() t?: EzidTenant) {
      return { tenant: t?.id ?? null };
    }

    @Get('perm-any')
    @Permissions('Billing Manage', 'Does Not Exist', { match: 'any' })
    permAny(@CurrentTenant() t?: EzidTenant) {
      return { tenant: t?.id ?? null };
    }

    @Get('perm-prohibited')
    @Permissions('Team View', { prohibited: ['Team Manage'] })
    permProhibited(@CurrentTenant() t?: EzidTenant) {
      return { tenant: t?.id ?? null };
    }

    @Get('member')
    member(
      @CurrentTenant() t?: EzidTenant,
      @CurrentUser('email') email?: string,
      @CurrentUser() u?: EzidUser,
    ) {
      return { tenant: t?.id ?? null, email: email ?? null, user: u?.id ?? null };
    }
  }
  return MatrixController;
}

export interface AuthzApp {
  app: INestApplication;
  url: string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** A real Nest app (Express or Fastify) on 127.0.0.1 with the real EzidAuthGuard and EzidRolesGuard (global). */
export async function startAuthzApp(
  platform: Platform,
  emu: EzidEmulator,
  controllers: Type<unknown>[],
  extra: Partial<EzidModuleOptions> = {},
  customize: (b: TestingModuleBuilder) => TestingModuleBuilder = (b) => b,
  more: {
    providers?: Provider[];
    imports?: ModuleImport[];
    setup?: (app: INestApplication) => void;
    logger?: LoggerService;
  } = {},
): Promise<AuthzApp> {
  const builder = Test.createTestingModule({
    imports: [
      EzidModule.forRoot({
        clientId: 'cli_authz_test',
        clientSecret: 'authz-test-secret',
        apiBaseUrl: emu.url,
        callback: false,
        ...extra,
        token: { ...extra.token, jwksUri: emu.jwksUri, issuer: emu.issuer, audience: emu.audience },
      }),
      ...(more.imports ?? []),
    ],
    controllers,
    providers: more.providers ?? [],
  });
  const moduleRef = await customize(builder).compile();
  const logger = more.logger ?? false;
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger })
      : moduleRef.createNestApplication({ logger });
  more.setup?.(app);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  return {
    app,
    url,
    get: (path, headers = {}) => fetch(url + path, { headers }),
    close: () => app.close(),
  };
}

/** `fetch` with any method against an `AuthzApp`. */
export const send = (
  app: AuthzApp,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Response> => fetch(app.url + path, { method, headers });

export const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });

/** `200`, or `"403 <code>"` after checking the 403 contract (body shape and WWW-Authenticate). */
export async function outcomeOf(res: Response): Promise<string | number> {
  const text = await res.text();
  if (res.status === 200) return 200;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return `${res.status} non-json`;
  }
  if (res.status === 403) {
    const shapeOk =
      body.statusCode === 403 &&
      body.error === 'Forbidden' &&
      typeof body.code === 'string' &&
      typeof body.message === 'string' &&
      Object.keys(body).length === 4;
    const challenge = res.headers.get('www-authenticate') ?? '';
    if (!shapeOk) return `403 bad-body ${text}`;
    if (!challenge.includes('error="insufficient_scope"')) return `403 bad-challenge ${challenge}`;
  }
  return `${res.status} ${String(body.code)}`;
}
