import { AsyncLocalStorage, executionAsyncResource } from 'node:async_hooks';
import { type ExecutionContext, Injectable } from '@nestjs/common';
import { getEzidTenant } from '../authz/authz-context';
import { ezidStrategyUser } from '../auth/ezid-jwt.strategy';
import { getEzidUser, graphqlRequest } from '../common/ezid-user-context';
import type { EzidTenant, EzidUser } from '../interfaces/ezid-user.interface';

/** A connection (WebSocket, TCP) whose messages' scopes end when it closes. */
interface ConnectionLife {
  open: boolean;
}

/**
 * The request context of one guarded call (an HTTP request, a GraphQL field resolution, a WebSocket
 * or RPC message). It holds the call's `ExecutionContext` and reads the user and tenant the guards
 * recorded for it when asked, so it never holds a copy that could go stale. Internal.
 */
class EzidContextScope {
  /** `undefined` once the call ended (its response closed, its connection closed). */
  context: ExecutionContext | undefined;
  /** The async resource the scope was entered on (async_hooks implementation of AsyncLocalStorage only). */
  resource: object | undefined;
  /** The synchronous run that entered the scope has ended. */
  settled = false;
  /** What the resource held before this scope (and the scopes entered before it in the same run). */
  base: EzidContextScope | undefined;
  connection: ConnectionLife | undefined;

  constructor(
    context: ExecutionContext,
    readonly args: unknown[],
  ) {
    this.context = context;
  }

  get open(): boolean {
    return this.context !== undefined && this.connection?.open !== false;
  }

  close(): void {
    this.context = undefined;
  }
}

const storage = new AsyncLocalStorage<EzidContextScope>();

/**
 * Node 20 and 22 implement AsyncLocalStorage on async_hooks: `enterWith()` stores the value on the
 * current async resource, which outlives the call when it is a connection's (an HTTP keep-alive
 * socket's parser, a WebSocket, a TCP socket): later callbacks of that connection would see it.
 * Node 24's AsyncContextFrame restores the frame after every callback instead. Feature-detected.
 */
const RESOURCE_BOUND = Object.hasOwn(storage, 'kResourceStore');
const RESOURCE_STORE = (storage as unknown as { kResourceStore?: symbol }).kResourceStore;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Scopes to close when an HTTP response closes (one per request; one per field resolution on GraphQL). */
const RESPONSE_SCOPES = new WeakMap<object, EzidContextScope[]>();
const CONNECTIONS = new WeakMap<object, ConnectionLife>();

/** An HTTP response (Node's, or a Fastify reply around one); not Mercurius's subscription `reply`. */
function isResponse(v: unknown): boolean {
  const raw = isObject(v) && isObject(v.raw) ? v.raw : v;
  return isObject(raw) && typeof raw.once === 'function';
}

function closeWithResponse(response: unknown, scope: EzidContextScope): void {
  const raw = isObject(response) && isObject(response.raw) ? response.raw : response;
  if (!isObject(raw) || typeof raw.once !== 'function') return;
  if (raw.closed === true || raw.destroyed === true) {
    scope.close();
    return;
  }
  let list = RESPONSE_SCOPES.get(raw);
  if (!list) {
    const scopes: EzidContextScope[] = (list = []);
    RESPONSE_SCOPES.set(raw, scopes);
    (raw.once as (e: string, f: () => void) => void).call(raw, 'close', () => {
      for (const s of scopes) s.close();
      scopes.length = 0;
    });
  }
  list.push(scope);
}

/** Binds the scope to its connection: socket.io `disconnect`, `ws` and net sockets `close`. */
function bindConnection(connection: unknown, scope: EzidContextScope): void {
  if (!isObject(connection) || typeof connection.once !== 'function') return;
  let life = CONNECTIONS.get(connection);
  if (!life) {
    const l: ConnectionLife = (life = { open: true });
    CONNECTIONS.set(connection, l);
    const event = isObject(connection.handshake) && isObject(connection.nsp) ? 'disconnect' : 'close';
    (connection.once as (e: string, f: () => void) => void).call(connection, event, () => {
      l.open = false;
    });
  }
  scope.connection = life;
}

function bindLifetime(context: ExecutionContext, scope: EzidContextScope): void {
  const type = context.getType<string>();
  if (type === 'http') closeWithResponse(context.switchToHttp().getResponse<unknown>(), scope);
  else if (type === 'graphql') {
    // Over HTTP the response: the context's (`res`, `reply`), else Express's `req.res` (a context
    // function returning only `{ req }`). Over graphql-ws the connection: the context's `socket` or
    // `extra.socket` (Apollo), else the upgrade request's socket (Mercurius, `extra.request`).
    const gql = context.getArgs()[2] as
      { res?: unknown; reply?: unknown; socket?: unknown; extra?: { socket?: unknown } } | undefined;
    const request = graphqlRequest(context);
    const response = [gql?.res, gql?.reply, request?.res].find(isResponse);
    if (response !== undefined) closeWithResponse(response, scope);
    else bindConnection(gql?.socket ?? gql?.extra?.socket ?? request?.socket, scope);
  } else if (type === 'ws') bindConnection(context.switchToWs().getClient<unknown>(), scope);
  else if (type === 'rpc') {
    // TCP: `TcpContext.getSocketRef()` is the connection's `TcpSocket` (its `netSocket` the net.Socket).
    const rpc = context.switchToRpc().getContext<{ getSocketRef?: () => unknown }>();
    const socket = typeof rpc?.getSocketRef === 'function' ? rpc.getSocketRef() : undefined;
    bindConnection(isObject(socket) && isObject(socket.netSocket) ? socket.netSocket : socket, scope);
  }
}

