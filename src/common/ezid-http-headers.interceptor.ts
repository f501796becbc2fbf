import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, catchError, throwError } from 'rxjs';
import { EzidHttpException } from './ezid-http.exception';
import { applyEzidHeaders } from './http-context';

/**
 * Registered app-wide by `EzidModule` (`APP_INTERCEPTOR`) with `profile.source: 'api'` only: when an
 * `EzidHttpException` leaves a handler, a pipe or a later interceptor on HTTP (the 503 of
 * `EzidAuthorizer.check()` called in a controller), its headers (`Retry-After`, `WWW-Authenticate`) are
 * set on the response and the same exception is rethrown, so the app's exception filters still handle
 * it. With the token profile nothing the module offers a handler throws one, and an app-wide
 * interceptor would put every route through Nest's interceptor pipeline. The package's guards apply
 * the headers themselves before throwing.
 */
@Injectable()
export class EzidHttpHeadersInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    return next.handle().pipe(
      catchError((err: unknown) => {
        if (err instanceof EzidHttpException) applyEzidHeaders(context, err.headers);
        return throwError(() => err);
      }),
    );
  }
}
