import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { EzidHealthIndicator, Public } from 'nestjs-ezid';

/** GET /health: Terminus with the module's indicator (signing keys, store; docs/health.md). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly ezid: EzidHealthIndicator,
  ) {}

  @Public()
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.ezid.isHealthy('ezid')]);
  }
}
