import { Logger } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { EzidConfigurationError } from '../ezid.errors';
import type { EzidUser } from '../interfaces/ezid-user.interface';
import {
  type EzidAuditEvent,
  type EzidAuditEventBase,
  type EzidAuditEventType,
  ezidAuditEventName,
} from './ezid-audit.types';

/** @internal The resolved `audit` options. */
export interface EzidResolvedAuditOptions {
  readonly onEvent?: (event: EzidAuditEvent) => unknown;
  readonly includeEmail: boolean;
  /** `undefined`: deliver to EventEmitter2 when the app has `EventEmitterModule`. */
  readonly eventEmitter?: boolean;
}

/** Where an event happened, as the module reads it from the request or execution context. */
export interface EzidAuditOrigin {
  readonly route?: string;
  readonly handler?: string;
  readonly ip?: string;
  readonly transport: string;
}

interface EmitterLike {
  emitAsync(event: string, ...values: unknown[]): Promise<unknown[]>;
}

/** Smallest interval between two logs of failing audit sinks, in ms. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * @internal Builds audit events and delivers them, after the response: each event is a frozen
 * snapshot taken at the decision, queued, and handed to `audit.onEvent` and to EventEmitter2
 * (`ezid.<type>`) on the next `setImmediate`, never awaited by a request. A sink that throws or
 * rejects is logged (its error class only) the first time and then at most once a minute with a count.
 */
export class EzidAuditTrail {
  private readonly logger = new Logger('EzidAudit');
  private emitter?: EmitterLike;
  private queue: EzidAuditEvent[] = [];
  private scheduled = false;
  private failures = 0;
  private lastFailureLogAt = -Infinity;

  constructor(private readonly options: EzidResolvedAuditOptions) {}

  /** Whether any sink is attached (`onEvent` or the app's EventEmitter2). */
  get active(): boolean {
    return this.options.onEvent !== undefined || this.emitter !== undefined;
  }

  /**
   * Finds the app's EventEmitter2 (`EventEmitterModule`), unless `audit.eventEmitter` is `false`.
   * `@nestjs/event-emitter` is loaded only here. `eventEmitter: true` without it is a boot error.
   */
  attachEventEmitter(moduleRef: ModuleRef): void {
    const wanted = this.options.eventEmitter;
    if (wanted === false) return;
    let token: unknown;
    try {
      token = (require('@nestjs/event-emitter') as { EventEmitter2: unknown }).EventEmitter2;
    } catch {
      token = undefined;
    }
    let found: unknown;
    if (token) {
      try {
        found = moduleRef.get(token as never, { strict: false });
      } catch {
        found = undefined;
      }
    }
    if (found && typeof (found as EmitterLike).emitAsync === 'function') this.emitter = found as EmitterLike;
    else if (wanted === true) {
      throw EzidConfigurationError.create([
        {
          path: 'audit.eventEmitter',
          problem: token
            ? 'is true but the app does not import EventEmitterModule.forRoot()'
            : 'is true but @nestjs/event-emitter cannot be loaded: install it (npm i @nestjs/event-emitter)',
        },
      ]);
    }
  }

  /** Queues an event of `type` with `fields`, from `origin`, about `user` (when known). */
  record<T extends EzidAuditEventType>(
    type: T,
    origin: EzidAuditOrigin,
    user: Pick<EzidUser, 'id' | 'email'> | string | undefined,
    fields?: Omit<Extract<EzidAuditEvent, { type: T }>, keyof EzidAuditEventBase> & { tenantId?: string },
  ): void {
    const event: Record<string, unknown> = {
      type,
      time: new Date().toISOString(),
      transport: origin.transport,
    };
    if (typeof user === 'string') event.userId = user;
    else if (user) {
      event.userId = user.id;
      if (this.options.includeEmail && typeof user.email === 'string') event.email = user.email;
    }
    if (origin.route !== undefined) event.route = origin.route;
    if (origin.handler !== undefined) event.handler = origin.handler;
    if (origin.ip !== undefined) event.ip = origin.ip;
    if (fields) {
      Object.assign(event, fields);
      // Lists too: a sink must not be able to change what the next sink sees.
      for (const k of Object.keys(fields)) if (Array.isArray(event[k])) Object.freeze(event[k]);
    }
    this.queue.push(Object.freeze(event) as unknown as EzidAuditEvent);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const events = this.queue;
    this.queue = [];
    for (const event of events) {
      const hook = this.options.onEvent;
      if (hook) {
        try {
          const r = hook(event);
          if (isThenable(r)) r.then(undefined, (err: unknown) => this.sinkFailed('onEvent', event, err));
        } catch (err) {
          this.sinkFailed('onEvent', event, err);
        }
      }
      const emitter = this.emitter;
      if (emitter) {
        try {
          emitter
            .emitAsync(ezidAuditEventName(event.type), event)
            .then(undefined, (err: unknown) => this.sinkFailed('event listener', event, err));
        } catch (err) {
          this.sinkFailed('event listener', event, err);
        }
      }
    }
  }

  /** Logs a failing sink: its error class only (a message may carry data), first time then once a minute. */
  private sinkFailed(sink: string, event: EzidAuditEvent, err: unknown): void {
    this.failures += 1;
    const now = Date.now();
    if (now - this.lastFailureLogAt < FAILURE_LOG_INTERVAL_MS) return;
    this.lastFailureLogAt = now;
    const failures = this.failures;
    this.failures = 0;
    // Nothing here may throw: a sink's odd error (a `name` that is no string, a throwing getter) or a
    // throwing logger would become an uncaught exception or an unhandled rejection.
    try {
      const errName: unknown = err instanceof Error ? err.name : undefined;
      const name = typeof errName === 'string' ? errName.replace(/[^\w.-]/g, '').slice(0, 64) : typeof err;
      this.logger.error({ event: 'audit_sink_failed', sink, auditEvent: event.type, error: name, failures });
    } catch {
      return;
    }
  }
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
