import type { ExecutionContext } from '@nestjs/common';
import type { EzidUser } from '../interfaces/ezid-user.interface';
import { httpRequestOf } from './http-context';
import { peekRequestState, requestState } from './request-state';

/**
 * Users attached by `EzidAuthGuard` to per-message carriers (WS message data, RPC context or message).
 * Never keyed on an object shared between messages (a WS client socket, a TCP connection): a user
 * verified for one message must not be seen by the next one. On HTTP and GraphQL the user is in the
 * request's record (`requestState`).
 */
const USERS = new WeakMap<object, EzidUser>();

/** Whether the carriers of this context type are request objects (one per HTTP request). */
const onRequest = (type: string): boolean => type === 'http' || type === 'graphql';

const isObject = (v: unknown): v is object => !!v && (typeof v === 'object' || typeof v === 'function');

/**
 * The objects of an execution context a user is attached to, most specific first:
 * - `http`: the request (Express `req` / Fastify `request`);
 * - `graphql`: the request in the GraphQL context (`context.req`, `context.request` or `context.reply.request`);
 * - `ws`: the message data, when it is an object (the client socket is shared by every message of the
 *   connection, so it never carries a user: a message whose data is not an object has no user);
 * - `rpc`: the transport context (`TcpContext`, gRPC `Metadata`, ...: one per message), then the message data.
 */
export function ezidUserCarriers(context: ExecutionContext): object[] {
  const type = context.getType<string>();
  const out: object[] = [];
  const push = (v: unknown): void => {
    if (isObject(v)) out.push(v);
  };
  if (type === 'http') push(httpRequestOf(context));
  else if (type === 'graphql') push(graphqlRequest(context));
  else if (type === 'ws') push(context.switchToWs().getData());
  else if (type === 'rpc') {
    push(context.switchToRpc().getContext());
    push(context.switchToRpc().getData());
  }
  return out;
}

/**
 * The request object of a GraphQL execution context, read without importing `@nestjs/graphql`:
 * the third resolver argument is the GraphQL context, which holds the HTTP request.
 */
export function graphqlRequest(context: ExecutionContext): Record<string, unknown> | undefined {
  const gql = context.getArgs()[2] as
    { req?: unknown; request?: unknown; reply?: { request?: unknown } } | undefined;
  const req = gql?.req ?? gql?.request ?? gql?.reply?.request;
  return isObject(req) ? (req as Record<string, unknown>) : undefined;
}

/**
 * Attaches the verified user to the context (called by `EzidAuthGuard`). On HTTP and GraphQL the
 * user is also set as `request.user`, the Passport convention.
 */
export function setEzidUser(context: ExecutionContext, user: EzidUser): void {
  const type = context.getType<string>();
  if (onRequest(type)) {
    const req = type === 'http' ? httpRequestOf(context) : graphqlRequest(context);
    if (isObject(req)) attachEzidUserToRequest(req as Record<string, unknown>, user);
    return;
  }
  for (const carrier of ezidUserCarriers(context)) USERS.set(carrier, user);
}

/**
 * The user `EzidAuthGuard` verified for this execution context (any context type), or `undefined`
 * (public route, `@OptionalAuth()` without a token, or the guard did not run).
 * For HTTP this equals `request.user` when the guard set it.
 */
export function getEzidUser(context: ExecutionContext): EzidUser | undefined {
  const request = onRequest(context.getType<string>());
  for (const carrier of ezidUserCarriers(context)) {
    const u = request ? peekRequestState(carrier)?.user : USERS.get(carrier);
    if (u) return u;
  }
  return undefined;
}

/** Whether `EzidAuthGuard` already authenticated this request object (used to skip a second run on one request). */
export function hasEzidUser(request: object): boolean {
  return peekRequestState(request)?.user !== undefined;
}

/** `setEzidUser` for an HTTP request object (HTTP and GraphQL contexts): `request.user = user`, plus its record. */
export function attachEzidUserToRequest(request: Record<string, unknown>, user: EzidUser): void {
  requestState(request).user = user;
  request.user = user;
}
