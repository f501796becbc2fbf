import { EzidConfigurationError } from '../ezid.errors';

// Structural types of the few `@opentelemetry/api` members used here: the package is an optional
// peer, so no type of it may reach the public declarations.
type Attributes = Record<string, string | number | boolean>;
interface OtelSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number }): unknown;
  end(): void;
}
interface OtelTracer {
  startSpan(name: string, options?: { kind?: number; attributes?: Attributes }): OtelSpan;
}
interface OtelCounter {
  add(value: number, attributes?: Attributes): void;
}
interface OtelHistogram {
  record(value: number, attributes?: Attributes): void;
}
interface OtelObservableResult {
  observe(value: number, attributes?: Attributes): void;
}
interface OtelObservableCounter {
  addCallback(callback: (result: OtelObservableResult) => void): void;
}
interface OtelMeter {
  createCounter(name: string, options?: { description?: string; unit?: string }): OtelCounter;
  createObservableCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): OtelObservableCounter;
  createHistogram(
    name: string,
    options?: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } },
  ): OtelHistogram;
}
/** @internal The part of `@opentelemetry/api` the module uses. */
export interface EzidOtelApi {
  trace: { getTracer(name: string, version?: string): OtelTracer };
  metrics: { getMeter(name: string, version?: string): OtelMeter };
  SpanKind: { CLIENT: number };
  SpanStatusCode: { ERROR: number };
}

/** Instrumentation scope name of every span and metric of the module. */
export const EZID_INSTRUMENTATION_SCOPE = 'nestjs-ezid';

/** Metric names (see docs/telemetry.md). */
export const EZID_METRICS = Object.freeze({
  authnDecisions: 'ezid.authn.decisions',
  authzDecisions: 'ezid.authz.decisions',
  tokenCacheLookups: 'ezid.token_cache.lookups',
  jwksFetches: 'ezid.jwks.fetches',
  clientRequestDuration: 'ezid.client.request.duration',
});

/** The bucket boundaries the OpenTelemetry HTTP semantic conventions advise for durations in seconds. */
const DURATION_BUCKETS_SEC = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const PACKAGE_VERSION: string = (require('../../package.json') as { version: string }).version;

/**
 * Loads `@opentelemetry/api`: `enabled` `undefined` (auto) gives `undefined` when it does not
 * resolve; `true` makes a missing package a configuration error naming it; `false` never loads it.
 */
export function loadOtelApi(enabled: boolean | undefined): EzidOtelApi | undefined {
  if (enabled === false) return undefined;
  try {
    return require('@opentelemetry/api') as EzidOtelApi;
  } catch {
    if (enabled === true) {
      throw EzidConfigurationError.create([
        {
          path: 'telemetry',
          problem: 'is true but @opentelemetry/api cannot be loaded: install it (npm i @opentelemetry/api)',
        },
      ]);
    }
    return undefined;
  }
}

/** What one EZiD call reports to its span while it runs. */
export interface EzidCallProbe {
  attempts: number;
  status?: number;
}

/** Static description of an EZiD call: only names from the endpoint table, never a value. */
export interface EzidCallTarget {
  readonly endpoint: string;
  readonly method: string;
  readonly pathTemplate: string;
  readonly host: string;
  readonly port: number;
}

/** The outcome of a JWKS fetch, as telemetry records it. */
export interface EzidJwksFetchResult {
  readonly ok: boolean;
  readonly keyCount?: number;
  readonly status?: number;
  /** Short fixed-vocabulary failure class (`jwksFailureReason`). */
  readonly reason?: string;
}

/**
 * @internal OpenTelemetry spans and metrics of the module, through `@opentelemetry/api` (which is a
 * no-op until the app registers an SDK). Instruments are created once; attribute sets of the hot-path
 * counters are built once per distinct value and reused.
 */
export class EzidTelemetry {
  private readonly tracer: OtelTracer;
  private readonly jwks: OtelCounter;
  private readonly duration: OtelHistogram;
  /**
   * The per-request counts (decisions, cache lookups) are plain integers, read by the SDK when it
   * collects (observable counters): a request pays an increment, never a call into the SDK.
   */
  private readonly authn = new CountCells();
  private readonly authz = new CountCells();
  private readonly hit: CountCell = { attrs: Object.freeze({ 'ezid.cache.result': 'hit' }), n: 0 };
  private readonly miss: CountCell = { attrs: Object.freeze({ 'ezid.cache.result': 'miss' }), n: 0 };

