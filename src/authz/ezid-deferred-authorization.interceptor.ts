import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, from, mergeMap } from 'rxjs';
import { toContextException } from '../common/http-context';
import { EzidHttpException } from '../common/ezid-http.exception';
import { getAuthzView, wasAnonymousPass } from './authz-context';
import { EzidRolesGuard, INSUFFICIENT_SCOPE_CHALLENGE } from './ezid-roles.guard';

/**
 * Registered app-wide by `EzidModule` (`APP_INTERCEPTOR`). Interceptors run after every guard, route
 * guards included: when `EzidRolesGuard` let a request through anonymously on a `@Public()` route
 * without a rule and a later guard has since attached a user (the Passport recipe,
 * `@Public() @UseGuards(AuthGuard('ezid-jwt'))`), the request is authorized again with that user
 * (tenant membership when it names a tenant, the `@EzidAuthorizationHook()` guards) before the handler.
 * Listing `EzidRolesGuard` after the Passport guard does the same inside the guard phase, and is the
 * documented recipe; this is the safety net for the short form.
 */
@Injectable()
export class EzidDeferredAuthorizationInterceptor implements NestInterceptor {
  constructor(private readonly guard: EzidRolesGuard) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const view = getAuthzView(context);
    if (!view?.user || !wasAnonymousPass(view)) return next.handle();
    return from(Promise.resolve(this.guard.canActivate(context))).pipe(
      mergeMap((allowed) => {
        if (allowed !== true) {
          throw toContextException(
            context,
            new EzidHttpException(403, 'access_denied', 'Access to this resource is denied.', {
              'WWW-Authenticate': INSUFFICIENT_SCOPE_CHALLENGE,
            }),
          );
        }
        return next.handle();
      }),
    );
  }
}
