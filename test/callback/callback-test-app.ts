import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { createServer } from 'node:net';
import type { EzidCallbackOptions, EzidModuleOptions } from '../../src';
import { EzidModule } from '../../src';
import { EZID_KEY_SOURCE } from '../../src/auth/auth.constants';
import type { EzidEmulator } from '../../src/testing';
import { CaptureLogger } from '../support/capture-logger';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];
export const CLIENT_ID = 'cli_callback_test';
/** Has characters that need encoding (checklist F9). */
export const CLIENT_SECRET = 'cb secret: +%&=/?';

export { CaptureLogger };

/** A free TCP port on 127.0.0.1 (so `publicUrl` can name the app's own origin). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A minimal cookie jar for fetch (the tests see every Set-Cookie attribute). */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  /** Every raw Set-Cookie header seen, newest last. */
  readonly setCookies: string[] = [];

  store(res: Response): string[] {
    const list = res.headers.getSetCookie();
    for (const sc of list) {
      this.setCookies.push(sc);
      const [pair, ...attrs] = sc.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = decodeURIComponent(pair.slice(eq + 1).trim());
      const maxAge = attrs.map((a) => a.trim().toLowerCase()).find((a) => a.startsWith('max-age='));
      if (value === '' || maxAge === 'max-age=0') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return list;
  }

  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ');
  }
}

export interface CallbackTestApp {
  app: INestApplication;
  url: string;
  prefix: string;
  logger: CaptureLogger;
  /**
   * fetch relative to the app; `jar` cookies are sent and stored; redirects are not followed.
   * Like a browser's same-origin `fetch()`, an unsafe method (not GET/HEAD) sends `Origin: <app url>`
   * unless `origin` says otherwise (`null`: no Origin header, as a non-browser client).
   */
  request(
    method: string,
    path: string,
    opts?: {
      body?: unknown;
      jar?: CookieJar;
      headers?: Record<string, string>;
      rawBody?: string;
      origin?: string | null;
    },
  ): Promise<{ res: Response; status: number; json: Record<string, unknown> | undefined; text: string }>;
  close(): Promise<void>;
}

export interface StartOptions {
  platform: Platform;
  emu: EzidEmulator;
  callback?: Partial<EzidCallbackOptions> | false;
  extra?: Partial<EzidModuleOptions>;
  /** Set `publicUrl` to the app's own http://127.0.0.1:<port> origin (plain-http localhost: no Secure). */
  ownPublicUrl?: boolean;
  /** Omit `clientSecret` (magic links then use the status/state flow). */
  noSecret?: boolean;
  async?: boolean;
  /** Changes to the testing module before it is compiled (e.g. `overrideProvider`). */
  customize?: (b: TestingModuleBuilder) => TestingModuleBuilder;
  /** App controllers mounted next to the callback controller (paths under `/x`). */
  controllers?: Type<unknown>[];
  /** More modules and providers of the app (e.g. `EventEmitterModule.forRoot()` and listeners). */
  imports?: DynamicModule[];
  providers?: Type<unknown>[];
}

/** A real Nest app on 127.0.0.1 (Express or Fastify) with the callback controller, against `emu`. */
export async function startCallbackApp(o: StartOptions): Promise<CallbackTestApp> {
  const logger = new CaptureLogger();
  const port = await freePort();
  const callback =
    o.callback === false
      ? false
      : {
          rateLimit: { limit: 1000, ttlSec: 60 },
          sessionRateLimit: { limit: 1000, ttlSec: 60 },
          ...(o.ownPublicUrl ? { publicUrl: `http://127.0.0.1:${port}` } : {}),
          ...o.callback,
        };
  const options: EzidModuleOptions = {
    clientId: CLIENT_ID,
    ...(o.noSecret ? {} : { clientSecret: CLIENT_SECRET }),
    apiBaseUrl: o.emu.url,
    token: { jwksUri: o.emu.jwksUri, issuer: o.emu.issuer, jwks: { cooldownSec: 1, timeoutMs: 2000 } },
    callback,
    ...o.extra,
  };
  const builder = Test.createTestingModule({
    imports: [
      ...(o.imports ?? []),
      o.async ? EzidModule.forRootAsync({ useFactory: async () => options }) : EzidModule.forRoot(options),
    ],
    controllers: o.controllers ?? [],
    providers: o.providers ?? [],
  });
  const moduleRef = await (o.customize ? o.customize(builder) : builder).compile();
  const app =
    o.platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger })
      : moduleRef.createNestApplication({ logger });
  app.useLogger(logger);
  await app.listen(port, '127.0.0.1');
  // The boot-time JWKS prefetch runs in the background: let it settle, so upstream request counts
  // taken by a test never race with it.
  await app.get<{ prefetched?: Promise<boolean> }>(EZID_KEY_SOURCE).prefetched;
  const url = `http://127.0.0.1:${port}`;
  const prefix = callback === false ? '/auth/ezid' : (callback.path ?? '/auth/ezid');
  return {
    app,
    url,
    prefix,
    logger,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const origin = opts.origin === undefined ? (/^(GET|HEAD)$/i.test(method) ? null : url) : opts.origin;
      if (origin !== null && headers.origin === undefined) headers.origin = origin;
      const cookie = opts.jar?.header();
      if (cookie && headers.cookie === undefined) headers.cookie = cookie;
      let payload: string | undefined = opts.rawBody;
      if (opts.body !== undefined) {
        headers['content-type'] = 'application/json';
        payload = JSON.stringify(opts.body);
      } else if (payload !== undefined && headers['content-type'] === undefined) {
        headers['content-type'] = 'application/json';
      }
      const res = await fetch(
        url + (path.startsWith('/auth') || path.startsWith('/x') ? path : prefix + path),
        {
          method,
          headers,
          body: payload,
          redirect: 'manual',
        },
      );
      opts.jar?.store(res);
      const text = await res.text();
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      return { res, status: res.status, json, text };
    },
    close: () => app.close(),
  };
}

/** Signs `email` in on a json-mode app through the magic link: the session's tokens. */
export async function signInJson(
  emu: EzidEmulator,
  t: CallbackTestApp,
  email = 'alice@example.com',
): Promise<{ accessToken: string; refreshToken: string }> {
  const start = await t.request('POST', '/magic-link', { body: { email } });
  if (start.status >= 300) throw new Error(`magic-link: ${start.status}`);
  const code = linkParam(emu.outbox.last(email)!.link, 'code');
  const r = await t.request('POST', '/callback', { body: { code } });
  if (r.status !== 200) throw new Error(`callback: ${r.status}`);
  return r.json as unknown as { accessToken: string; refreshToken: string };
}

/** The code or state query parameter of a link. */
export function linkParam(link: string | undefined, name: string): string {
  const v = link ? new URL(link).searchParams.get(name) : null;
  if (!v) throw new Error(`no ${name} in link`);
  return v;
}

/** A gate for `EzidEmulator` faults: requests held by it proceed when `open()` is called. */
export function createGate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/**
 * Resolves once `cond()` holds, checking after each turn of the event loop (no fixed delays);
 * rejects when it still does not hold after `limitMs`, so a broken build fails instead of spinning.
 */
export async function until(cond: () => boolean, limitMs = 5000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Log lines of a captured logger that carry `event`. */
export const eventCount = (logger: CaptureLogger, event: string): number =>
  logger.lines.filter((l) => l.includes(`"event":"${event}"`)).length;