  constructor(private readonly api: EzidOtelApi) {
    this.tracer = api.trace.getTracer(EZID_INSTRUMENTATION_SCOPE, PACKAGE_VERSION);
    const meter = api.metrics.getMeter(EZID_INSTRUMENTATION_SCOPE, PACKAGE_VERSION);
    observe(
      meter,
      EZID_METRICS.authnDecisions,
      'Authentication decisions of the module, by code (ok for an accepted token)',
      '{decision}',
      () => this.authn.cells,
    );
    observe(
      meter,
      EZID_METRICS.authzDecisions,
      'Authorization decisions of the module, by code (ok for an allowed request)',
      '{decision}',
      () => this.authz.cells,
    );
    observe(
      meter,
      EZID_METRICS.tokenCacheLookups,
      'Verified-token cache lookups, by result (hit, miss)',
      '{lookup}',
      () => [this.hit, this.miss],
    );
    this.jwks = meter.createCounter(EZID_METRICS.jwksFetches, {
      description: 'JWKS fetches, by outcome (success, failure)',
      unit: '{fetch}',
    });
    this.duration = meter.createHistogram(EZID_METRICS.clientRequestDuration, {
      description: 'Duration of EZiD API calls, retries included',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_SEC },
    });
  }

  /** Counts an authentication decision (`ok` or the error code). */
  authnDecision(code: string, transport: string): void {
    this.authn.cell(code, transport).n++;
  }

  /** Counts an authorization decision (`ok` or the error code). */
  authzDecision(code: string, transport: string): void {
    this.authz.cell(code, transport).n++;
  }

  /** Counts a verified-token cache lookup. */
  tokenCacheLookup(hit: boolean): void {
    (hit ? this.hit : this.miss).n++;
  }

  /**
   * Runs one EZiD call in a CLIENT span named `<method> <path template>`, with the endpoint name,
   * method, path template, host, status and attempts (never a query, a body, a credential or a path
   * value), and records its duration.
   */
  async traceEzidCall<T>(target: EzidCallTarget, run: (probe: EzidCallProbe) => Promise<T>): Promise<T> {
    const start = performance.now();
    const probe: EzidCallProbe = { attempts: 0 };
    const span = safely(() =>
      this.tracer.startSpan(`${target.method} ${target.pathTemplate}`, {
        kind: this.api.SpanKind.CLIENT,
        attributes: {
          'ezid.endpoint': target.endpoint,
          'http.request.method': target.method,
          'url.template': target.pathTemplate,
          'server.address': target.host,
          'server.port': target.port,
        },
      }),
    );
    let errorType: string | undefined;
    try {
      return await run(probe);
    } catch (err) {
      errorType = errorTypeOf(err, probe.status);
      throw err;
    } finally {
      const metric: Attributes = {
        'ezid.endpoint': target.endpoint,
        'http.request.method': target.method,
        'server.address': target.host,
      };
      if (probe.status !== undefined) metric['http.response.status_code'] = probe.status;
      if (errorType !== undefined) metric['error.type'] = errorType;
      safely(() => {
        if (!span) return;
        span.setAttribute('ezid.attempts', probe.attempts);
        if (probe.attempts > 1) span.setAttribute('http.request.resend_count', probe.attempts - 1);
        if (probe.status !== undefined) span.setAttribute('http.response.status_code', probe.status);
        if (errorType !== undefined) {
          span.setAttribute('error.type', errorType);
          span.setStatus({ code: this.api.SpanStatusCode.ERROR });
        }
        span.end();
      });
      safely(() => this.duration.record((performance.now() - start) / 1000, metric));
    }
  }

  /**
   * Runs one JWKS fetch in a CLIENT span `ezid.jwks.fetch` (host, outcome, key count, status; never
   * the URL's path or query) and counts it by outcome.
   */
  async traceJwksFetch<T>(
    jwksUri: string,
    run: () => Promise<T>,
    describe: (outcome: T | { error: unknown }) => EzidJwksFetchResult,
  ): Promise<T> {
    const span = safely(() =>
      this.tracer.startSpan('ezid.jwks.fetch', {
        kind: this.api.SpanKind.CLIENT,
        attributes: { 'http.request.method': 'GET', ...serverOf(jwksUri) },
      }),
    );
    let result: EzidJwksFetchResult | undefined;
    try {
      const out = await run();
      result = describe(out);
      return out;
    } catch (error) {
      result = describe({ error });
      throw error;
    } finally {
      const r = result ?? { ok: false, reason: 'unexpected error' };
      safely(() => {
        if (!span) return;
        span.setAttribute('ezid.jwks.outcome', r.ok ? 'success' : 'failure');
        if (r.keyCount !== undefined) span.setAttribute('ezid.jwks.key_count', r.keyCount);
        if (r.status !== undefined) span.setAttribute('http.response.status_code', r.status);
        if (!r.ok) {
          span.setAttribute('error.type', r.reason ?? 'unexpected error');
          span.setStatus({ code: this.api.SpanStatusCode.ERROR });
        }
        span.end();
      });
      safely(() =>
        this.jwks.add(
          1,
          r.ok
            ? { 'ezid.jwks.outcome': 'success' }
            : { 'ezid.jwks.outcome': 'failure', 'error.type': r.reason ?? 'unexpected error' },
        ),
      );
    }
  }
}

