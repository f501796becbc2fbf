// The app under test: nestjs-ezid with its defaults (global EzidAuthGuard + EzidRolesGuard), the
// same four routes as the canonical recipe (canonical-app.ts) and identical response bodies.
import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import { EzidModule, Permissions, Public, Roles } from '../../src';
import type { BenchIdp } from './bench-env';

@Controller()
export class EzidBenchController {
  @Public()
  @Get('public')
  public() {
    return { ok: true };
  }

  @Get('guarded')
  guarded() {
    return { ok: true };
  }

  @Roles('Admin')
  @Get('orgs/:tenantId/admin')
  admin() {
    return { ok: true };
  }

  @Permissions('Billing Manage')
  @Get('orgs/:tenantId/billing')
  billing() {
    return { ok: true };
  }
}

@Module({})
export class EzidBenchModule {
  /** With `redisUrl`: the same app with the shared Redis store (`store: { redis }`); `context`: `context: true`. */
  static create(idp: BenchIdp, redisUrl?: string, context = false): DynamicModule {
    return {
      module: EzidBenchModule,
      imports: [
        EzidModule.forRoot({
          clientId: idp.clientId,
          clientSecret: idp.clientSecret,
          apiBaseUrl: idp.apiBaseUrl,
          token: { jwksUri: idp.jwksUri, issuer: idp.issuer },
          ...(redisUrl ? { store: { redis: redisUrl } } : {}),
          ...(context ? { context: true } : {}),
        }),
      ],
      controllers: [EzidBenchController],
    };
  }
}
