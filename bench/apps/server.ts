// One app process of the bench, forked by bench/run.js (the load generator runs in another process).
//
// A single HTTP server on 127.0.0.1 serves two Nest apps on the chosen platform:
// - /u/*  : PlainBenchModule, no auth at all (the "unguarded" route);
// - /n1/*, /n2/* : the same app with one / two app-wide no-op guards (Nest's guard pipeline alone);
// - else  : the app under test, BENCH_IMPL = 'ezid' (nestjs-ezid), 'ezid-redis' (nestjs-ezid with the
//          Redis store, BENCH_REDIS_URL), 'canonical' (passport-jwt +
//           jwks-rsa with the rate limit of 5 per minute), 'canonical-library' (jwks-rsa defaults) or
//           'jose' (createRemoteJWKSet + jwtVerify), or 'ezid-otel' (nestjs-ezid with a no-op
//           OpenTelemetry SDK registered: tracer and meter providers without processors or readers).
// The dispatcher is at most three startsWith() calls (a few ns against tens of µs per request).
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { Session } from 'node:inspector';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { idpFromEnv } from './bench-env';
import { CanonicalBenchModule } from './canonical-app';
import { EzidBenchModule } from './ezid-app';
import { JoseBenchModule } from './jose-app';
import { NoopGuardBenchModule, PlainBenchModule } from './plain-app';
import { EzidObserver } from '../../src/observer/ezid-observer';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
type Platform = 'express' | 'fastify';

interface Mounted {
  handler: Handler;
  app: INestApplication;
}

async function mount(module: Type | DynamicModule, platform: Platform, prefix?: string): Promise<Mounted> {
  const logger: ('error' | 'warn')[] = ['error', 'warn'];
  if (platform === 'express') {
    const adapter = new ExpressAdapter();
    const app = await NestFactory.create(module, adapter, { logger });
    if (prefix) app.setGlobalPrefix(prefix);
    await app.init();
    return { handler: adapter.getInstance() as Handler, app };
  }
  let handler: Handler | undefined;
  const adapter = new FastifyAdapter({
    serverFactory: (h: Handler) => {
      handler = h;
      return http.createServer();
    },
  } as ConstructorParameters<typeof FastifyAdapter>[0]);
  const app = await NestFactory.create(module, adapter, { logger });
  if (prefix) app.setGlobalPrefix(prefix);
  await app.init();
  await adapter.getInstance().ready();
  if (!handler) throw new Error('Fastify did not hand over its request handler');
  return { handler, app };
}

function appModule(impl: string): DynamicModule {
  const idp = idpFromEnv();
  if (impl === 'ezid' || impl === 'ezid-otel') return EzidBenchModule.create(idp);
  if (impl === 'ezid-redis') {
    if (!process.env.BENCH_REDIS_URL) throw new Error('ezid-redis needs BENCH_REDIS_URL');
    return EzidBenchModule.create(idp, process.env.BENCH_REDIS_URL);
  }
  if (impl === 'ezid-context') return EzidBenchModule.create(idp, undefined, true);
  if (impl === 'canonical') return CanonicalBenchModule.create(idp, 'guide');
  if (impl === 'canonical-library') return CanonicalBenchModule.create(idp, 'library');
  if (impl === 'jose') return JoseBenchModule.create(idp);
  throw new Error(`Unknown BENCH_IMPL ${impl}`);
}

/**
 * 'ezid-otel': the OpenTelemetry SDK registered as an app does it, before Nest boots, exporting
 * nothing (no span processor, no metric reader): what the module's telemetry costs by itself.
 */
function registerNoopOtelSdk(): void {
  const { metrics, trace } = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const { BasicTracerProvider } =
    require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { MeterProvider } =
    require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');
  trace.setGlobalTracerProvider(new BasicTracerProvider());
  metrics.setGlobalMeterProvider(new MeterProvider());
}

async function main(): Promise<void> {
  const platform = (process.env.BENCH_PLATFORM ?? 'express') as Platform;
  const impl = process.env.BENCH_IMPL ?? 'ezid';
  if (impl === 'ezid-otel') registerNoopOtelSdk();
  const plain = await mount(PlainBenchModule, platform, 'u');
  const noop1 = await mount(NoopGuardBenchModule.create(1), platform, 'n1');
  const noop2 = await mount(NoopGuardBenchModule.create(2), platform, 'n2');
  const underTest = await mount(appModule(impl), platform);
  if (impl === 'ezid-otel' && !underTest.app.get(EzidObserver, { strict: false }).telemetry) {
    throw new Error('ezid-otel: the module did not enable telemetry');
  }
  const server = http.createServer((req, res) => {
    const url = req.url as string;
    if (url.startsWith('/u/')) plain.handler(req, res);
    else if (url.startsWith('/n1/')) noop1.handler(req, res);
    else if (url.startsWith('/n2/')) noop2.handler(req, res);
    else underTest.handler(req, res);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  let session: Session | undefined;
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session!.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
    );
  process.on('message', (msg: { type: string; file?: string }) => {
    if (msg.type === 'profile-start') {
      // CPU profile of one measured window only (BENCH_PROFILE=1), written by 'profile-stop'.
      session = new Session();
      session.connect();
      void post('Profiler.enable')
        .then(() => post('Profiler.start'))
        .then(() => process.send?.({ type: 'profile-start' }));
    } else if (msg.type === 'profile-stop') {
      void post('Profiler.stop').then((r) => {
        fs.writeFileSync(msg.file as string, JSON.stringify((r as { profile: unknown }).profile));
        session?.disconnect();
        process.send?.({ type: 'profile-stop' });
      });
    } else if (msg.type === 'cpu') {
      const u = process.cpuUsage();
      process.send?.({ type: 'cpu', micros: u.user + u.system, userMicros: u.user });
    } else if (msg.type === 'stats') {
      const m = process.memoryUsage();
      process.send?.({ type: 'stats', rss: m.rss, heapUsed: m.heapUsed });
    } else if (msg.type === 'gc') {
      (globalThis as { gc?: () => void }).gc?.();
      process.send?.({ type: 'gc' });
    } else if (msg.type === 'stop') {
      server.closeAllConnections();
      server.close();
      void Promise.allSettled([
        plain.app.close(),
        noop1.app.close(),
        noop2.app.close(),
        underTest.app.close(),
      ]).then(() => process.exit(0));
    }
  });
  process.send?.({ type: 'ready', port, pid: process.pid });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench server failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
