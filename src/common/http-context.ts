import type { ExecutionContext } from '@nestjs/common';

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
