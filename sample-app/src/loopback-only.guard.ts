import { CanActivate, ExecutionContext, Injectable, NotFoundException } from '@nestjs/common';
import { isLoopbackHost, isLoopbackUrl } from './ezid-env';

/** The hostname of a `Host` header value (`name`, `name:port`, `[v6]:port`), or `undefined`. */
function hostnameOf(host: unknown): string | undefined {
  // Anything beyond host[:port] (userinfo, a path, spaces) is not a Host header a browser sends.
  if (typeof host !== 'string' || !/^[^@/?#\\\s]+$/.test(host)) return undefined;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * Answers 404 (as if the route did not exist) unless the request names a loopback host in `Host` and,
 * when it sends one, in `Origin`. The dev inbox shows sign-in links: a page on another site that
 * rebinds its DNS name to 127.0.0.1 sends its own name as `Host`, and a page posting to
 * `http://127.0.0.1:<port>` sends its own `Origin`.
 */
@Injectable()
export class LoopbackOnlyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { headers } = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>();
    const hostname = hostnameOf(headers.host);
    const origin = headers.origin;
    const ok =
      hostname !== undefined &&
      isLoopbackHost(hostname) &&
      (origin === undefined || (typeof origin === 'string' && isLoopbackUrl(origin)));
    if (!ok) throw new NotFoundException();
    return true;
  }
}
