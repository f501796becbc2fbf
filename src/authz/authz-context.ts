import type { ExecutionContext } from '@nestjs/common';
import { ezidUserCarriers, getEzidUser, graphqlRequest } from '../common/ezid-user-context';
import type { EzidTenant, EzidUser } from '../interfaces/ezid-user.interface';

/** What `EzidRolesGuard` reads in one execution context. Internal. */
export interface AuthzView {
  /** What `tenant.resolve(request, user)` receives: the HTTP/GraphQL request, the WS client, the RPC message data. */
  readonly request: Record<string, unknown>;
  /** The route params (HTTP only). */
  readonly params?: unknown;
  /** The host params of a host-routed controller, `@Controller({ host: ':tenantId.example.com' })` (HTTP only). */
  readonly hosts?: unknown;
  /** Every header bag that may carry the tenant header (request headers; WS handshake and message headers; RPC headers). */
  readonly headerBags: readonly unknown[];
  readonly user: EzidUser | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function userOf(value: unknown): EzidUser | undefined {
  return isObject(value) ? (value as unknown as EzidUser) : undefined;
}

/**
 * The request, params, headers and user of an execution context, for every context type the auth
 * guard supports (`http` on Express and Fastify, `graphql`, `ws`, `rpc`). `undefined` for any other
 * type, and for a GraphQL context without a request: the guard denies those.
 */
export function getAuthzView(context: ExecutionContext): AuthzView | undefined {
  const type = context.getType<string>();
  if (type === 'http') {
    const req = context.switchToHttp().getRequest<Record<string, unknown>>();
    if (!isObject(req)) return undefined;
    return {
      request: req,
      params: req.params,
      hosts: req.hosts,
      headerBags: [req.headers],
      user: userOf(req.user),
    };
  }
  if (type === 'graphql') {
    const req = graphqlRequest(context);
    if (!req) return undefined;
    return { request: req, headerBags: [req.headers], user: userOf(req.user) ?? getEzidUser(context) };
  }
  if (type === 'ws') {
    const client = context.switchToWs().getClient<unknown>();
    const data = context.switchToWs().getData<unknown>();
    if (!isObject(client)) return undefined;
    const handshake = client.handshake as Record<string, unknown> | undefined;
    const upgrade = client.request as Record<string, unknown> | undefined;
    return {
      request: client,
      headerBags: [handshake?.headers, upgrade?.headers, isObject(data) ? data.headers : undefined],
      user: getEzidUser(context),
    };
  }
  if (type === 'rpc') {
    const rpc = context.switchToRpc().getContext<unknown>();
    const data = context.switchToRpc().getData<unknown>();
    const headers =
      isObject(rpc) && typeof rpc.getHeaders === 'function' ? (rpc.getHeaders as () => unknown)() : undefined;
    const request = isObject(data) ? data : isObject(rpc) ? rpc : undefined;
    if (!request) return undefined;
    return {
      request,
      headerBags: [headers, isObject(data) ? data.headers : undefined],
      user: getEzidUser(context),
    };
  }
  return undefined;
}

/** Tenants authorized by `EzidRolesGuard`, by carrier object (like the auth guard's user registry). */
const TENANTS = new WeakMap<object, EzidTenant | null>();

/** Records (or clears, with `undefined`) the tenant authorized for this context. Internal. */
export function setEzidTenant(context: ExecutionContext, tenant: EzidTenant | undefined): void {
  if (context.getType<string>() === 'http') {
    // Hot path: one carrier.
    const req = context.switchToHttp().getRequest<object>();
    if (isObject(req)) TENANTS.set(req, tenant ?? null);
    return;
  }
  for (const carrier of ezidUserCarriers(context)) TENANTS.set(carrier, tenant ?? null);
}

/**
 * The tenant `EzidRolesGuard` authorized for this execution context (any context type), or
 * `undefined` when it resolved none. This is what `@CurrentTenant()` returns.
 * On WebSocket the tenant is recorded on the message data when it is an object (then on the client),
 * so concurrent messages of one socket do not see each other's tenant.
 */
export function getEzidTenant(context: ExecutionContext): EzidTenant | undefined {
  if (context.getType<string>() === 'http') {
    const req = context.switchToHttp().getRequest<object>();
    return (isObject(req) && TENANTS.get(req)) || undefined;
  }
  for (const carrier of ezidUserCarriers(context)) {
    if (TENANTS.has(carrier)) return TENANTS.get(carrier) ?? undefined;
  }
  return undefined;
}

/** Requests `EzidRolesGuard` let through anonymously on a `@Public()` route without a rule. Internal. */
const ANONYMOUS_PASSES = new WeakSet<object>();

/**
 * Records (`true`) or clears that `EzidRolesGuard` allowed this request without a user, so
 * `EzidDeferredAuthorizationInterceptor` authorizes it if a later guard (Passport) attaches one. Internal.
 */
export function markAnonymousPass(view: AuthzView, anonymous: boolean): void {
  if (anonymous) ANONYMOUS_PASSES.add(view.request);
  else ANONYMOUS_PASSES.delete(view.request);
}

/** Whether `EzidRolesGuard` last let this request through without a user. Internal. */
export function wasAnonymousPass(view: AuthzView): boolean {
  return ANONYMOUS_PASSES.has(view.request);
}
