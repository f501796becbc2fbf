import { Controller, Get, INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import * as fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { CurrentTenant, CurrentUser, EzidModule, Public, Roles } from '../../src';
import type { EzidTenant } from '../../src';
import type { EzidEmulator } from '../../src/testing';
import { freePort } from '../callback/callback-test-app';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];
export const CLIENT_ID = 'cli_fuzz';
export const CLIENT_SECRET = 'fuzz-secret';
/** Fixed seed: every run replays the same cases (a failure prints its counterexample and path). */
export const SEED = 20261202;

@Controller('fz')
export class FuzzController {
  @Get('me')
  me(@CurrentUser('id') id: string) {
    return { id };
  }

  @Roles('Admin')
  @Get('t/:tenantId/admin')
  paramAdmin(@CurrentTenant() t?: EzidTenant) {
    return { tenant: t?.id ?? null };
  }

  @Roles('Admin')
  @Get('h/admin')
  headerAdmin(@CurrentTenant() t?: EzidTenant) {
    return { tenant: t?.id ?? null };
  }

  @Public()
  @Get('public')
  open() {
    return { ok: true };
  }
}

export interface FuzzApp {
  app: INestApplication;
  url: string;
  /** Wall-clock duration of every request sent through `send`, in ms. */
  durations: number[];
  send(
    method: string,
    path: string,
    headers?: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; location: string | null; text: string }>;
  close(): Promise<void>;
}

/**
 * A real Nest app on 127.0.0.1: the global guard, `@Roles` on a tenant param and on the tenant header, and
 * the callback controller in cookie mode (flow cookie off so a fuzzed `callback_url` reaches the redirect).
 */
export async function startFuzzApp(platform: Platform, emu: EzidEmulator): Promise<FuzzApp> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const moduleRef = await Test.createTestingModule({
    imports: [
      EzidModule.forRoot({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        apiBaseUrl: emu.url,
        token: { jwksUri: emu.jwksUri, issuer: emu.issuer, audience: emu.audience },
        callback: {
          mode: 'cookie',
          publicUrl: url,
          redirectAllowList: ['/', '/app/'],
          requireFlowCookie: false,
          rateLimit: { limit: 1_000_000, ttlSec: 60 },
          sessionRateLimit: { limit: 1_000_000, ttlSec: 60 },
        },
      }),
    ],
    controllers: [FuzzController],
  }).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  await app.listen(port, '127.0.0.1');
  const durations: number[] = [];
  return {
    app,
    url,
    durations,
    async send(method, path, headers = {}, body) {
      const started = performance.now();
      const res = await fetch(url + path, { method, headers, body, redirect: 'manual' });
      const text = await res.text();
      durations.push(performance.now() - started);
      return { status: res.status, location: res.headers.get('location'), text };
    },
    close: () => app.close(),
  };
}

/** Median of `xs` (the per-request bound is asserted on it: one slow request on a busy machine is no failure). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
/** Characters a header value can carry through fetch: printable ASCII, tab, and Latin-1. */
export const headerChar = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...PRINTABLE) },
  { weight: 1, arbitrary: fc.constantFrom('\t', '\u00a0', '\u00e9', '\u00ff') },
);
export const headerString = (maxLength: number) => fc.string({ unit: headerChar, maxLength });
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('');
export const b64urlString = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...B64URL), minLength, maxLength });
