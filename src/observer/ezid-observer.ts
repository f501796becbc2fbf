import { type ExecutionContext, Injectable, type OnModuleInit, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { EzidAuditTrail, type EzidAuditOrigin } from '../audit/ezid-audit-trail';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { InjectEzidOptions } from '../ezid.module-definition';
import type { EzidUser } from '../interfaces/ezid-user.interface';
import { EzidTelemetry, loadOtelApi } from '../telemetry/ezid-telemetry';
import type { CompiledRule } from '../common/ezid-metadata';
import { graphqlRequest } from '../common/ezid-user-context';

/** The request fields an audit origin reads (Express and Fastify alike). */
interface RequestLike {
  method?: unknown;
  ip?: unknown;
  baseUrl?: unknown;
  route?: { path?: unknown };
  routeOptions?: { url?: unknown };
  routerPath?: unknown;
}

/** What a route requires, as the roles guard compiled it. */
interface RequirementLike {
  readonly roles: readonly CompiledRule[];
  readonly permissions: readonly CompiledRule[];
}

/** `METHOD /route/:pattern` of an Express or Fastify request; never the raw URL (no query, no values). */
export function routeOf(req: RequestLike): string | undefined {
  const method = typeof req.method === 'string' ? req.method : undefined;
  let pattern: unknown = req.routeOptions?.url ?? req.routerPath;
  if (typeof pattern !== 'string' && typeof req.route?.path === 'string') {
    pattern = (typeof req.baseUrl === 'string' ? req.baseUrl : '') + req.route.path;
  }
  if (typeof pattern !== 'string' || method === undefined) return undefined;
  return `${method} ${pattern}`.slice(0, 512);
}

/** The audit origin of a plain HTTP request (used by the callback routes). */
export function originOfRequest(req: RequestLike, handler?: string): EzidAuditOrigin {
  return {
    route: routeOf(req),
    handler,
    ip: typeof req.ip === 'string' ? req.ip : undefined,
    transport: 'http',
  };
}

function originOf(context: ExecutionContext): EzidAuditOrigin {
  const type = context.getType<string>();
  const handler = `${context.getClass()?.name}.${context.getHandler()?.name}`;
  let req: RequestLike | undefined;
  if (type === 'http') req = context.switchToHttp().getRequest<RequestLike>();
  else if (type === 'graphql') req = graphqlRequest(context) as RequestLike | undefined;
  if (!req) return { handler, transport: type };
  return {
    route: type === 'http' ? routeOf(req) : undefined,
    handler,
    ip: typeof req.ip === 'string' ? req.ip : undefined,
    transport: type,
  };
}

const namesOf = (rules: readonly CompiledRule[]): string[] => [...new Set(rules.flatMap((r) => r.names))];

/**
 * @internal The one seam the guards, the verifier, the JWKS key source, the EZiD HTTP client and the
 * callback routes report to; it fans out to telemetry (`src/telemetry`) and the audit trail
 * (`src/audit`), each only when active. Call sites test `active` (or `telemetry`) first, so with
 * neither a decision costs one boolean test: no object, no closure, no await.
 */
@Injectable()
export class EzidObserver implements OnModuleInit {
  /** Whether telemetry or an audit sink is active. Call sites test it before calling a method. */
  active: boolean;
  /** OpenTelemetry, when enabled and `@opentelemetry/api` resolves. */
  readonly telemetry?: EzidTelemetry;
  private readonly audit?: EzidAuditTrail;

  constructor(
    @Optional() @InjectEzidOptions() options?: ResolvedEzidOptions,
    @Optional() private readonly moduleRef?: ModuleRef,
  ) {
    const api = options ? loadOtelApi(options.telemetry) : undefined;
    this.telemetry = api ? new EzidTelemetry(api) : undefined;
    this.audit = options?.audit ? new EzidAuditTrail(options.audit) : undefined;
    this.active = this.telemetry !== undefined || this.audit?.active === true;
  }

  /** Finds the app's EventEmitter2 for the audit trail (its providers exist by now). */
  onModuleInit(): void {
    if (this.audit && this.moduleRef) this.audit.attachEventEmitter(this.moduleRef);
    this.active = this.telemetry !== undefined || this.audit?.active === true;
  }

  private get auditing(): EzidAuditTrail | undefined {
    return this.audit?.active ? this.audit : undefined;
  }

  /** A token was accepted. */
  authenticated(context: ExecutionContext): void {
    this.telemetry?.authnDecision('ok', context.getType<string>());
  }

  /** Authentication failed with the response's `code` (`csrf_rejected` is reported by `csrfRejected`). */
  authenticationFailed(context: ExecutionContext, code: string): void {
    this.telemetry?.authnDecision(code, context.getType<string>());
    this.auditing?.record('token_rejected', originOf(context), undefined, { code });
  }

  /**
   * The Passport strategy (`AuthGuard('ezid-jwt')`) refused a token it was sent (`code`), or ignored a
   * cookie sent cross-origin (`csrf_rejected`). It sees a request, not an execution context.
   */
  strategyRejected(req: RequestLike, code: string): void {
    this.telemetry?.authnDecision(code, 'http');
    const audit = this.auditing;
    if (!audit) return;
    const origin = originOfRequest(req, 'EzidJwtStrategy');
    if (code === 'csrf_rejected') audit.record('csrf_rejected', origin, undefined);
    else audit.record('token_rejected', origin, undefined, { code });
  }

  /** A same-origin check failed (403 `csrf_rejected`): from a guard's context or a request. */
  csrfRejected(context: ExecutionContext | undefined, req?: RequestLike, handler?: string): void {
    this.telemetry?.authnDecision('csrf_rejected', context ? context.getType<string>() : 'http');
    const audit = this.auditing;
    if (audit)
      audit.record(
        'csrf_rejected',
        context ? originOf(context) : originOfRequest(req ?? {}, handler),
        undefined,
      );
  }

  /** Authorization allowed a request that asked for something (a rule or a tenant). */
  authorized(context: ExecutionContext): void {
    this.telemetry?.authzDecision('ok', context.getType<string>());
  }

  /** Authorization denied (403 `code`). */
  accessDenied(
    context: ExecutionContext,
    code: string,
    user: EzidUser | undefined,
    tenantId: string | undefined,
    requirement: RequirementLike | undefined,
  ): void {
    this.telemetry?.authzDecision(code, context.getType<string>());
    this.auditing?.record('access_denied', originOf(context), user, {
      code,
      tenantId,
      roles: requirement ? namesOf(requirement.roles) : [],
      permissions: requirement ? namesOf(requirement.permissions) : [],
    });
  }

  /** A verified-token cache lookup. */
  tokenCacheLookup(hit: boolean): void {
    this.telemetry?.tokenCacheLookup(hit);
  }

  /** A session event of the callback routes. */
  session(
    type: 'signed_in' | 'signed_out' | 'session_refreshed' | 'session_reuse_detected',
    req: RequestLike,
    handler: string,
    user: EzidUser | string | undefined,
  ): void {
    this.auditing?.record(type, originOfRequest(req, `EzidCallbackController.${handler}`), user);
  }

  /**
   * A callback route answered an error (`code`, the response's): `sign_in_failed` or
   * `session_refresh_failed`, never with a user (nothing was verified).
   */
  callbackFailed(
    type: 'sign_in_failed' | 'session_refresh_failed',
    req: RequestLike,
    handler: string,
    code: string,
  ): void {
    this.auditing?.record(type, originOfRequest(req, `EzidCallbackController.${handler}`), undefined, {
      code,
    });
  }

  /** Whether audit events are delivered (the callback routes do extra work only then). */
  get auditActive(): boolean {
    return this.audit?.active === true;
  }
}

/** The observer of code built outside Nest's injector (`new EzidAuthGuard(...)` in tests): never active. */
export const EZID_OBSERVER_OFF = new EzidObserver();
