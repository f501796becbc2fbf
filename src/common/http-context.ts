import type { ExecutionContext, HttpException } from '@nestjs/common';
import { EzidGraphQLError } from './ezid-graphql.error';
import { type EzidErrorBody, EzidHttpException } from './ezid-http.exception';

/**
 * The request of an HTTP execution context: its first argument, which is what
 * `switchToHttp().getRequest()` returns, without the three closures `switchToHttp()` allocates on every
 * call (the guards read it on every request). A hand-made context without `getArgByIndex` is read
 * through `switchToHttp()`.
 */
export function httpRequestOf<T = unknown>(context: ExecutionContext): T {
  return typeof context.getArgByIndex === 'function'
    ? context.getArgByIndex<T>(0)
    : context.switchToHttp().getRequest<T>();
}

/** Sets a header on the HTTP response of an execution context, on Express (`setHeader`) and Fastify (`header`). */
export function setResponseHeader(context: ExecutionContext, name: string, value: string): void {
  if (context.getType() !== 'http') return;
  const res = context.switchToHttp().getResponse<Record<string, unknown>>();
  if (!res) return;
  if (typeof res.header === 'function' && typeof (res as { raw?: unknown }).raw === 'object') {
    (res.header as (n: string, v: string) => void).call(res, name, value); // Fastify reply
  } else if (typeof res.setHeader === 'function') {
    (res.setHeader as (n: string, v: string) => void).call(res, name, value); // Express / node response
  }
}

/** Applies every header of an `EzidHttpException`-like error to the HTTP response, if there is one. */
export function applyEzidHeaders(context: ExecutionContext, headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) setResponseHeader(context, name, value);
}

/** `new WsException(body)` / `new RpcException(body)` when that optional peer is installed; never a hard dependency. */
function lazyException(pkg: string, name: string, body: object): Error | undefined {
  try {
    const Ctor = (require(pkg) as Record<string, new (b: object) => Error>)[name];
    return Ctor ? new Ctor(body) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Shapes an `HttpException` for the context it is thrown in: on HTTP its `EzidHttpException` headers
 * are applied to the response and the exception is returned as is; on WebSocket / RPC it becomes a
 * `WsException` / `RpcException` carrying the same `{ statusCode, error, code, message }` body; on
 * GraphQL an `EzidHttpException` becomes an `EzidGraphQLError` (`extensions.code`, `extensions.statusCode`).
 */
export function toContextException(context: ExecutionContext, error: HttpException): Error {
  const type = context.getType<string>();
  if (type === 'http') {
    if (error instanceof EzidHttpException) applyEzidHeaders(context, error.headers);
    return error;
  }
  if (type === 'graphql' && error instanceof EzidHttpException) {
    return new EzidGraphQLError(error.getResponse() as EzidErrorBody, error.headers);
  }
  if (type === 'ws' || type === 'rpc') {
    const body = error.getResponse() as object;
    const lazy =
      type === 'ws'
        ? lazyException('@nestjs/websockets', 'WsException', body)
        : lazyException('@nestjs/microservices', 'RpcException', body);
    if (lazy) return lazy;
  }
  return error;
}
