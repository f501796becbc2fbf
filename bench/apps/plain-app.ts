// The unguarded baseline: a Nest app with no auth module and no guard, served by the same HTTP
// server as the app under test (see server.ts), under the /u prefix. The same app with one or two
// app-wide guards that only return true (/n1, /n2) measures Nest's own guard pipeline: what any
// app-wide guard costs before it does anything (nestjs-ezid registers two by default).
import { CanActivate, Controller, Get, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';

@Controller()
export class PlainBenchController {
  @Get('unguarded')
  unguarded() {
    return { ok: true };
  }

  /** The path shape of the app under test's `@Roles` route, so the router's share is measured apart. */
  @Get('orgs/:tenantId/admin')
  admin() {
    return { ok: true };
  }
}

@Module({ controllers: [PlainBenchController] })
export class PlainBenchModule {}

@Injectable()
export class NoopGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Injectable()
export class SecondNoopGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Module({})
export class NoopGuardBenchModule {
  /** The plain app with `guards` (1 or 2) app-wide no-op guards. */
  static create(guards: 1 | 2): DynamicModule {
    return {
      module: NoopGuardBenchModule,
      controllers: [PlainBenchController],
      providers: [
        { provide: APP_GUARD, useClass: NoopGuard },
        ...(guards === 2 ? [{ provide: APP_GUARD, useClass: SecondNoopGuard }] : []),
      ],
    };
  }
}
