import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { EzidService } from '../../src';
import { EzidEmulator } from '../../src/testing';
import { AuthTestController, PLATFORMS, type TestApp, bearer, startApp } from '../auth/auth-test-app';

/** A span processor that throws where the SDK calls it synchronously (the SDK does not catch it). */
const throwingProcessor = (where: 'start' | 'end'): SpanProcessor => ({
  onStart() {
    if (where === 'start') throw new Error('processor onStart failed');
  },
  onEnd() {
    if (where === 'end') throw new Error('processor onEnd failed');
  },
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
});

class NullReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A faulty app telemetry setup must never change a response (no 500, no 503, no failed EZiD call). */
describe.each(PLATFORMS)('attack: a throwing OpenTelemetry SDK (%s)', (platform) => {
  let emu: EzidEmulator;
  let t: TestApp | undefined;

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: 'cli_auth_test', clientSecret: 'auth-test-secret' });
  });
  afterAll(() => emu.stop());
  afterEach(async () => {
    await t?.close();
    t = undefined;
    trace.disable();
    metrics.disable();
  });

  it.each(['start', 'end'] as const)(
    'a span processor throwing in on%s: the JWKS fetch, the request and an EZiD call still succeed',
    async (where) => {
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [throwingProcessor(where)] }));
      t = await startApp(platform, emu, {}, { telemetry: true }, [AuthTestController]);
      const res = await t.get('/protected', bearer(emu.tokenFor('alice@example.com')));
      expect(res.status).toBe(200);
      await expect(t.app.get(EzidService).auth.status('alice@example.com')).resolves.toBeDefined();
    },
  );

  it('a metric view whose attributes processor throws: authentication still answers 200 / 401', async () => {
    metrics.setGlobalMeterProvider(
      new MeterProvider({
        readers: [new NullReader()],
        views: [
          {
            instrumentName: '*',
            attributesProcessors: [
              {
                process: () => {
                  throw new Error('attributes processor failed');
                },
              },
            ],
          },
        ],
      }),
    );
    t = await startApp(platform, emu, {}, { telemetry: true }, [AuthTestController]);
    expect((await t.get('/protected', bearer(emu.tokenFor('alice@example.com')))).status).toBe(200);
    expect((await t.get('/protected', bearer('not-a-token'))).status).toBe(401);
    expect((await t.get('/protected')).status).toBe(401);
  });
});
