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
  Optional,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { EzidHttpException } from '../common/ezid-http.exception';
import { setResponseHeader } from '../common/http-context';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { InjectEzidOptions } from '../ezid.module-definition';
import { EZID_OBSERVER_OFF, EzidObserver, routeOf } from '../observer/ezid-observer';
import {
  appendSetCookies,
  clearedCookie,
  ezidCookieNames,
  isSecureCookieDeployment,
} from './session-cookies';

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

/** The failing login and refresh routes an audit event names: `METHOD /path` under the prefix, and the handler. */
const FAILURE_ROUTES: readonly (readonly [string, string, 'sign_in_failed' | 'session_refresh_failed'])[] = [
  ['POST /refresh', 'refresh', 'session_refresh_failed'],
  ['POST /callback', 'callback', 'sign_in_failed'],
  ['GET /callback', 'callbackRedirect', 'sign_in_failed'],
  ['POST /email-code/verify', 'emailCodeVerify', 'sign_in_failed'],
  ['POST /sms/verify', 'smsVerify', 'sign_in_failed'],
  ['POST /magic-link', 'magicLink', 'sign_in_failed'],
  ['POST /email-code', 'emailCode', 'sign_in_failed'],
  ['POST /sms', 'sms', 'sign_in_failed'],
];

/**
 * Reports a failed login or refresh (any error its route answers: the handler's, a guard's such as the
 * rate limiter, a pipe's) as `sign_in_failed` / `session_refresh_failed` with the response's `code`.
 * `csrf_rejected` and `refresh_token_reused` have their own events; `/logout` and `/me` report none.
 */
function reportCallbackFailure(observer: EzidObserver, exception: unknown, host: ArgumentsHost): void {
  const code = callbackErrorCode(exception);
  if (code === 'csrf_rejected' || code === 'refresh_token_reused') return;
  const req = host.switchToHttp().getRequest<Parameters<typeof routeOf>[0]>();
  const route = req ? routeOf(req) : undefined;
  if (!route) return;
  for (const [suffix, handler, type] of FAILURE_ROUTES) {
    const [method, path] = suffix.split(' ');
    if (route.startsWith(`${method} `) && route.endsWith(path)) {
      observer.callbackFailed(type, req, handler, code);
      return;
    }
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
  protected readonly logger = new Logger('EzidCallback');
  protected readonly observer: EzidObserver;

  constructor(
    protected readonly adapterHost: HttpAdapterHost,
    @Optional() observer?: EzidObserver,
  ) {
    this.observer = observer ?? EZID_OBSERVER_OFF;
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    if (this.observer.active) reportCallbackFailure(this.observer, exception, host);
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

/** The query parameter that carries the error code on a failed `GET /callback` redirect. */
export const EZID_ERROR_QUERY_PARAM = 'ezid_error';

/** The stable `code` of an error as the redirect carries it (never a message or a value). */
export function callbackErrorCode(exception: unknown): string {
  if (exception instanceof HttpException) {
    const r = exception.getResponse() as { code?: unknown } | string;
    const code = typeof r === 'object' && r !== null ? r.code : undefined;
    if (typeof code === 'string' && /^[a-z][a-z_]{0,39}$/.test(code)) return code;
    return exception.getStatus() < 500 ? 'invalid_request' : 'server_error';
  }
  return 'server_error';
}

/**
 * Errors of `GET /callback` (a browser navigation) in cookie mode: a 303 to `callback.errorRedirect`
 * with `?ezid_error=<code>` instead of a JSON page. No session cookie is set (any already appended is
 * dropped) and the flow cookie is cleared. A `csrf_rejected` answer (a cross-site sub-resource, not a
 * navigation) stays a JSON 403, and so does everything in json mode or with `errorRedirect: false`.
 */
@Catch()
@Injectable()
export class EzidCallbackRedirectExceptionFilter extends EzidCallbackExceptionFilter {
  constructor(
    adapterHost: HttpAdapterHost,
    @InjectEzidOptions() private readonly options: ResolvedEzidOptions,
    @Optional() observer?: EzidObserver,
  ) {
    super(adapterHost, observer);
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const cb = this.options.callback || undefined;
    const code = callbackErrorCode(exception);
    if (!cb || cb.mode !== 'cookie' || cb.errorRedirect === false || code === 'csrf_rejected') {
      return super.catch(exception, host);
    }
    if (this.observer.active) reportCallbackFailure(this.observer, exception, host);
    if (!(exception instanceof HttpException)) {
      this.logger.error({
        event: 'callback_unhandled',
        name: (exception as { name?: string })?.name ?? typeof exception,
      });
    }
    const adapter = this.adapterHost.httpAdapter;
    const res = host.switchToHttp().getResponse<unknown>();
    const secure = isSecureCookieDeployment(cb.publicUrl);
    // Nothing a JSON error would have carried: no cookie set so far, no Retry-After / WWW-Authenticate.
    const remove = (res as { removeHeader?: (name: string) => unknown }).removeHeader?.bind(res);
    for (const name of ['set-cookie', 'retry-after', 'www-authenticate']) remove?.(name);
    const names = ezidCookieNames(secure, this.options.token.cookieName);
    appendSetCookies(res, [clearedCookie(names.flow, secure)]);
    for (const [name, value] of Object.entries(EZID_CALLBACK_RESPONSE_HEADERS))
      adapter.setHeader(res, name, value);
    const origin = cb.publicUrl ? new URL(cb.publicUrl).origin : '';
    const url = `${origin}${cb.errorRedirect}?${EZID_ERROR_QUERY_PARAM}=${encodeURIComponent(code)}`;
    adapter.redirect(res, 303, url);
  }
}
