import { Controller, Get } from '@nestjs/common';
import { CurrentTenant, CurrentUser, EzidTenant, EzidUser, Permissions, Roles } from 'nestjs-ezid';

/** Tenant-scoped routes: the tenant comes from `:tenantId`, and a role in one tenant grants nothing in another. */
@Controller('orgs/:tenantId')
export class OrgsController {
  /** Any member (Admin or Member) of the tenant. */
  @Get('projects')
  @Roles('Admin', 'Member')
  projects(@CurrentTenant() tenant: EzidTenant) {
    return {
      tenant: tenant.name,
      projects: [
        { id: 'p1', name: `${tenant.name} website` },
        { id: 'p2', name: `${tenant.name} mobile app` },
      ],
    };
  }

  /** Admins only. */
  @Get('settings')
  @Roles('Admin')
  settings(@CurrentTenant() tenant: EzidTenant, @CurrentUser('email') email: string) {
    return { tenant: tenant.name, settings: { plan: 'team', seats: 10 }, readBy: email };
  }

  /** Needs the `Billing Manage` permission in this tenant. */
  @Get('billing')
  @Permissions('Billing Manage')
  billing(@CurrentTenant() tenant: EzidTenant, @CurrentUser() user: EzidUser) {
    return { tenant: tenant.name, invoices: [{ id: 'inv-1', amount: 4200 }], managedBy: user.id };
  }
}
