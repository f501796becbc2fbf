import { CanActivate, ExecutionContext, Injectable, Logger, Optional } from '@nestjs/common';
import { EZID_OBSERVER_OFF, EzidObserver } from '../observer/ezid-observer';
import { EzidHttpException } from '../common/ezid-http.exception';
import {
  csrfRejected,
  type EzidRequestHeaders,
  EzidSameOriginPolicy,
  isUnsafeMethod,
} from '../common/same-origin';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { InjectEzidOptions } from '../ezid.module-definition';

/** The handler of the GET callback: a top-level navigation from an email link or a redirect. */
const NAVIGATION_HANDLER = 'callbackRedirect';

/** `application/json` (parameters allowed), or no content type with no body. */
function isJsonOrEmpty(headers: EzidRequestHeaders): boolean {
  const type = headers['content-type'];
  if (type === undefined) {
    const length = headers['content-length'];
    return headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
  }
  if (typeof type !== 'string') return false;
  return type.split(';', 1)[0].trim().toLowerCase() === 'application/json';
}

/**
 * Cookie mode only: every route of the callback controller that can set or use the session cookies
 * proves it is called from the app's own origin (`EzidSameOriginPolicy`), and its POST bodies are
 * `application/json` (a cross-site form cannot send that without a CORS preflight).
 *
 * - POST routes (login start, callback, verify, refresh, logout): the unsafe-request check, then
 *   the media type (415 `unsupported_media_type`).
 * - `GET /callback`: the navigation check (an email link is a cross-site top-level navigation;
 *   the login-flow cookie is its defence).
 * - `GET /me`: nothing here (safe method; `EzidAuthGuard` reads the cookie).
 *
 * Failure: 403 `csrf_rejected`, before any pipe, throttler or handler runs: EZiD is not called and
 * no cookie is set. In json mode nothing is checked (no ambient credential).
 */
@Injectable()
export class EzidCallbackCsrfGuard implements CanActivate {
  private readonly logger = new Logger('EzidCallback');
  private readonly cookieMode: boolean;
  private readonly policy: EzidSameOriginPolicy;
  private readonly observer: EzidObserver;

  constructor(@InjectEzidOptions() options: ResolvedEzidOptions, @Optional() observer?: EzidObserver) {
    this.observer = observer ?? EZID_OBSERVER_OFF;
    const cb = options.callback || undefined;
    this.cookieMode = cb?.mode === 'cookie';
    this.policy = new EzidSameOriginPolicy({ publicUrl: cb?.publicUrl, ...options.csrf });
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.cookieMode || context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<{ method?: string; headers: EzidRequestHeaders }>();
    const unsafe = isUnsafeMethod(req.method);
    const navigation = !unsafe && context.getHandler().name === NAVIGATION_HANDLER;
    if (!unsafe && !navigation) return true;
    const verdict = this.policy.check(req.headers, { navigation });
    if (!verdict.ok) {
      this.logger.debug({ event: 'csrf_rejected', reason: verdict.reason, route: context.getHandler().name });
      if (this.observer.active) this.observer.csrfRejected(context);
      throw csrfRejected();
    }
    if (unsafe && !isJsonOrEmpty(req.headers)) {
      throw new EzidHttpException(415, 'unsupported_media_type', 'Send the request body as application/json');
    }
    return true;
  }
}
