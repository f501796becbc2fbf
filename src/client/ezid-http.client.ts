import { Logger } from '@nestjs/common';
import { EzidError } from '../ezid.errors';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { EzidApiError, EzidUnavailableError } from './ezid-api.error';
import {
  EzidEndpointDefinition,
  EzidEndpointName,
  buildEndpointPath,
  resolveEndpointTable,
} from './ezid-endpoints';
import { redactProviderText } from './ezid-redact';
import type { EzidCallProbe, EzidCallTarget, EzidTelemetry } from '../telemetry/ezid-telemetry';

const PACKAGE_VERSION: string = (require('../../package.json') as { version: string }).version;

/** `User-Agent` of every EZiD call. */
export const EZID_USER_AGENT = `nestjs-ezid/${PACKAGE_VERSION}`;

const RETRYABLE_STATUS = new Set([502, 503, 504]);
const BACKOFF_BASE_MS = 100;

/** @internal One call through the pipeline. */
export interface EzidCall {
  params?: Record<string, string>;
  query?: Record<string, string | undefined>;
  body?: Record<string, unknown>;
  /** A user's access token for user-scoped endpoints; replaces `apiKey` as the Bearer credential. */
  bearer?: string;
}

/** @internal The subset of options the pipeline needs. */
export type EzidHttpClientOptions = Pick<
  ResolvedEzidOptions,
  'clientId' | 'clientSecret' | 'apiKey' | 'apiBaseUrl' | 'legacyApiBaseUrl' | 'http' | 'endpoints'
>;

class ResponseTooLarge extends Error {}

/**
 * @internal The one request pipeline of every EZiD call: endpoint table -> URL, client credentials
 * where the table says, JSON in and out, a total deadline (body read included), no redirects, a
 * response size cap, and retries with backoff for idempotent GETs on network errors, 502, 503 and 504.
 */
export class EzidHttpClient {
  private readonly logger = new Logger('EzidService');
  readonly endpoints: Readonly<Record<EzidEndpointName, EzidEndpointDefinition>>;
  private readonly targets = new Map<EzidEndpointName, EzidCallTarget>();

  constructor(
    private readonly options: EzidHttpClientOptions,
    private readonly telemetry?: EzidTelemetry,
  ) {
    this.endpoints = resolveEndpointTable(options.endpoints);
  }

  /** The absolute URL of an endpoint with its query (used for URLs handed to browsers). */
  url(name: EzidEndpointName, call: EzidCall = {}): string {
    const def = this.endpoints[name];
    const base = def.base === 'legacy' ? this.options.legacyApiBaseUrl : this.options.apiBaseUrl;
    const url = new URL(base + buildEndpointPath(def.path, call.params, name));
    if (def.clientId !== 'body') url.searchParams.set('client_id', this.options.clientId);
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    return url.toString();
  }

  /** Performs a call and returns the parsed JSON body (a 2xx without `success: false`). */
  request(name: EzidEndpointName, call: EzidCall = {}): Promise<unknown> {
    const t = this.telemetry;
    if (t) return t.traceEzidCall(this.target(name), (probe) => this.send(name, call, probe));
    return this.send(name, call);
  }

