// Telemetry (issue 17 §4): real requests against the emulator through a real Nest app on Express
// and Fastify, with the OpenTelemetry SDK registered (in-memory span exporter, a metric reader the
// test collects from): spans per EZiD call and JWKS fetch, decision and cache metrics, call durations,
// and no token, code, secret or email in any exported attribute.
import { Controller, Get } from '@nestjs/common';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { EZID_METRICS, EzidService, Roles } from '../../src';
import { EZID_KEY_SOURCE } from '../../src/auth/auth.constants';
import type { JwksKeySource } from '../../src/auth/jwks-key-source';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type CallbackTestApp,
  PLATFORMS,
  linkParam,
  startCallbackApp,
} from '../callback/callback-test-app';

@Controller('x/orgs/:tenantId')
class OrgController {
  @Get('admin')
  @Roles('Admin')
  admin(): { ok: true } {
    return { ok: true };
  }
}

/** A reader the test collects from on demand. */
class TestMetricReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

interface Telemetry {
  spans: InMemorySpanExporter;
  reader: TestMetricReader;
}

/** A fresh SDK, registered globally (tracer and meter providers), before the app boots. */
function registerSdk(): Telemetry {
  trace.disable();
  metrics.disable();
  const spans = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
  );
  const reader = new TestMetricReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  return { spans, reader };
}

async function collect(reader: TestMetricReader): Promise<MetricData[]> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.filter((s) => s.scope.name === 'nestjs-ezid').flatMap((s) => s.metrics);
}

/** Sum of a counter's data points whose attributes include `attrs`. */
function count(all: MetricData[], name: string, attrs: Record<string, unknown>): number {
  const m = all.find((x) => x.descriptor.name === name);
  if (!m) return 0;
  return (m.dataPoints as { attributes: Record<string, unknown>; value: unknown }[])
    .filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))
    .reduce((n, p) => n + (p.value as number), 0);
}

const ezidSpans = (t: Telemetry, endpoint: string): ReadableSpan[] =>
  t.spans.getFinishedSpans().filter((s) => s.attributes['ezid.endpoint'] === endpoint);