/**
 * Enters the request context of a guarded call (called by the module's guards first thing, when
 * `context` is on): every later guard, interceptor, pipe, the handler and everything they start
 * (promises, timers, streams, emitters) see it. A guard cannot wrap the handler in
 * `AsyncLocalStorage.run()`, so the scope is entered with `enterWith()` in the guard's synchronous
 * part, before its first `await`: Nest awaits the guards before it calls the handler, so the
 * handler's continuation carries the scope on every Node version. Idempotent per call. Internal.
 */
export function enterEzidContext(context: ExecutionContext): void {
  const args = context.getArgs();
  const current = storage.getStore();
  if (current !== undefined && current.args === args && current.open) return;
  const scope = new EzidContextScope(context, args);
  storage.enterWith(scope);
  if (RESOURCE_BOUND) {
    const resource = executionAsyncResource() as Record<symbol, unknown>;
    scope.resource = resource;
    scope.base = current && current.resource === resource && !current.settled ? current.base : current;
    // Once the synchronous run ends, give the resource back what it held (Node 24's semantics): what
    // that run started carries the scope; what the connection runs later (and derives) does not.
    queueMicrotask(() => {
      scope.settled = true;
      if (RESOURCE_STORE !== undefined && resource[RESOURCE_STORE] === scope)
        resource[RESOURCE_STORE] = scope.base;
      scope.base = undefined;
    });
  }
  bindLifetime(context, scope);
}

function activeScope(): EzidContextScope | undefined {
  const scope = storage.getStore();
  if (scope === undefined || !scope.open) return undefined;
  // A later callback of the connection the scope was entered on (Node 20/22): not this call's work.
  if (scope.settled && executionAsyncResource() === scope.resource) return undefined;
  return scope;
}

function userOf(context: ExecutionContext): EzidUser | undefined {
  const user = getEzidUser(context);
  if (user) return user;
  const type = context.getType<string>();
  const request =
    type === 'http'
      ? context.switchToHttp().getRequest<unknown>()
      : type === 'graphql'
        ? graphqlRequest(context)
        : undefined;
  return isObject(request) ? ezidStrategyUser(request) : undefined;
}

/**
 * The current user and tenant anywhere in a request's async chain (services, repositories, event
 * listeners, timers it starts), without threading them through every call: the user the module's
 * guards (or the `'ezid-jwt'` Passport strategy) verified for the request, and the tenant
 * `EzidRolesGuard` authorized for it. Needs `context: true` in the module options (off by default).
 *
 * `undefined` outside a request, on `@Public()` / `@OptionalAuth()` calls without a token, once the
 * request's response has closed (HTTP, GraphQL over HTTP) or its connection has (WebSocket, TCP).
 * Every WebSocket and RPC message has its own context: a later message never sees an earlier
 * message's user. Injectable (`constructor(private readonly ctx: EzidContext)`) or static
 * (`EzidContext.user`), for code outside Nest's container.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class InvoiceRepository {
 *   constructor(private readonly ctx: EzidContext) {}
 *   list() {
 *     return this.db.invoices.findMany({ where: { tenantId: this.ctx.tenant?.id } });
 *   }
 * }
 * ```
 */
@Injectable()
export class EzidContext {
  /** The verified user of the current request, or `undefined`. */
  static get user(): EzidUser | undefined {
    const scope = activeScope();
    return scope ? userOf(scope.context!) : undefined;
  }

  /** The tenant `EzidRolesGuard` authorized for the current request, or `undefined` when it resolved none. */
  static get tenant(): EzidTenant | undefined {
    const scope = activeScope();
    return scope ? getEzidTenant(scope.context!) : undefined;
  }

  /** Whether the code runs inside a request the module's guards saw (user or not). */
  static get active(): boolean {
    return activeScope() !== undefined;
  }

  /**
   * Runs `fn` outside any request context (background work started from a request that must not
   * act as its user, e.g. a job queued for later): `EzidContext.user` is `undefined` in it and in
   * everything it starts.
   */
  static exit<T>(fn: () => T): T {
    return storage.exit(fn);
  }

  /** The verified user of the current request, or `undefined` (see `EzidContext.user`). */
  get user(): EzidUser | undefined {
    return EzidContext.user;
  }

  /** The tenant authorized for the current request, or `undefined` (see `EzidContext.tenant`). */
  get tenant(): EzidTenant | undefined {
    return EzidContext.tenant;
  }

  /** Whether the code runs inside a request the module's guards saw. */
  get active(): boolean {
    return EzidContext.active;
  }

  /** Runs `fn` outside any request context (see `EzidContext.exit`). */
  exit<T>(fn: () => T): T {
    return EzidContext.exit(fn);
  }
}
