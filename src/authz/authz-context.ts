import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { ezidUserCarriers, getEzidUser, graphqlRequest } from '../common/ezid-user-context';
import { httpRequestOf } from '../common/http-context';
import { peekRequestState, requestState } from '../common/request-state';
import { rpcHeaderCarriers } from '../auth/token-extractor';
import type { EzidTenant, EzidUser } from '../interfaces/ezid-user.interface';

/** What `EzidRolesGuard` reads in one execution context. Internal. */
export interface AuthzView {
  /** What `tenant.resolve(request, user)` receives: the HTTP/GraphQL request, the WS client, the RPC message data. */
  readonly request: Record<string, unknown>;
  /** The route params (HTTP); the resolver's arguments (GraphQL: a top-level argument named `tenant.param` names the tenant). */
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

/** A header value as transports carry it: Kafka `Buffer`s as latin1 text, one-element lists unwrapped. */
function headerValue(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  if (Array.isArray(v))
    return v.length === 1 ? headerValue(v[0]) : v.length === 0 ? undefined : v.map(headerValue);
  return v;
}

/** The `[name, value]` pairs of a transport header container (gRPC `Metadata`, NATS headers, a `Map`, a plain object). */
function headerEntries(headers: unknown): [string, unknown][] {
  if (!isObject(headers)) return [];
  const h = headers as Record<string, unknown> & {
    get?: (k: string) => unknown;
    getMap?: () => unknown;
    keys?: () => unknown;
    values?: (k: string) => unknown;
  };
  if (typeof h.get === 'function' && typeof h.getMap === 'function') {
    const map = h.getMap(); // gRPC Metadata: names are lower case; get() lists every value
    return isObject(map) ? Object.keys(map).map((k) => [k, h.get!(k)]) : [];
  }
  if (typeof h.get === 'function' && typeof h.keys === 'function') {
    const keys = h.keys(); // NATS MsgHdrs: values() lists every value, get() the first
    if (!Array.isArray(keys)) return [];
    return keys
      .filter((k): k is string => typeof k === 'string')
      .map((k) => [k, typeof h.values === 'function' ? h.values(k) : h.get!(k)]);
  }
  if (typeof (h as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
    const out: [string, unknown][] = [];
    for (const entry of h as unknown as Iterable<unknown>) {
      if (Array.isArray(entry) && typeof entry[0] === 'string') out.push([entry[0], entry[1]]);
    }
    return out;
  }
  return Object.keys(h).map((k) => [k, h[k]]);
}

/**
 * A transport header container as a plain bag with lower-case names, what the guard reads the tenant
 * header from (as Node's HTTP headers). Names differing only by case that carry different values
 * become a list of them: a malformed tenant id, refused like a repeated HTTP header.
 */
function rpcHeaderBag(headers: unknown): Record<string, unknown> | undefined {
  const entries = headerEntries(headers);
  if (entries.length === 0) return undefined;
  const bag: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [name, raw] of entries) {
    const value = headerValue(raw);
    if (value === undefined) continue;
    const key = name.toLowerCase();
    if (!Object.hasOwn(bag, key) || bag[key] === value) bag[key] = value;
    else bag[key] = [...(Array.isArray(bag[key]) ? bag[key] : [bag[key]]), value];
  }
  return bag;
}

/**
 * The request, params, headers and user of an execution context, for every context type the auth
 * guard supports (`http` on Express and Fastify, `graphql`, `ws`, `rpc`). `undefined` for any other
 * type, and for a GraphQL context without a request: the guard denies those.
 */
export function getAuthzView(context: ExecutionContext): AuthzView | undefined {
  const type = context.getType<string>();
  if (type === 'http') {
    const req = httpRequestOf<Record<string, unknown>>(context);
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
    return {
      request: req,
      params: context.getArgs()[1],
      headerBags: [req.headers],
      user: userOf(req.user) ?? getEzidUser(context),
    };
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
    const request = isObject(data) ? data : isObject(rpc) ? rpc : undefined;
    if (!request) return undefined;
    // The carriers the access token is read from (gRPC metadata, NATS, Kafka and RMQ headers), then
    // the payload's `headers`: every one is read, so carriers naming different tenants are refused.
    const carriers = [...rpcHeaderCarriers(rpc), isObject(data) ? data.headers : undefined];
    return { request, headerBags: carriers.map(rpcHeaderBag), user: getEzidUser(context) };
  }
  return undefined;
}

/** Tenants authorized by `EzidRolesGuard`, by carrier object, beyond HTTP (there: the request's record, `requestState`). */
const TENANTS = new WeakMap<object, EzidTenant | null>();

/**
 * The objects the authorized tenant is recorded on: those of the user, except on GraphQL, where it is
 * the resolver's `info` (one per field resolution). The request is shared by every field of an
 * operation, and root query fields resolve concurrently: keyed on the request, one field's tenant
 * would be seen by another field's resolver.
 */
function tenantCarriers(context: ExecutionContext): object[] {
  if (context.getType<string>() !== 'graphql') return ezidUserCarriers(context);
  const info: unknown = context.getArgs()[3];
  return isObject(info) ? [info] : [];
}

/** Records (or clears, with `undefined`) the tenant authorized for this context. Internal. */
export function setEzidTenant(context: ExecutionContext, tenant: EzidTenant | undefined): void {
  if (context.getType<string>() === 'http') {
    // Hot path: one carrier.
    const req = httpRequestOf<object>(context);
    if (isObject(req)) requestState(req).tenant = tenant ?? null;
    return;
  }
  for (const carrier of tenantCarriers(context)) TENANTS.set(carrier, tenant ?? null);
}

/**
 * The tenant `EzidRolesGuard` authorized for this execution context (any context type), or
 * `undefined` when it resolved none. This is what `@CurrentTenant()` returns.
 * On WebSocket the tenant is recorded on the message data when it is an object (then on the client),
 * so concurrent messages of one socket do not see each other's tenant; on GraphQL on the resolver's
 * `info`, so the fields of one operation do not see each other's tenant.
 */
export function getEzidTenant(context: ExecutionContext): EzidTenant | undefined {
  if (context.getType<string>() === 'http') {
    const req = httpRequestOf<object>(context);
    return (isObject(req) && peekRequestState(req)?.tenant) || undefined;
  }
  for (const carrier of tenantCarriers(context)) {
    if (TENANTS.has(carrier)) return TENANTS.get(carrier) ?? undefined;
  }
  return undefined;
}

/** Requests an `EzidRolesGuard` let through anonymously on a `@Public()` route without a rule, with that guard. Internal. */
const ANONYMOUS_PASSES = new WeakMap<object, CanActivate>();

/**
 * Records (with the guard) or clears (`undefined`) that an `EzidRolesGuard` allowed this request
 * without a user, so the deferred authorization (`EZID_DEFERRED_AUTHORIZATION`, the last guard of every
 * `@Public()` handler) runs that guard again if a later guard (Passport) attaches one. Internal.
 */
export function markAnonymousPass(view: AuthzView, guard: CanActivate | undefined): void {
  if (guard) ANONYMOUS_PASSES.set(view.request, guard);
  else ANONYMOUS_PASSES.delete(view.request);
}

/** The guard that last let this request through without a user, if the last one did. Internal. */
export function anonymousPassBy(view: AuthzView): CanActivate | undefined {
  return ANONYMOUS_PASSES.get(view.request);
}
