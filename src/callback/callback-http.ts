import {
  ArgumentsHost,
  CallHandler,
  Catch,
  ExceptionFilter,
  ExecutionContext,
  HttpException,
  Injectable,
  Logger,
  NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { EzidHttpException } from '../common/ezid-http.exception';
import { setResponseHeader } from '../common/http-context';

/** Headers on every response of the callback controller (success and error): no caching, no referrer. */
export const EZID_CALLBACK_RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Referrer-Policy': 'no-referrer',
});

/** Sets `EZID_CALLBACK_RESPONSE_HEADERS` before the handler runs. */
@Injectable()
export class EzidCallbackHeadersInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    for (const [name, value] of Object.entries(EZID_CALLBACK_RESPONSE_HEADERS))
      setResponseHeader(context, name, value);
    return next.handle();
  }
}

/**
 * Error responses of the callback controller (including errors of guards and pipes): the stable
 * JSON body, the exception's own headers (`Retry-After`, `WWW-Authenticate`) and the no-store /
 * no-referrer headers. Anything that is not an `HttpException` becomes a generic 500 body and is
 * logged by name only (never its message, which could carry a value).
 */
@Catch()
@Injectable()
export class EzidCallbackExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('EzidCallback');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const adapter = this.adapterHost.httpAdapter;
    const res = host.switchToHttp().getResponse<unknown>();
    let status = 500;
    let body: unknown = { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' };
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const r = exception.getResponse();
      body = typeof r === 'object' && r !== null ? r : { statusCode: status, message: String(r) };
      if (exception instanceof EzidHttpException) {
        for (const [name, value] of Object.entries(exception.headers)) adapter.setHeader(res, name, value);
      }
    } else {
      this.logger.error({
        event: 'callback_unhandled',
        name: (exception as { name?: string })?.name ?? typeof exception,
      });
    }
    for (const [name, value] of Object.entries(EZID_CALLBACK_RESPONSE_HEADERS))
      adapter.setHeader(res, name, value);
    adapter.reply(res, body, status);
  }
}