  /** What a span may say of an endpoint: its name, method, path template and host (never a value). */
  private target(name: EzidEndpointName): EzidCallTarget {
    let t = this.targets.get(name);
    if (t === undefined) {
      const def = this.endpoints[name];
      const base = new URL(def.base === 'legacy' ? this.options.legacyApiBaseUrl : this.options.apiBaseUrl);
      const port = base.port ? Number(base.port) : base.protocol === 'https:' ? 443 : 80;
      const pathTemplate = (base.pathname.replace(/\/+$/, '') + def.path).split(/[?#]/, 1)[0];
      t = Object.freeze({ endpoint: name, method: def.method, pathTemplate, host: base.hostname, port });
      this.targets.set(name, t);
    }
    return t;
  }

  private async send(name: EzidEndpointName, call: EzidCall, probe?: EzidCallProbe): Promise<unknown> {
    const def = this.endpoints[name];
    const secrets = this.secretsOf(call);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': EZID_USER_AGENT };
    let body: string | undefined;
    if (def.clientId === 'body') {
      if (!this.options.clientSecret) {
        throw new EzidError(
          `EZiD ${name} needs the clientSecret option (legacy endpoints authenticate with it)`,
        );
      }
      body = JSON.stringify({
        ...(call.body ?? {}),
        client_id: this.options.clientId,
        client_secret: this.options.clientSecret,
      });
    } else if (call.body !== undefined) {
      body = JSON.stringify(call.body);
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (def.clientId === 'query+header') headers['x-client-id'] = this.options.clientId;
    const bearer = call.bearer ?? (def.base === 'api' ? this.options.apiKey : undefined);
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const url = this.url(name, call);

    const timeoutMs = this.options.http.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const maxAttempts = def.method === 'GET' ? this.options.http.retries + 1 : 1;
    let attempt = 0;
    try {
      for (;;) {
        attempt += 1;
        if (probe) probe.attempts = attempt;
        let retryable: Error;
        try {
          const res = await fetch(url, {
            method: def.method,
            headers,
            body,
            redirect: 'manual',
            signal: controller.signal,
          });
          if (probe) probe.status = res.status;
          if (RETRYABLE_STATUS.has(res.status) && attempt < maxAttempts) {
            await res.body?.cancel().catch(() => undefined);
            retryable = this.apiError(name, res.status, undefined, secrets);
          } else {
            return await this.handleResponse(name, res, secrets);
          }
        } catch (err) {
          if (err instanceof EzidError) throw err;
          if (controller.signal.aborted)
            throw new EzidUnavailableError({ endpoint: name, kind: 'timeout', attempts: attempt });
          retryable = new EzidUnavailableError({
            endpoint: name,
            kind: 'network',
            attempts: attempt,
            causeCode: causeCode(err),
          });
          if (attempt >= maxAttempts) throw retryable;
        }
        const backoff = BACKOFF_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
        if (Date.now() + backoff >= deadline) {
          throw retryable;
        }
        this.logger.warn(
          `${name}: ${retryable.message}; retrying (attempt ${attempt + 1} of ${maxAttempts})`,
        );
        await new Promise((r) => setTimeout(r, backoff));
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async handleResponse(name: EzidEndpointName, res: Response, secrets: string[]): Promise<unknown> {
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      throw new EzidApiError({
        status: res.status,
        code: 'redirect_not_followed',
        reason: 'EZiD answered with a redirect; redirects are never followed',
        endpoint: name,
      });
    }
    let text: string;
    try {
      text = await this.readCapped(res);
    } catch (err) {
      if (err instanceof ResponseTooLarge) {
        throw new EzidApiError({
          status: res.status,
          code: 'response_too_large',
          reason: `response larger than ${this.options.http.maxResponseBytes} bytes`,
          endpoint: name,
        });
      }
      throw err;
    }
    let json: unknown;
    let parsed = true;
    if (text.trim().length === 0) json = {};
    else {
      try {
        json = JSON.parse(text);
      } catch {
        parsed = false;
      }
    }
    if (res.status >= 400) throw this.apiError(name, res.status, parsed ? json : undefined, secrets);
    if (!parsed) {
      throw new EzidApiError({
        status: res.status,
        code: 'invalid_response',
        reason: 'response is not valid JSON',
        endpoint: name,
      });
    }
    if (json && typeof json === 'object' && (json as Record<string, unknown>).success === false) {
      throw this.apiError(name, res.status, json, secrets);
    }
    return json;
  }

  /** Reads the body as a stream, failing as soon as it passes `maxResponseBytes`. */
  private async readCapped(res: Response): Promise<string> {
    const cap = this.options.http.maxResponseBytes;
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > cap) {
      await res.body?.cancel().catch(() => undefined);
      throw new ResponseTooLarge();
    }
    if (!res.body) return '';
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > cap) {
        await reader.cancel().catch(() => undefined);
        throw new ResponseTooLarge();
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private apiError(name: string, status: number, body: unknown, secrets: string[]): EzidApiError {
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const rawCode = b.error_code ?? b.code ?? (typeof b.error === 'string' ? b.error : undefined);
    const rawReason = b.reason ?? b.error_description ?? b.message ?? b.description;
    const code =
      typeof rawCode === 'string' || typeof rawCode === 'number'
        ? redactProviderText(String(rawCode), secrets, 64)
        : b.success === false
          ? 'request_failed'
          : `http_${status}`;
    const reason = typeof rawReason === 'string' ? redactProviderText(rawReason, secrets, 200) : '';
    return new EzidApiError({ status, code, reason, endpoint: name });
  }

  /** Every value of the request that must never appear in an error: credentials and all request data. */
  private secretsOf(call: EzidCall): string[] {
    const values = [this.options.clientSecret, this.options.apiKey, call.bearer];
    const collect = (v: unknown): void => {
      if (typeof v === 'string') values.push(v);
      else if (typeof v === 'number') values.push(String(v));
      else if (v && typeof v === 'object') Object.values(v).forEach(collect);
    };
    collect(call.query);
    collect(call.body);
    collect(call.params);
    return values
      .filter((v): v is string => typeof v === 'string' && v.length >= 4)
      .sort((a, b) => b.length - a.length);
  }
}

function causeCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