/** One attribute set of an observable counter and its running total. */
interface CountCell {
  readonly attrs: Attributes;
  n: number;
}

/** Decision counts by transport then code: one cell per distinct pair, found without allocating. */
class CountCells {
  readonly cells: CountCell[] = [];
  private readonly byTransport = new Map<string, Map<string, CountCell>>();
  /** Codes and transports are fixed vocabularies; past these bounds counts go to one overflow cell. */
  private readonly overflow: CountCell = {
    attrs: Object.freeze({ 'ezid.code': 'other', 'ezid.transport': 'other' }),
    n: 0,
  };

  /** The last cell handed out: consecutive requests mostly count the same decision ('ok', 'http'). */
  private last?: { readonly code: string; readonly transport: string; readonly cell: CountCell };

  cell(code: string, transport: string): CountCell {
    const last = this.last;
    if (last !== undefined && last.code === code && last.transport === transport) return last.cell;
    const cell = this.lookup(code, transport);
    this.last = { code, transport, cell };
    return cell;
  }

  private lookup(code: string, transport: string): CountCell {
    let byCode = this.byTransport.get(transport);
    if (byCode === undefined) {
      if (this.byTransport.size >= 16) return this.counted(this.overflow);
      byCode = new Map();
      this.byTransport.set(transport, byCode);
    }
    let c = byCode.get(code);
    if (c === undefined) {
      if (byCode.size >= 64) return this.counted(this.overflow);
      c = { attrs: Object.freeze({ 'ezid.code': code, 'ezid.transport': transport }), n: 0 };
      byCode.set(code, c);
      this.cells.push(c);
    }
    return c;
  }

  private counted(c: CountCell): CountCell {
    if (!this.cells.includes(c)) this.cells.push(c);
    return c;
  }
}

/** An observable counter reporting the running totals of `cells()` at each collection. */
function observe(
  meter: OtelMeter,
  name: string,
  description: string,
  unit: string,
  cells: () => readonly CountCell[],
): void {
  safely(() =>
    meter.createObservableCounter(name, { description, unit }).addCallback((result) => {
      for (const c of cells()) if (c.n > 0) result.observe(c.n, c.attrs);
    }),
  );
}

/**
 * Runs a call into the app's OpenTelemetry SDK, which may throw (a span processor's `onStart` /
 * `onEnd`, a metric view's attributes processor): telemetry never changes a response or an EZiD call.
 */
function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** `server.address` and `server.port` of a URL: never its userinfo, path or query. */
function serverOf(uri: string): Attributes {
  try {
    const u = new URL(uri);
    return {
      'server.address': u.hostname,
      'server.port': u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80,
    };
  } catch {
    return {};
  }
}

const CLIENT_ERROR_CODES = new Set([
  'redirect_not_followed',
  'response_too_large',
  'invalid_response',
  'request_failed',
]);

/** `error.type` of a failed EZiD call: the HTTP status, else the error's class (`EzidUnavailableError` kind). */
function errorTypeOf(err: unknown, status: number | undefined): string {
  const kind = (err as { kind?: unknown })?.kind;
  if (typeof kind === 'string' && /^[a-z_]{1,32}$/.test(kind)) return kind;
  if (status !== undefined && status >= 400) return String(status);
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) return code;
  return '_OTHER';
}
