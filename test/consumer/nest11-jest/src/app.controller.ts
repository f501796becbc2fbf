import { Controller, Get } from '@nestjs/common';
import { Public, Roles } from 'nestjs-ezid';

@Controller()
export class AppController {
  @Public()
  @Get('health')
  health() {
    return { ok: true };
  }

  @Roles('Admin')
  @Get('orgs/:tenantId/admin')
  admin() {
    return { admin: true };
  }
}