describe.each(PLATFORMS)('telemetry with the OpenTelemetry SDK (%s)', (platform) => {
  let emu: EzidEmulator;
  let t: CallbackTestApp;
  let otel: Telemetry;

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterAll(() => emu.stop());
  beforeEach(async () => {
    otel = registerSdk();
    t = await startCallbackApp({ platform, emu, controllers: [OrgController] });
  });
  afterEach(async () => {
    emu.clearFaults();
    await t.close();
    trace.disable();
    metrics.disable();
  });

  async function signIn(
    email = 'demo@example.com',
  ): Promise<{ accessToken: string; refreshToken: string; code: string }> {
    const start = await t.request('POST', '/magic-link', { body: { email } });
    expect(start.status).toBe(200);
    const code = linkParam(emu.outbox.last(email)!.link, 'code');
    const r = await t.request('POST', '/callback', { body: { code } });
    expect(r.status).toBe(200);
    return { ...(r.json as unknown as { accessToken: string; refreshToken: string }), code };
  }

  it('spans each EZiD call with the endpoint name, method, path template, status and attempts', async () => {
    await signIn();
    const [send] = ezidSpans(otel, 'legacy.emailLinkSend');
    const [verify] = ezidSpans(otel, 'legacy.emailLinkVerify');
    for (const s of [send, verify]) {
      expect(s).toBeDefined();
      expect(s.kind).toBe(2 /* CLIENT */);
      expect(s.attributes).toMatchObject({
        'http.request.method': 'POST',
        'http.response.status_code': 200,
        'ezid.attempts': 1,
        'server.address': '127.0.0.1',
      });
      expect(s.name).toBe(`POST ${s.attributes['url.template'] as string}`);
      expect(s.status.code).toBe(0);
    }
    const all = await collect(otel.reader);
    const duration = all.find((m) => m.descriptor.name === EZID_METRICS.clientRequestDuration)!;
    expect(duration.descriptor.unit).toBe('s');
    const points = duration.dataPoints as {
      attributes: Record<string, unknown>;
      value: { count: number; sum: number };
    }[];
    const sendPoint = points.find((p) => p.attributes['ezid.endpoint'] === 'legacy.emailLinkSend')!;
    expect(sendPoint.value.count).toBe(1);
    expect(sendPoint.value.sum).toBeGreaterThan(0);
    expect(sendPoint.value.sum).toBeLessThan(10);
  });

  it('records retries and the failing status of a retried GET, never its query', async () => {
    emu.fault('auth.status', { status: 503 });
    await expect(t.app.get(EzidService).auth.status('demo@example.com')).rejects.toThrow();
    const [s] = ezidSpans(otel, 'auth.status');
    expect(s.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.response.status_code': 503,
      'ezid.attempts': 3,
      'http.request.resend_count': 2,
      'error.type': '503',
      'url.template': '/api/v1/auth/status',
    });
    expect(s.status.code).toBe(2 /* ERROR */);
    const all = await collect(otel.reader);
    const point = (
      all.find((m) => m.descriptor.name === EZID_METRICS.clientRequestDuration)!.dataPoints as {
        attributes: Record<string, unknown>;
        value: { count: number };
      }[]
    ).find((p) => p.attributes['ezid.endpoint'] === 'auth.status')!;
    expect(point.attributes).toMatchObject({ 'error.type': '503', 'http.response.status_code': 503 });
    expect(point.value.count).toBe(1);
  });

  it('makes the EZiD call span a child of the span active when the call starts', async () => {
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    try {
      const tracer = trace.getTracer('app');
      const parentId = await tracer.startActiveSpan('app operation', async (parent) => {
        await t.app.get(EzidService).auth.status('demo@example.com');
        parent.end();
        return parent.spanContext().spanId;
      });
      const [s] = ezidSpans(otel, 'auth.status');
      expect(s.parentSpanContext?.spanId).toBe(parentId);
    } finally {
      context.disable();
    }
  });

  it('spans each JWKS fetch with its outcome, key count and status, and counts fetches by outcome', async () => {
    // The boot prefetch.
    const boot = otel.spans.getFinishedSpans().filter((s) => s.name === 'ezid.jwks.fetch');
    expect(boot).toHaveLength(1);
    expect(boot[0].attributes).toMatchObject({
      'ezid.jwks.outcome': 'success',
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
    });
    expect(boot[0].attributes['ezid.jwks.key_count']).toBeGreaterThanOrEqual(1);

    emu.fault('jwks', { status: 500 });
    await expect(t.app.get<JwksKeySource>(EZID_KEY_SOURCE).refresh()).resolves.toBe(false);
    const failed = otel.spans.getFinishedSpans().filter((s) => s.name === 'ezid.jwks.fetch')[1];
    expect(failed.attributes).toMatchObject({
      'ezid.jwks.outcome': 'failure',
      'http.response.status_code': 500,
      'error.type': 'HTTP 500',
    });
    expect(failed.status.code).toBe(2);
    const all = await collect(otel.reader);
    expect(count(all, EZID_METRICS.jwksFetches, { 'ezid.jwks.outcome': 'success' })).toBe(1);
    expect(
      count(all, EZID_METRICS.jwksFetches, { 'ezid.jwks.outcome': 'failure', 'error.type': 'HTTP 500' }),
    ).toBe(1);
  });

  it('counts authentication and authorization decisions by code, and verified-token cache hits and misses', async () => {
    const token = emu.mintAccessToken();
    const auth = { authorization: `Bearer ${token}` };
    expect((await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant1}/admin`, { headers: auth })).status).toBe(
      200,
    );
    expect((await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant1}/admin`, { headers: auth })).status).toBe(
      200,
    );
    const denied = await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant2}/admin`, { headers: auth });
    expect(denied.status).toBe(403);
    const bad = await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant1}/admin`, {
      headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` },
    });
    expect(bad.status).toBe(401);
    const missing = await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant1}/admin`);
    expect(missing.status).toBe(401);

    const all = await collect(otel.reader);
    const http = { 'ezid.transport': 'http' };
    expect(count(all, EZID_METRICS.authnDecisions, { ...http, 'ezid.code': 'ok' })).toBe(3);
    expect(count(all, EZID_METRICS.authnDecisions, { ...http, 'ezid.code': bad.json!.code })).toBe(1);
    expect(count(all, EZID_METRICS.authnDecisions, { ...http, 'ezid.code': 'token_missing' })).toBe(1);
    expect(count(all, EZID_METRICS.authzDecisions, { ...http, 'ezid.code': 'ok' })).toBe(2);
    expect(count(all, EZID_METRICS.authzDecisions, { ...http, 'ezid.code': denied.json!.code })).toBe(1);
    expect(denied.json!.code).not.toBe('ok');
    // Misses: the first two uses (a token is cached on its second verification) and the forged one.
    expect(count(all, EZID_METRICS.tokenCacheLookups, { 'ezid.cache.result': 'miss' })).toBe(3);
    expect(count(all, EZID_METRICS.tokenCacheLookups, { 'ezid.cache.result': 'hit' })).toBe(1);
  });

  it('exports no token, refresh token, code, client secret or email in any span or metric attribute', async () => {
    const email = 'demo@example.com';
    const s = await signIn(email);
    const r = await t.request('POST', '/refresh', { body: { refreshToken: s.refreshToken } });
    expect(r.status).toBe(200);
    const refreshed = r.json as unknown as { accessToken: string; refreshToken: string };
    await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant1}/admin`, {
      headers: { authorization: `Bearer ${refreshed.accessToken}` },
    });
    await t.request('POST', '/logout', {
      body: { refreshToken: refreshed.refreshToken },
      headers: { authorization: `Bearer ${refreshed.accessToken}` },
    });
    emu.fault('auth.status', { status: 400 });
    await expect(t.app.get(EzidService).auth.status(email)).rejects.toThrow();

    const spans = otel.spans.getFinishedSpans();
    expect(spans.length).toBeGreaterThanOrEqual(6);
    const all = await collect(otel.reader);
    const texts: string[] = [];
    for (const span of spans) {
      texts.push(span.name, JSON.stringify(span.attributes), JSON.stringify(span.events));
    }
    for (const m of all) {
      texts.push(m.descriptor.name);
      for (const p of m.dataPoints as { attributes: Record<string, unknown> }[])
        texts.push(JSON.stringify(p.attributes));
    }
    const secrets = [
      s.accessToken,
      s.refreshToken,
      s.refreshToken.replace(/^legacy\./, ''),
      refreshed.accessToken,
      refreshed.refreshToken,
      s.code,
      CLIENT_SECRET,
      email,
      encodeURIComponent(email),
      CLIENT_ID,
    ];
    const blob = texts.join('\n');
    for (const secret of secrets) expect(blob).not.toContain(secret);
    expect(blob).not.toMatch(/\?[^"]*=/); // no query string anywhere
  });
});

describe('telemetry: false', () => {
  it('creates no span and no metric, with the SDK registered', async () => {
    const emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const otel = registerSdk();
    const t = await startCallbackApp({
      platform: 'express',
      emu,
      controllers: [OrgController],
      extra: { telemetry: false },
    });
    try {
      const auth = { authorization: `Bearer ${emu.mintAccessToken()}` };
      expect(
        (await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant1}/admin`, { headers: auth })).status,
      ).toBe(200);
      await t.request('POST', '/magic-link', { body: { email: 'demo@example.com' } });
      expect(otel.spans.getFinishedSpans()).toHaveLength(0);
      expect(await collect(otel.reader)).toHaveLength(0);
    } finally {
      await t.close();
      await emu.stop();
      trace.disable();
      metrics.disable();
    }
  });
});

