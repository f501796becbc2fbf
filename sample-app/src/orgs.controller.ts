import { BadRequestException, Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { CurrentTenant, CurrentUser, EzidTenant, EzidUser, Permissions, Roles } from 'nestjs-ezid';

/** Tenant-scoped routes: the tenant comes from `:tenantId`, and a role in one tenant grants nothing in another. */
@Controller('orgs/:tenantId')
export class OrgsController {
  /** Projects added with POST, per tenant id (in memory: a demo). */
  private readonly added = new Map<string, { id: string; name: string }[]>();

  /** Any member (Admin or Member) of the tenant. */
  @Get('projects')
  @Roles('Admin', 'Member')
  projects(@CurrentTenant() tenant: EzidTenant) {
    return {
      tenant: tenant.name,
      projects: [
        { id: 'p1', name: `${tenant.name} website` },
        { id: 'p2', name: `${tenant.name} mobile app` },
        ...(this.added.get(tenant.id) ?? []),
      ],
    };
  }

  /**
   * Admins only; a state change authenticated by the session cookie. nestjs-ezid refuses it
   * (403 csrf_rejected) unless it comes from this app's own origin: the page's fetch() does.
   */
  @Post('projects')
  @HttpCode(201)
  @Roles('Admin')
  addProject(@CurrentTenant() tenant: EzidTenant, @Body() body: { name?: unknown }) {
    const name = typeof body?.name === 'string' ? body.name.trim() : '';
    if (!name || name.length > 80) throw new BadRequestException('name: 1 to 80 characters');
    const list = this.added.get(tenant.id) ?? [];
    if (list.length >= 20) throw new BadRequestException('at most 20 projects in this demo');
    const project = { id: `p${list.length + 3}`, name };
    this.added.set(tenant.id, [...list, project]);
    return project;
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
