import type { ExecutionContext } from '@nestjs/common';
import type { EzidTenant, EzidUser } from '../interfaces/ezid-user.interface';

/** Where `EzidRolesGuard` puts the tenant it authorized (read by `@CurrentTenant()`). */
export const EZID_TENANT = Symbol.for('nestjs-ezid:tenant');

/** An object the guard reads the user, params and headers from: an HTTP request or a WebSocket client. */
export type AuthzCarrier = Record<string | symbol, unknown>;

/**
 * The object of an execution context that carries the user (`user`) and, for HTTP, `params` and
 * `headers`:
 * - `http`: the request (Express or Fastify);
 * - `graphql`: the context's `req` (Apollo/Express), `request` or `reply.request` (Mercurius), read
 *   from `getArgs()[2]` so `@nestjs/graphql` is never imported;
 * - `ws`: the client socket.
 * Any other context type gives `undefined`, which the guard denies.
 */
export function getAuthzCarrier(context: ExecutionContext): AuthzCarrier | undefined {
  const type = context.getType<string>();
  let carrier: unknown;
  if (type === 'http') {
    carrier = context.switchToHttp().getRequest();
  } else if (type === 'graphql') {
    const ctx = context.getArgs()[2] as Record<string, unknown> | undefined;
    carrier = ctx?.req ?? ctx?.request ?? (ctx?.reply as Record<string, unknown> | undefined)?.request;
  } else if (type === 'ws') {
    carrier = context.switchToWs().getClient();
  }
  return typeof carrier === 'object' && carrier !== null ? (carrier as AuthzCarrier) : undefined;
}

/** The user the authentication guard attached, if it looks like one. */
export function getCarrierUser(carrier: AuthzCarrier | undefined): EzidUser | undefined {
  const user = carrier?.user;
  return typeof user === 'object' && user !== null ? (user as EzidUser) : undefined;
}

/** The headers of a carrier: the request's, or a WebSocket client's handshake / upgrade request headers. */
export function getCarrierHeaders(carrier: AuthzCarrier): Record<string, unknown> | undefined {
  const direct = carrier.headers;
  if (typeof direct === 'object' && direct !== null) return direct as Record<string, unknown>;
  for (const key of ['handshake', 'request', 'upgradeReq']) {
    const inner = carrier[key] as Record<string, unknown> | undefined;
    if (
      typeof inner === 'object' &&
      inner !== null &&
      typeof inner.headers === 'object' &&
      inner.headers !== null
    ) {
      return inner.headers as Record<string, unknown>;
    }
  }
  return undefined;
}

/** The tenant `EzidRolesGuard` authorized for this context, if any. */
export function getCurrentTenant(context: ExecutionContext): EzidTenant | undefined {
  return getAuthzCarrier(context)?.[EZID_TENANT] as EzidTenant | undefined;
}
