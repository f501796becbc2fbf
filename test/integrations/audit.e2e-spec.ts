// Audit events (issue 17 §5): every event from real requests against the emulator, through a real
// Nest app on Express and Fastify, delivered to the `audit.onEvent` hook and to @nestjs/event-emitter's
// EventEmitter2; failing hooks never change a response nor crash the process; no event carries a
// token, code, secret or email (unless `includeEmail`).
import { Controller, Get, Injectable, Post } from '@nestjs/common';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { EZID_AUDIT_EVENT_TYPES, type EzidAuditEvent, Roles } from '../../src';
import { EzidObserver } from '../../src/observer/ezid-observer';
import { resolveEzidOptions } from '../../src/ezid-options.validation';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type CallbackTestApp,
  CookieJar,
  PLATFORMS,
  type StartOptions,
  linkParam,
  startCallbackApp,
  until,
} from '../callback/callback-test-app';

@Controller('x/orgs/:tenantId')
class OrgController {
  @Get('admin')
  @Roles('Admin')
  admin(): { ok: true } {
    return { ok: true };
  }

  @Post('admin')
  @Roles('Admin')
  change(): { ok: true } {
    return { ok: true };
  }
}

/** Every `ezid.*` event EventEmitter2 delivers, in order. */
const emitted: EzidAuditEvent[] = [];

@Injectable()
class AuditListener {
  @OnEvent('ezid.*')
  on(event: EzidAuditEvent): void {
    emitted.push(event);
  }
}

const DEMO = 'demo@example.com';
const of = (events: EzidAuditEvent[], type: EzidAuditEvent['type']): EzidAuditEvent[] =>
  events.filter((e) => e.type === type);

