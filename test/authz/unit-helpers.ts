// Test-only helpers shared by the authz unit specs (not exported from the package).
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { EzidAuthorizationHookRegistry } from '../../src/authz/authorization-hook.registry';
import type { ResolvedEzidOptions } from '../../src/ezid-options.validation';
import type { EzidRole, EzidTenant, EzidUser } from '../../src/interfaces/ezid-user.interface';

export const T1 = '664e2686a1b2c3d4e5f60001';
export const T2 = '664e2686a1b2c3d4e5f60002';
export const T3 = '664e2686a1b2c3d4e5f60003';

export function role(name: string, permissions: unknown = []): EzidRole {
  return { id: `r_${name}`, name, permissions: permissions as string[] };
}

export function tenant(id: string, roles: EzidRole[], status = 'Verified'): EzidTenant {
  return { id, name: `org_${id.slice(-1)}`, status, roles };
}

/** Admin (Team View, Team Manage, Billing Manage) in T1; Member (Team View) in T2. */
export function demoUser(tenants?: EzidTenant[]): EzidUser {
  return {
    id: 'user_demo',
    email: 'demo@example.com',
    tenants: tenants ?? [
      tenant(T1, [role('Admin', ['Team View', 'Team Manage', 'Billing Manage'])]),
      tenant(T2, [role('Member', ['Team View'])]),
    ],
    claims: Object.freeze({ sub: 'user_demo' }),
  };
}

export interface FakeRequest {
  user?: unknown;
  params?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  [k: string | symbol]: unknown;
}

/** A hand-built execution context of the given type around `request` (for ws: the client). */
export function contextFor(
  type: string,
  request: FakeRequest | undefined,
  handler: (...a: unknown[]) => unknown,
  cls: abstract new (...a: never[]) => unknown,
  response: Record<string, unknown> = { setHeader: () => undefined },
  wsData: unknown = {},
): ExecutionContext {
  let args: unknown[];
  if (type === 'graphql') args = [{}, {}, { req: request }, {}];
  else if (type === 'ws') args = [request, wsData, 'event'];
  else args = [request, response, () => undefined];
  const ctx = new ExecutionContextHost(args, cls as never, handler);
  ctx.setType(type);
  return ctx;
}

/** An initialized `EzidAuthorizationHookRegistry` over a fake discovery that lists `hooks` (no controllers). */
export function hookRegistry(
  options: ResolvedEzidOptions,
  hooks: CanActivate[] = [],
): EzidAuthorizationHookRegistry {
  const wrappers = hooks.map((instance) => ({
    metatype: instance.constructor,
    instance,
    scope: undefined,
    isTransient: false,
    durable: false,
    isDependencyTreeStatic: () => true,
  }));
  const discovery = { getProviders: () => wrappers, getControllers: () => [] } as unknown as DiscoveryService;
  const registry = new EzidAuthorizationHookRegistry(discovery, new Reflector(), options);
  registry.onModuleInit();
  return registry;
}