describe('@opentelemetry/api is an optional peer', () => {
  it('is not loaded by the package entry point, and its absence turns telemetry off (auto) or fails boot (true)', () => {
    jest.isolateModules(() => {
      jest.doMock('@opentelemetry/api', () => {
        throw new Error('@opentelemetry/api was loaded');
      });
      jest.doMock('@nestjs/event-emitter', () => {
        throw new Error('@nestjs/event-emitter was loaded');
      });
      const { EzidConfigurationError } = require('../../src') as typeof import('../../src');
      const { resolveEzidOptions } =
        require('../../src/ezid-options.validation') as typeof import('../../src/ezid-options.validation');
      const { EzidObserver } =
        require('../../src/observer/ezid-observer') as typeof import('../../src/observer/ezid-observer');
      const base = { clientId: 'c', token: { jwksUri: 'https://idp.example/jwks', issuer: 'i' } };
      const auto = new EzidObserver(resolveEzidOptions(base));
      expect(auto.telemetry).toBeUndefined();
      expect(auto.active).toBe(false);
      expect(() => new EzidObserver(resolveEzidOptions({ ...base, telemetry: true }))).toThrow(
        EzidConfigurationError,
      );
      expect(() => new EzidObserver(resolveEzidOptions({ ...base, telemetry: true }))).toThrow(
        /npm i @opentelemetry\/api/,
      );
    });
    jest.dontMock('@opentelemetry/api');
    jest.dontMock('@nestjs/event-emitter');
  });
});