describe.each(PLATFORMS)('audit events (%s)', (platform) => {
  let emu: EzidEmulator;
  let t: CallbackTestApp;
  let events: EzidAuditEvent[];

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterAll(() => emu.stop());
  afterEach(async () => {
    emu.clearFaults();
    await t?.close();
    emitted.length = 0;
  });

  async function start(o: Partial<StartOptions> = {}, audit: Record<string, unknown> = {}): Promise<void> {
    events = [];
    t = await startCallbackApp({
      platform,
      emu,
      controllers: [OrgController],
      callback: { refresh: { reuseGraceSec: 0 }, ...(o.callback as object) },
      ...o,
      extra: { audit: { onEvent: (e: EzidAuditEvent) => void events.push(e), ...audit }, ...o.extra },
    });
  }

  /** Waits until `n` events of `type` were delivered to `list`. */
  const delivered = (list: EzidAuditEvent[], type: EzidAuditEvent['type'], n = 1): Promise<void> =>
    until(() => of(list, type).length >= n);

  async function signInJson(
    email = DEMO,
  ): Promise<{ accessToken: string; refreshToken: string; code: string }> {
    await t.request('POST', '/magic-link', { body: { email } });
    const code = linkParam(emu.outbox.last(email)!.link, 'code');
    const r = await t.request('POST', '/callback', { body: { code } });
    expect(r.status).toBe(200);
    return { ...(r.json as unknown as { accessToken: string; refreshToken: string }), code };
  }

  it('sign-in, refresh, reuse detection and logout (json mode), with user, route pattern, IP and time', async () => {
    await start();
    const before = Date.now();
    const s = await signInJson();
    await delivered(events, 'signed_in');
    const [signedIn] = of(events, 'signed_in');
    expect(signedIn).toMatchObject({
      type: 'signed_in',
      userId: EMULATOR_IDS.demoUser,
      route: 'POST /auth/ezid/callback',
      handler: 'EzidCallbackController.callback',
      ip: '127.0.0.1',
      transport: 'http',
    });
    expect(signedIn.email).toBeUndefined();
    expect(Date.parse(signedIn.time)).toBeGreaterThanOrEqual(before - 1000);
    expect(Object.isFrozen(signedIn)).toBe(true);

    const r = await t.request('POST', '/refresh', { body: { refreshToken: s.refreshToken } });
    expect(r.status).toBe(200);
    const next = r.json as unknown as { accessToken: string; refreshToken: string };
    await delivered(events, 'session_refreshed');
    expect(of(events, 'session_refreshed')[0]).toMatchObject({
      userId: EMULATOR_IDS.demoUser,
      route: 'POST /auth/ezid/refresh',
      ip: '127.0.0.1',
    });

    // The rotated refresh token presented again: reuse.
    const reuse = await t.request('POST', '/refresh', { body: { refreshToken: s.refreshToken } });
    expect(reuse.status).toBe(401);
    expect(reuse.json!.code).toBe('refresh_token_reused');
    await delivered(events, 'session_reuse_detected');
    expect(of(events, 'session_reuse_detected')[0]).toMatchObject({
      userId: EMULATOR_IDS.demoUser,
      route: 'POST /auth/ezid/refresh',
    });

    // A fresh session, signed out.
    const s2 = await signInJson();
    const out = await t.request('POST', '/logout', {
      body: { refreshToken: s2.refreshToken },
      headers: { authorization: `Bearer ${s2.accessToken}` },
    });
    expect(out.status).toBe(204);
    await delivered(events, 'signed_out');
    expect(of(events, 'signed_out')[0]).toMatchObject({
      userId: EMULATOR_IDS.demoUser,
      route: 'POST /auth/ezid/logout',
    });
    expect(next.accessToken).toBeDefined();
  });

  it('token_rejected with the code, and access_denied with code, tenant and required roles; the route is the pattern, never the URL', async () => {
    await start();
    const token = emu.mintAccessToken();
    const denied = await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant2}/admin?secret=q1`, {
      headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.9' },
    });
    expect(denied.status).toBe(403);
    const bad = await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant1}/admin`, {
      headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` },
    });
    expect(bad.status).toBe(401);
    await delivered(events, 'token_rejected');
    await delivered(events, 'access_denied');
    expect(of(events, 'access_denied')[0]).toEqual({
      type: 'access_denied',
      time: expect.any(String),
      code: denied.json!.code,
      userId: EMULATOR_IDS.demoUser,
      tenantId: EMULATOR_IDS.tenant2,
      roles: ['Admin'],
      permissions: [],
      route: 'GET /x/orgs/:tenantId/admin',
      handler: 'OrgController.admin',
      // Not X-Forwarded-For: the framework's req.ip, without a trust-proxy setting.
      ip: '127.0.0.1',
      transport: 'http',
    });
    expect(of(events, 'token_rejected')[0]).toMatchObject({
      code: bad.json!.code,
      route: 'GET /x/orgs/:tenantId/admin',
      ip: '127.0.0.1',
    });
    expect(of(events, 'token_rejected')[0].userId).toBeUndefined();
  });

  it('csrf_rejected in cookie mode (callback route and a cookie-authenticated unsafe request)', async () => {
    await start({ callback: { mode: 'cookie' }, ownPublicUrl: true });
    const jar = new CookieJar();
    jar.cookies.set('ezid_refresh', 'legacy.x');
    const r = await t.request('POST', '/refresh', { jar, origin: 'https://evil.example' });
    expect(r.status).toBe(403);
    expect(r.json!.code).toBe('csrf_rejected');
    await delivered(events, 'csrf_rejected');
    expect(of(events, 'csrf_rejected')[0]).toMatchObject({
      route: 'POST /auth/ezid/refresh',
      handler: 'EzidCallbackController.refresh',
      ip: '127.0.0.1',
    });

    // The access cookie (plain-http loopback deployment: `ezid_at`) on a cross-site unsafe request.
    const c = await t.request('POST', `/x/orgs/${EMULATOR_IDS.tenant1}/admin`, {
      headers: { cookie: `ezid_at=${emu.mintAccessToken()}` },
      origin: 'https://evil.example',
    });
    expect(c.status).toBe(403);
    expect(c.json!.code).toBe('csrf_rejected');
    await delivered(events, 'csrf_rejected', 2);
    expect(of(events, 'csrf_rejected')[1]).toMatchObject({
      route: 'POST /x/orgs/:tenantId/admin',
      handler: 'OrgController.change',
    });
  });

  describe('failed sign-ins and refreshes', () => {
    const failures = (list: EzidAuditEvent[]): EzidAuditEvent[] =>
      list.filter((e) => e.type === 'sign_in_failed' || e.type === 'session_refresh_failed');

    it('a garbage refresh token: session_refresh_failed with the code, route and IP, and no user', async () => {
      await start();
      const garbage = `legacy.${'g'.repeat(40)}`;
      const r = await t.request('POST', '/refresh', { body: { refreshToken: garbage } });
      expect(r.status).toBe(401);
      expect(r.json!.code).toBe('session_expired');
      await delivered(events, 'session_refresh_failed');
      const [e] = of(events, 'session_refresh_failed');
      expect(e).toEqual({
        type: 'session_refresh_failed',
        time: expect.any(String),
        code: 'session_expired',
        route: 'POST /auth/ezid/refresh',
        handler: 'EzidCallbackController.refresh',
        ip: '127.0.0.1',
        transport: 'http',
      });
      expect(JSON.stringify(events)).not.toContain(garbage.slice(7));
    });

    it('a replayed and an invalid code on POST /callback, a guessed email code: sign_in_failed with the code, no user', async () => {
      await start();
      const s = await signInJson();
      const replay = await t.request('POST', '/callback', { body: { code: s.code } });
      expect(replay.status).toBe(400);
      expect(replay.json!.code).toBe('invalid_code');
      const invalid = await t.request('POST', '/callback', { body: { code: 'Zm9vYmFyYmF6cXV4cXV1eA' } });
      expect(invalid.status).toBeGreaterThanOrEqual(400);
      await delivered(events, 'sign_in_failed', 2);
      const [a, b] = of(events, 'sign_in_failed');
      expect(a).toMatchObject({
        type: 'sign_in_failed',
        code: replay.json!.code,
        route: 'POST /auth/ezid/callback',
        handler: 'EzidCallbackController.callback',
        ip: '127.0.0.1',
        transport: 'http',
      });
      expect(b).toMatchObject({ code: invalid.json!.code, route: 'POST /auth/ezid/callback' });
      for (const e of [a, b]) expect(e.userId).toBeUndefined();
      expect(JSON.stringify(events)).not.toContain(s.code);

      // Guessing an email code.
      const started = await t.request('POST', '/email-code', { body: { email: DEMO } });
      const state = started.json!.state as string;
      const real = emu.outbox.last(DEMO)!.code as string;
      const wrong = real === '000000' ? '111111' : '000000';
      const guess = await t.request('POST', '/email-code/verify', { body: { state, code: wrong } });
      expect(guess.status).toBe(400);
      expect(guess.json!.code).toBe('invalid_code');
      await delivered(events, 'sign_in_failed', 3);
      expect(of(events, 'sign_in_failed')[2]).toMatchObject({
        code: 'invalid_code',
        route: 'POST /auth/ezid/email-code/verify',
        handler: 'EzidCallbackController.emailCodeVerify',
      });
      expect(JSON.stringify(events)).not.toContain(state);
    });

    it('a state mismatch in cookie mode (POST and GET /callback): sign_in_failed invalid_request', async () => {
      await start({ callback: { mode: 'cookie' }, ownPublicUrl: true });
      const jar = new CookieJar();
      const started = await t.request('POST', '/magic-link', { body: { email: DEMO }, jar });
      expect(started.status).toBe(200);
      const state = '0123456789abcdef01234567';
      const r = await t.request('POST', '/callback', { body: { state }, jar });
      expect(r.status).toBe(400);
      expect(r.json!.code).toBe('invalid_request');
      // Another browser's link landing in this one: a 303 to the error page, still reported.
      await t.request('POST', '/magic-link', { body: { email: DEMO } });
      const other = linkParam(emu.outbox.last(DEMO)!.link, 'code');
      const g = await t.request('GET', `/callback?code=${encodeURIComponent(other)}`, { jar });
      expect(g.status).toBe(303);
      await delivered(events, 'sign_in_failed', 2);
      expect(of(events, 'sign_in_failed')).toEqual([
        expect.objectContaining({ code: 'invalid_request', route: 'POST /auth/ezid/callback' }),
        expect.objectContaining({
          code: 'invalid_request',
          route: 'GET /auth/ezid/callback',
          handler: 'EzidCallbackController.callbackRedirect',
        }),
      ]);
      const blob = JSON.stringify(events);
      for (const secret of [state, other, DEMO, ...jar.cookies.values()]) expect(blob).not.toContain(secret);
    });

    it('the rate limiters of the login and refresh routes: the event with code rate_limited', async () => {
      await start({
        callback: {
          rateLimit: { limit: 1, ttlSec: 60 },
          sessionRateLimit: { limit: 1, ttlSec: 60 },
          refresh: { reuseGraceSec: 0 },
        },
      });
      await t.request('POST', '/magic-link', { body: { email: DEMO } });
      const limited = await t.request('POST', '/magic-link', { body: { email: DEMO } });
      expect(limited.status).toBe(429);
      await t.request('POST', '/refresh', { body: { refreshToken: 'legacy.aaaaaaaaaaaaaaaa' } });
      const again = await t.request('POST', '/refresh', {
        body: { refreshToken: 'legacy.bbbbbbbbbbbbbbbb' },
      });
      expect(again.status).toBe(429);
      await delivered(events, 'sign_in_failed');
      await delivered(events, 'session_refresh_failed', 2);
      expect(of(events, 'sign_in_failed')).toEqual([
        expect.objectContaining({
          code: 'rate_limited',
          route: 'POST /auth/ezid/magic-link',
          handler: 'EzidCallbackController.magicLink',
        }),
      ]);
      expect(of(events, 'session_refresh_failed').map((e) => 'code' in e && e.code)).toEqual([
        'session_expired',
        'rate_limited',
      ]);
      for (const e of failures(events)) expect(e.userId).toBeUndefined();
      const blob = JSON.stringify(events);
      for (const secret of ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb', DEMO]) expect(blob).not.toContain(secret);
    });

    it('a reused refresh token and a cross-site refresh keep their own event: no second one', async () => {
      await start({ callback: { mode: 'cookie' }, ownPublicUrl: true });
      const jar = new CookieJar();
      jar.cookies.set('ezid_refresh', 'legacy.x');
      expect((await t.request('POST', '/refresh', { jar, origin: 'https://evil.example' })).status).toBe(403);
      await delivered(events, 'csrf_rejected');
      // Something after it, so a late failure event would be seen.
      await t.request('POST', '/refresh', { body: { refreshToken: 'x' } });
      await delivered(events, 'session_refresh_failed');
      expect(of(events, 'session_refresh_failed')).toEqual([
        expect.objectContaining({ code: 'invalid_request' }),
      ]);
      await t.close();

      await start();
      const s = await signInJson();
      expect((await t.request('POST', '/refresh', { body: { refreshToken: s.refreshToken } })).status).toBe(
        200,
      );
      const reuse = await t.request('POST', '/refresh', { body: { refreshToken: s.refreshToken } });
      expect(reuse.json!.code).toBe('refresh_token_reused');
      await delivered(events, 'session_reuse_detected');
      await t.request('POST', '/refresh', { body: { refreshToken: `legacy.${'z'.repeat(40)}` } });
      await delivered(events, 'session_refresh_failed');
      expect(of(events, 'session_refresh_failed')).toEqual([
        expect.objectContaining({ code: 'session_expired' }),
      ]);
    });
  });

  it('delivers every event to EventEmitter2 as ezid.<type> when the app imports EventEmitterModule', async () => {
    events = [];
    t = await startCallbackApp({
      platform,
      emu,
      controllers: [OrgController],
      callback: { refresh: { reuseGraceSec: 0 } },
      imports: [EventEmitterModule.forRoot({ wildcard: true })],
      providers: [AuditListener],
    });
    const s = await signInJson();
    await t.request('POST', '/refresh', { body: { refreshToken: s.refreshToken } });
    await t.request('POST', '/refresh', { body: { refreshToken: s.refreshToken } });
    const token = emu.mintAccessToken();
    await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant2}/admin`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant1}/admin`);
    const s2 = await signInJson();
    await t.request('POST', '/logout', {
      body: { refreshToken: s2.refreshToken },
      headers: { authorization: `Bearer ${s2.accessToken}` },
    });
    for (const type of [
      'signed_in',
      'session_refreshed',
      'session_reuse_detected',
      'access_denied',
      'token_rejected',
      'signed_out',
    ] as const) {
      await delivered(emitted, type);
    }
    expect(of(emitted, 'signed_out')[0].userId).toBe(EMULATOR_IDS.demoUser);
    expect(of(emitted, 'token_rejected')[0]).toMatchObject({ code: 'token_missing' });
  });

  it('a throwing or rejecting hook changes no response and crashes nothing; logged once, without data', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown): void => void unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    try {
      let calls = 0;
      await start(
        {},
        {
          onEvent: (e: EzidAuditEvent) => {
            calls += 1;
            if (calls % 2 === 1) throw new TypeError(`sync failure ${JSON.stringify(e)}`);
            return Promise.reject(new Error(`async failure ${JSON.stringify(e)}`));
          },
        },
      );
      const s = await signInJson();
      const r = await t.request('POST', '/refresh', { body: { refreshToken: s.refreshToken } });
      expect(r.status).toBe(200);
      const reuse = await t.request('POST', '/refresh', { body: { refreshToken: s.refreshToken } });
      expect(reuse.status).toBe(401);
      expect(reuse.json!.code).toBe('refresh_token_reused');
      const denied = await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant2}/admin`, {
        headers: { authorization: `Bearer ${emu.mintAccessToken()}` },
      });
      expect(denied.status).toBe(403);
      const ok = await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant1}/admin`, {
        headers: { authorization: `Bearer ${emu.mintAccessToken()}` },
      });
      expect(ok.status).toBe(200);
      expect(ok.json).toEqual({ ok: true });
      await until(() => calls >= 4);
      // Let the rejections settle (a rejection nobody handles is reported after a macrotask).
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
      const logged = t.logger.lines.filter((l) => l.includes('audit_sink_failed'));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('TypeError');
      expect(logged[0]).not.toContain(EMULATOR_IDS.demoUser);
      expect(logged[0]).not.toContain('sync failure');
      expect(logged[0]).not.toContain('async failure');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('never puts a token, refresh token, code, secret or email in an event; the email only with includeEmail', async () => {
    await start();
    const s = await signInJson();
    const r = await t.request('POST', '/refresh', { body: { refreshToken: s.refreshToken } });
    const next = r.json as unknown as { accessToken: string; refreshToken: string };
    await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant2}/admin`, {
      headers: { authorization: `Bearer ${next.accessToken}` },
    });
    await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant1}/admin`, {
      headers: { authorization: `Bearer ${next.accessToken}x` },
    });
    await t.request('POST', '/logout', {
      body: { refreshToken: next.refreshToken },
      headers: { authorization: `Bearer ${next.accessToken}` },
    });
    // Reuse of the first refresh token (its successor is signed out already).
    await t.request('POST', '/refresh', { body: { refreshToken: s.refreshToken } });
    // Failures: a replayed code, a guessed refresh token.
    await t.request('POST', '/callback', { body: { code: s.code } });
    const guessed = `legacy.${'q'.repeat(43)}`;
    await t.request('POST', '/refresh', { body: { refreshToken: guessed } });
    for (const type of [
      'signed_in',
      'session_refreshed',
      'session_reuse_detected',
      'access_denied',
      'token_rejected',
      'signed_out',
      'sign_in_failed',
      'session_refresh_failed',
    ] as const) {
      await delivered(events, type);
    }
    const blob = JSON.stringify(events);
    for (const secret of [
      guessed,
      guessed.slice(7),
      s.accessToken,
      s.refreshToken,
      s.refreshToken.replace(/^legacy\./, ''),
      next.accessToken,
      next.refreshToken,
      s.code,
      CLIENT_SECRET,
      DEMO,
    ]) {
      expect(blob).not.toContain(secret);
    }
    for (const e of events) expect(EZID_AUDIT_EVENT_TYPES).toContain(e.type);
    await t.close();

    await start({}, { includeEmail: true });
    await signInJson();
    await delivered(events, 'signed_in');
    expect(of(events, 'signed_in')[0].email).toBe(DEMO);
  });
});

describe('audit options', () => {
  it('rejects a hook that is not a function and unknown keys, at boot', async () => {
    const base = { clientId: 'c', token: { publicKey: 'x', issuer: 'i' } };
    expect(() => resolveEzidOptions({ ...base, audit: { onEvent: 'nope' as never } })).toThrow(
      /audit\.onEvent/,
    );
    expect(() => resolveEzidOptions({ ...base, audit: { onevent: () => undefined } as never })).toThrow(
      /audit\.onevent.*unknown option/,
    );
    expect(() => resolveEzidOptions({ ...base, telemetry: 'yes' as never })).toThrow(/telemetry/);
  });
});

describe('audit and telemetry switched off', () => {
  let emu: EzidEmulator;
  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterAll(() => emu.stop());

  it('no hook, no EventEmitterModule (or eventEmitter: false), telemetry: false: the observer is inactive', async () => {
    for (const extra of [{ telemetry: false }, { telemetry: false, audit: { eventEmitter: false } }]) {
      const t = await startCallbackApp({
        platform: 'express',
        emu,
        controllers: [OrgController],
        extra,
        imports: extra.audit ? [EventEmitterModule.forRoot()] : [],
      });
      try {
        expect(t.app.get(EzidObserver).active).toBe(false);
        const r = await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant1}/admin`, {
          headers: { authorization: `Bearer ${emu.mintAccessToken()}` },
        });
        expect(r.status).toBe(200);
      } finally {
        await t.close();
      }
    }
  });

  it('the IP is the framework req.ip: Express trust proxy settings apply', async () => {
    const events: EzidAuditEvent[] = [];
    const t = await startCallbackApp({
      platform: 'express',
      emu,
      controllers: [OrgController],
      extra: { audit: { onEvent: (e: EzidAuditEvent) => void events.push(e) } },
    });
    try {
      (t.app.getHttpAdapter().getInstance() as { set(k: string, v: unknown): void }).set(
        'trust proxy',
        'loopback',
      );
      await t.request('GET', `/x/orgs/${EMULATOR_IDS.tenant1}/admin`, {
        headers: { 'x-forwarded-for': '203.0.113.9' },
      });
      await until(() => events.length > 0);
      expect(events[0]).toMatchObject({ type: 'token_rejected', code: 'token_missing', ip: '203.0.113.9' });
    } finally {
      await t.close();
    }
  });

  it('audit.eventEmitter: true without EventEmitterModule fails boot with a clear error', async () => {
    await expect(
      startCallbackApp({ platform: 'express', emu, extra: { audit: { eventEmitter: true } } }),
    ).rejects.toThrow(/audit\.eventEmitter.*EventEmitterModule/);
  });
});
