import {
  Controller,
  Get,
  INestApplication,
  LoggerService,
  Module,
  Post,
  RequestMethod,
} from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { generateKeyPairSync } from 'node:crypto';
import { EzidModule, Roles } from '../../src';

/**
 * The boot warning about rule-bearing routes whose tenant the guard cannot read considers the path
 * as mounted: global prefix (with its `exclude` list) and `RouterModule` paths, not only the
 * controller and handler paths.
 */

const PUBLIC_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
  type: 'spki',
  format: 'pem',
}) as string;

class CaptureLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  debug(): void {}
  verbose(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

@Controller('billing')
class BillingController {
  @Get() @Roles('Admin') list() {}
  @Get('open') open() {}
}

@Controller(':orgId/reports')
class ReportsController {
  @Post() @Roles('Admin') create() {}
}

@Controller('health')
class HealthController {
  @Get(':check') @Roles('Admin') check() {}
}

@Module({ controllers: [BillingController] })
class BillingModule {}

@Module({ controllers: [ReportsController] })
class ReportsModule {}

async function boot(
  imports: unknown[],
  controllers: (new () => unknown)[],
  setup: (app: INestApplication) => void = () => undefined,
): Promise<string[]> {
  const logger = new CaptureLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [
      EzidModule.forRoot({
        clientId: 'cli_route_warnings',
        callback: false,
        token: { publicKey: PUBLIC_KEY, issuer: 'https://issuer.example' },
      }),
      ...(imports as never[]),
    ],
    controllers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger });
  setup(app);
  await app.init();
  await app.close();
  return logger.warnings.filter((w) => w.includes('tenant param'));
}

describe('boot warnings consider the full mounted path', () => {
  it('a global prefix naming the tenant under another name: warned, with the full path', async () => {
    const warnings = await boot([BillingModule], [], (app) => app.setGlobalPrefix('orgs/:orgId'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('GET /orgs/:orgId/billing (BillingController.list)');
    expect(warnings[0]).toContain(':tenantId');
  });

  it('a global prefix with the tenant param: no warning, even when the controller adds other params', async () => {
    const warnings = await boot([BillingModule, ReportsModule], [], (app) =>
      app.setGlobalPrefix('orgs/:tenantId'),
    );
    expect(warnings).toEqual([]);
  });

  it('a global prefix excluding a route: the route is judged without the prefix', async () => {
    const warnings = await boot([], [HealthController], (app) =>
      app.setGlobalPrefix('orgs/:tenantId', {
        exclude: [{ path: 'health/:check', method: RequestMethod.GET }],
      }),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('GET /health/:check (HealthController.check)');
  });

  it('a RouterModule path naming the tenant under another name: warned, with the full path', async () => {
    const warnings = await boot(
      [BillingModule, RouterModule.register([{ path: 'orgs/:orgId', module: BillingModule }])],
      [],
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('GET /orgs/:orgId/billing (BillingController.list)');
  });

  it('a RouterModule path with the tenant param, under a global prefix: no warning', async () => {
    const warnings = await boot(
      [ReportsModule, RouterModule.register([{ path: 'orgs/:tenantId', module: ReportsModule }])],
      [],
      (app) => app.setGlobalPrefix('api'),
    );
    expect(warnings).toEqual([]);
  });

  it('nested RouterModule children and a global prefix compose', async () => {
    const warnings = await boot(
      [
        BillingModule,
        ReportsModule,
        RouterModule.register([
          {
            path: 'tenants/:tenantId',
            module: ReportsModule,
            children: [{ path: 'accounts/:accountId', module: BillingModule }],
          },
        ]),
      ],
      [],
      (app) => app.setGlobalPrefix('v1'),
    );
    expect(warnings).toEqual([]);
  });

  it('without prefix or RouterModule, a controller param other than the tenant param is still warned', async () => {
    const warnings = await boot([ReportsModule], []);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('POST /:orgId/reports (ReportsController.create)');
  });
});
