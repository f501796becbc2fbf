import {
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Optional,
  Post,
  Query,
  Redirect,
  Req,
  Res,
  UseFilters,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { EzidAuthGuard } from '../auth/ezid-auth.guard';
import { parseAuthorizationHeader } from '../auth/token-extractor';
import { auditSubjectOf } from '../audit/audit-subject';
import { EzidTokenVerifier } from '../auth/ezid-token-verifier';
import { EzidHttpException } from '../common/ezid-http.exception';
import { EZID_OBSERVER_OFF, EzidObserver } from '../observer/ezid-observer';
import { CurrentUser } from '../decorators/current-user.decorator';
import { Public } from '../decorators/public.decorator';
import { isLoopbackHost, type ResolvedEzidOptions } from '../ezid-options.validation';
import { InjectEzidOptions } from '../ezid.module-definition';
import type { EzidTenant, EzidUser } from '../interfaces/ezid-user.interface';
import {
  EZID_ACCESS_COOKIE_DEFAULT_MAX_AGE_SEC,
  EZID_CALLBACK_DEFAULT_PATH,
  EZID_REFRESH_COOKIE_MAX_AGE_SEC,
} from './callback.constants';
import {
  EzidCallbackDto,
  EzidCallbackQueryDto,
  EzidCodeVerifyDto,
  EzidEmailCodeDto,
  EzidMagicLinkDto,
  EzidRefreshDto,
  EzidSmsDto,
} from './callback.dto';
import { EzidCallbackCsrfGuard } from './callback-csrf.guard';
import {
  EzidCallbackExceptionFilter,
  EzidCallbackHeadersInterceptor,
  EzidCallbackRedirectExceptionFilter,
} from './callback-http';
import { EzidCallbackThrottlerGuard, EzidSessionThrottlerGuard } from './callback-throttler.guard';
import { createEzidCallbackValidationPipe } from './callback-validation.pipe';
import { EzidCallbackService, type EzidSession, sessionExpired } from './ezid-callback.service';
import {
  deriveFlowKey,
  EzidFlowCookieSigner,
  type EzidFlowKind,
  type EzidLoginFlow,
  flowBinding,
} from './flow-cookie';
import { sanitizeRedirect } from './redirect-sanitizer';
import {
  appendSetCookies,
  clearedCookie,
  EzidDuplicateCookieError,
  type EzidCookieNames,
  ezidCookieNames,
  isSecureCookieDeployment,
  readCookies,
  sessionCookie,
} from './session-cookies';

/** The request fields the controller reads (Express and Fastify alike). */
interface CallbackRequest {
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
  method?: string;
}

/** The user as the callback routes return it: the profile without the raw claims. */
export interface EzidPublicUser {
  readonly id: string;
  readonly email?: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly tenants: readonly EzidTenant[];
}

/** Body of a successful sign-in or refresh in `json` mode. */
export interface EzidJsonSessionBody {
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly tokenType: 'Bearer';
  /** ISO 8601. */
  readonly expiresAt: string;
  readonly user: EzidPublicUser;
}

/** Body of a successful sign-in or refresh in `cookie` mode (the tokens are in HttpOnly cookies). */
export interface EzidCookieSessionBody {
  readonly user: EzidPublicUser;
}

/** Body of a started login (`POST /magic-link`, `/email-code`, `/sms`). */
export interface EzidLoginStartedBody {
  readonly sent: true;
  /** The flow's `state` (email and SMS codes, and magic links without `clientSecret`). */
  readonly state?: string;
}

const body = createEzidCallbackValidationPipe(true);
const query = createEzidCallbackValidationPipe(false);
const FLOW_MISMATCH = 'This sign-in was not started in this browser, or it has expired';

/** The profile fields of a user, without the claims. */
export function toPublicUser(user: EzidUser): EzidPublicUser {
  return {
    id: user.id,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    tenants: user.tenants,
  };
}

/**
 * Code exchange and session endpoints: the backend half of EZiD's login. Mounted under
 * `callback.path` (default `/auth/ezid`) unless `callback: false`. See docs/callback.md.
 *
 * - `POST /callback` `{ code }` | `{ state }` | `{ code, state }`, `GET /callback?code=|state=` (cookie mode);
 * - `POST /refresh`, `POST /logout`, `GET /me`;
 * - `POST /magic-link`, `POST /email-code`, `POST /email-code/verify`, `POST /sms`, `POST /sms/verify`.
 *
 * Every token EZiD returns is verified with `EzidTokenVerifier` first. Responses carry
 * `Cache-Control: no-store` and `Referrer-Policy: no-referrer`; login-start and callback routes are
 * rate limited per IP (`callback.rateLimit`), refresh and logout too (`callback.sessionRateLimit`). In cookie mode every route proves same-origin first (`EzidCallbackCsrfGuard`).
 */
@Controller()
@UseFilters(EzidCallbackExceptionFilter)
@UseInterceptors(EzidCallbackHeadersInterceptor)
@UseGuards(EzidCallbackCsrfGuard)
export class EzidCallbackController {
  private readonly mode: 'json' | 'cookie';
  private readonly prefix: string;
  private readonly secure: boolean;
  private readonly names: EzidCookieNames;
  private readonly signer: EzidFlowCookieSigner;
  private readonly requireFlowCookie: boolean;
  private readonly redirectPolicy: { origin?: string; allowList: readonly string[] };
  private readonly observer: EzidObserver;

  constructor(
    @InjectEzidOptions() private readonly options: ResolvedEzidOptions,
    private readonly callbacks: EzidCallbackService,
    @Optional() observer?: EzidObserver,
    @Optional() private readonly verifier?: EzidTokenVerifier,
  ) {
    this.observer = observer ?? EZID_OBSERVER_OFF;
    const cb = options.callback || undefined;
    this.mode = cb?.mode ?? 'json';
    this.prefix = cb?.path ?? EZID_CALLBACK_DEFAULT_PATH;
    this.secure = isSecureCookieDeployment(cb?.publicUrl);
    this.names = ezidCookieNames(this.secure, options.token.cookieName);
    this.signer = new EzidFlowCookieSigner(deriveFlowKey(cb?.flowSecret, options.clientSecret));
    this.requireFlowCookie = cb?.requireFlowCookie ?? true;
    this.redirectPolicy = { origin: cb?.publicUrl, allowList: cb?.redirectAllowList ?? ['/'] };
  }

  /** Completes a sign-in: `{ code }` (email link), `{ state }` (magic-link status), `{ code, state }` (SSO). */
  @Public()
  @UseGuards(EzidCallbackThrottlerGuard)
  @Post('callback')
  @HttpCode(200)
  async callback(
    @Body(body) dto: EzidCallbackDto,
    @Req() req: CallbackRequest,
    @Res({ passthrough: true }) res: unknown,
  ): Promise<EzidJsonSessionBody | EzidCookieSessionBody> {
    const session = await this.exchange(dto, req);
    if (this.observer.active) this.observer.session('signed_in', req, 'callback', session.user);
    return this.respond(res, session);
  }

  /**
   * Browser landing of email links and redirects (cookie mode): exchange, set cookies, 303 to an
   * allowed path. A failure is a 303 to `callback.errorRedirect?ezid_error=<code>` (no session cookie,
   * flow cookie cleared), see `EzidCallbackRedirectExceptionFilter`.
   */
  @Public()
  @UseGuards(EzidCallbackThrottlerGuard)
  @UseFilters(EzidCallbackRedirectExceptionFilter)
  @Get('callback')
  @Redirect()
  async callbackRedirect(
    @Query(query) dto: EzidCallbackQueryDto,
    @Req() req: CallbackRequest,
    @Res({ passthrough: true }) res: unknown,
  ): Promise<{ url: string; statusCode: number }> {
    if (this.mode !== 'cookie') throw new NotFoundException();
    const { session, flow } = await this.exchangeWithFlow({ code: dto.code, state: dto.state }, req);
    if (this.observer.active) this.observer.session('signed_in', req, 'callbackRedirect', session.user);
    this.respond(res, session);
    const target =
      flow?.redirectPath ?? sanitizeRedirect(dto.callback_url ?? dto.redirect, this.redirectPolicy);
    return { url: this.absolute(target), statusCode: 303 };
  }

  /** Rotates the session; the refresh token comes from the body (json mode) or the refresh cookie only (cookie mode). */
  @Public()
  @UseGuards(EzidSessionThrottlerGuard)
  @Post('refresh')
  @HttpCode(200)
  async refresh(
    @Body(body) dto: EzidRefreshDto,
    @Req() req: CallbackRequest,
    @Res({ passthrough: true }) res: unknown,
  ): Promise<EzidJsonSessionBody | EzidCookieSessionBody> {
    if (this.mode === 'cookie' && dto.refreshToken !== undefined) {
      throw new EzidHttpException(
        400,
        'invalid_request',
        'In cookie mode the refresh token is read from its cookie only',
      );
    }
    const token = this.mode === 'cookie' ? this.cookies(req)[this.names.refresh] : dto.refreshToken;
    try {
      if (!token) throw sessionExpired('No refresh token was sent');
      const session = await this.callbacks.refresh(token, clientFingerprint(req));
      if (this.observer.active) this.observer.session('session_refreshed', req, 'refresh', session.user);
      return this.respond(res, session);
    } catch (err) {
      if (err instanceof EzidHttpException && err.getStatus() === 401) this.clearSession(res);
      if (this.observer.active && err instanceof EzidHttpException && err.code === 'refresh_token_reused')
        this.observer.session('session_reuse_detected', req, 'refresh', auditSubjectOf(err));
      throw err;
    }
  }

  /**
   * Ends the session: revokes its access and refresh tokens in this module (see
   * `EzidCallbackService.logout`) and clears the cookies (cookie mode). The tokens come from the
   * cookies in cookie mode; in json mode, the access token from `Authorization: Bearer` and the
   * refresh token from the body. 204, also when there was nothing to revoke. The cookies are cleared
   * also on a 503 (the refresh token could not be recorded; this process refuses it from then on).
   */
  @Public()
  @UseGuards(EzidSessionThrottlerGuard)
  @Post('logout')
  @HttpCode(204)
  async logout(
    @Body(body) dto: EzidRefreshDto,
    @Req() req: CallbackRequest,
    @Res({ passthrough: true }) res: unknown,
  ): Promise<void> {
    try {
      let accessToken: string | undefined;
      let refreshToken: string | undefined;
      if (this.mode === 'cookie') {
        const c = this.cookies(req);
        accessToken = c[this.names.access];
        refreshToken = c[this.names.refresh];
      } else {
        try {
          accessToken = parseAuthorizationHeader(req.headers.authorization);
        } catch {
          accessToken = undefined; // not a bearer token: nothing to revoke
        }
        refreshToken = dto?.refreshToken;
      }
      // The user of the session, for the audit event: only from an access token that verifies.
      const userId = this.observer.auditActive ? await this.userIdOf(accessToken) : undefined;
      await this.callbacks.logout({ accessToken, refreshToken });
      if (this.observer.active) this.observer.session('signed_out', req, 'logout', userId);
    } finally {
      // Also on a 503: the user asked to sign out, so the browser keeps no session; the refresh token
      // this logout could not record is refused by this process from now on (see the service).
      this.clearSession(res);
    }
  }

  /** The signed-in user (guarded by `EzidAuthGuard`, which reads the access cookie in cookie mode). */
  @UseGuards(EzidAuthGuard)
  @Get('me')
  me(@CurrentUser() user: EzidUser): { user: EzidPublicUser } {
    return { user: toPublicUser(user) };
  }

  /** Emails a magic link. */
  @Public()
  @UseGuards(EzidCallbackThrottlerGuard)
  @Post('magic-link')
  @HttpCode(200)
  async magicLink(
    @Body(body) dto: EzidMagicLinkDto,
    @Req() req: CallbackRequest,
    @Res({ passthrough: true }) res: unknown,
  ): Promise<EzidLoginStartedBody> {
    const redirectPath = sanitizeRedirect(dto.redirectPath, this.redirectPolicy);
    const origin = this.origin(req);
    const landing = this.mode === 'cookie' ? `${origin}${this.prefix}/callback` : `${origin}${redirectPath}`;
    const started = await this.callbacks.sendMagicLink(dto.email, landing, redirectPath);
    const bindTo = started.code ?? started.state;
    this.startFlow(res, 'magic-link', bindTo, redirectPath);
    return started.state ? { sent: true, state: started.state } : { sent: true };
  }

  /** Emails a code; returns the `state` to verify it with. */
  @Public()
  @UseGuards(EzidCallbackThrottlerGuard)
  @Post('email-code')
  @HttpCode(200)
  async emailCode(
    @Body(body) dto: EzidEmailCodeDto,
    @Res({ passthrough: true }) res: unknown,
  ): Promise<EzidLoginStartedBody> {
    const state = await this.callbacks.sendEmailCode(dto.email);
    this.startFlow(res, 'email-code', state);
    return { sent: true, state };
  }

  /** Verifies an email code. */
  @Public()
  @UseGuards(EzidCallbackThrottlerGuard)
  @Post('email-code/verify')
  @HttpCode(200)
  async emailCodeVerify(
    @Body(body) dto: EzidCodeVerifyDto,
    @Req() req: CallbackRequest,
    @Res({ passthrough: true }) res: unknown,
  ): Promise<EzidJsonSessionBody | EzidCookieSessionBody> {
    this.checkFlow(req, 'email-code', dto.state);
    const session = await this.callbacks.verifyEmailCode(dto.state, dto.code);
    if (this.observer.active) this.observer.session('signed_in', req, 'emailCodeVerify', session.user);
    return this.respond(res, session);
  }

  /** Texts a code; returns the `state` to verify it with. */
  @Public()
  @UseGuards(EzidCallbackThrottlerGuard)
  @Post('sms')
  @HttpCode(200)
  async sms(
    @Body(body) dto: EzidSmsDto,
    @Res({ passthrough: true }) res: unknown,
  ): Promise<EzidLoginStartedBody> {
    const state = await this.callbacks.sendSmsCode(dto.phone);
    this.startFlow(res, 'sms', state);
    return { sent: true, state };
  }

  /** Verifies an SMS code. */
  @Public()
  @UseGuards(EzidCallbackThrottlerGuard)
  @Post('sms/verify')
  @HttpCode(200)
  async smsVerify(
    @Body(body) dto: EzidCodeVerifyDto,
    @Req() req: CallbackRequest,
    @Res({ passthrough: true }) res: unknown,
  ): Promise<EzidJsonSessionBody | EzidCookieSessionBody> {
    this.checkFlow(req, 'sms', dto.state);
    const session = await this.callbacks.verifySmsCode(dto.state, dto.code);
    if (this.observer.active) this.observer.session('signed_in', req, 'smsVerify', session.user);
    return this.respond(res, session);
  }

  /** The user id of an access token that verifies (a revoked, expired or invalid one: `undefined`). */
  private async userIdOf(accessToken: string | undefined): Promise<string | undefined> {
    if (!accessToken || !this.verifier) return undefined;
    try {
      return (await this.verifier.verifyToken(accessToken)).user.id;
    } catch {
      return undefined;
    }
  }

  private async exchange(dto: EzidCallbackDto, req: CallbackRequest): Promise<EzidSession> {
    return (await this.exchangeWithFlow(dto, req)).session;
  }

  private async exchangeWithFlow(
    dto: EzidCallbackDto,
    req: CallbackRequest,
  ): Promise<{ session: EzidSession; flow?: EzidLoginFlow }> {
    const { code, state } = dto;
    if (code !== undefined && state !== undefined) {
      const flow = this.checkFlow(req, 'sso', state);
      return { session: await this.callbacks.exchangeSsoCode(code, state), flow };
    }
    if (code !== undefined) {
      const flow = this.checkFlow(req, 'magic-link', code);
      return { session: await this.callbacks.exchangeEmailLinkCode(code), flow };
    }
    if (state !== undefined) {
      const flow = this.checkFlow(req, 'magic-link', state);
      return { session: await this.callbacks.exchangeMagicLinkState(state), flow };
    }
    throw new EzidHttpException(
      400,
      'validation_failed',
      'The request is invalid',
      {},
      {
        errors: [{ field: 'code', problems: ['code or state is required'] }],
      },
    );
  }

  /**
   * Login CSRF (cookie mode): the flow cookie must exist, be valid, be of this kind and be bound to
   * `value`. With `requireFlowCookie: false` a missing or non-matching cookie is tolerated.
   * SSO callbacks (`{ code, state }`) are never started here, so they need `requireFlowCookie: false`.
   */
  private checkFlow(
    req: CallbackRequest,
    kind: EzidFlowKind | 'sso',
    value: string,
  ): EzidLoginFlow | undefined {
    if (this.mode !== 'cookie') return undefined;
    const flow = this.signer.verify(this.cookies(req)[this.names.flow]);
    const ok = kind !== 'sso' && EzidFlowCookieSigner.matches(flow, kind, value);
    if (ok) return flow;
    if (this.requireFlowCookie) throw new EzidHttpException(400, 'invalid_request', FLOW_MISMATCH);
    return undefined;
  }

  private startFlow(
    res: unknown,
    kind: EzidFlowKind,
    bindTo: string | undefined,
    redirectPath?: string,
  ): void {
    if (this.mode !== 'cookie') return;
    const value = this.signer.sign({ kind, binding: bindTo ? flowBinding(bindTo) : undefined, redirectPath });
    appendSetCookies(res, [sessionCookie(this.names.flow, value, this.signer.maxAgeSec, this.secure)]);
  }

  private respond(res: unknown, s: EzidSession): EzidJsonSessionBody | EzidCookieSessionBody {
    const user = toPublicUser(s.user);
    if (this.mode === 'json') {
      return {
        accessToken: s.accessToken,
        refreshToken: s.refreshToken,
        tokenType: 'Bearer',
        expiresAt: s.expiresAt.toISOString(),
        user,
      };
    }
    const ttl = Math.floor((s.expiresAt.getTime() - Date.now()) / 1000);
    const cookies = [
      sessionCookie(
        this.names.access,
        s.accessToken,
        ttl > 0 ? ttl : EZID_ACCESS_COOKIE_DEFAULT_MAX_AGE_SEC,
        this.secure,
      ),
      clearedCookie(this.names.flow, this.secure),
    ];
    if (s.refreshToken) {
      cookies.push(
        sessionCookie(this.names.refresh, s.refreshToken, EZID_REFRESH_COOKIE_MAX_AGE_SEC, this.secure),
      );
    }
    appendSetCookies(res, cookies);
    return { user };
  }

  private clearSession(res: unknown): void {
    if (this.mode !== 'cookie') return;
    appendSetCookies(res, [
      clearedCookie(this.names.access, this.secure),
      clearedCookie(this.names.refresh, this.secure),
      clearedCookie(this.names.flow, this.secure),
    ]);
  }

  private cookies(req: CallbackRequest): Record<string, string | undefined> {
    try {
      return readCookies(req.headers.cookie, [this.names.access, this.names.refresh, this.names.flow]);
    } catch (err) {
      if (err instanceof EzidDuplicateCookieError) {
        throw new EzidHttpException(400, 'invalid_request', 'A cookie was sent more than once');
      }
      throw err;
    }
  }

  /** The app's public origin: `callback.publicUrl`, or the request's Host when it is a loopback host. */
  private origin(req: CallbackRequest): string {
    const cb = this.options.callback || undefined;
    if (cb?.publicUrl) return new URL(cb.publicUrl).origin;
    const host = req.headers.host;
    if (typeof host === 'string') {
      try {
        const url = new URL(`http://${host}`);
        if (isLoopbackHost(url.hostname) && !url.username) return url.origin;
      } catch {
        // fall through
      }
    }
    throw new EzidHttpException(400, 'invalid_request', 'Sign-in links need the callback.publicUrl option');
  }

  private absolute(path: string): string {
    const cb = this.options.callback || undefined;
    return cb?.publicUrl ? `${new URL(cb.publicUrl).origin}${path}` : path;
  }
}

/**
 * The client as the refresh grace window knows it: IP (as the rate limiter reads it) and
 * User-Agent. Only compared for equality, never logged.
 */
function clientFingerprint(req: CallbackRequest): string {
  const ua = req.headers['user-agent'];
  return `${typeof req.ip === 'string' ? req.ip : ''}\n${typeof ua === 'string' ? ua : ''}`;
}

/** Handler names of `EzidCallbackController`'s routes. */
export const EZID_CALLBACK_ROUTE_HANDLERS = [
  'callback',
  'callbackRedirect',
  'refresh',
  'logout',
  'me',
  'magicLink',
  'emailCode',
  'emailCodeVerify',
  'sms',
  'smsVerify',
] as const satisfies readonly (keyof EzidCallbackController)[];
