import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger, LoggerService } from '@nestjs/common';
import { EzidApiError, EzidService, EzidUnavailableError, EZID_USER_AGENT } from '../../src/client';
import { EzidEmulator } from '../../src/testing';
import { CLIENT_ID, CLIENT_SECRET, rejectionOf, serviceFor } from './client-test.helpers';

interface Captured {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A raw loopback server that records requests and answers with `reply`. */
async function rawServer(
  reply: (req: IncomingMessage, res: import('node:http').ServerResponse) => void,
): Promise<{ url: string; captured: Captured[]; close: () => Promise<void> }> {
  const captured: Captured[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      captured.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      reply(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    captured,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('EzidService request pipeline', () => {
  let emulator: EzidEmulator;

  beforeAll(async () => {
    emulator = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterAll(() => emulator.stop());
  beforeEach(() => {
    emulator.clearFaults();
    emulator.resetCounters();
  });

  describe('total deadline', () => {
    it('covers a dribbling response body', async () => {
      const ezid = serviceFor(emulator, { http: { timeoutMs: 400 } });
      const { state } = await ezid.magicLink.send('demo@example.com');
      emulator.fault('magicLink.status', { dribble: { intervalMs: 100, bytes: 1 } });
      const t0 = Date.now();
      const err = await rejectionOf(ezid.magicLink.status(state));
      const elapsed = Date.now() - t0;
      expect(err).toBeInstanceOf(EzidUnavailableError);
      expect(err).toMatchObject({ kind: 'timeout', endpoint: 'magicLink.status', attempts: 1 });
      expect(elapsed).toBeGreaterThanOrEqual(380);
      expect(elapsed).toBeLessThan(1500);
    });

    it('covers a server that never answers', async () => {
      const ezid = serviceFor(emulator, { http: { timeoutMs: 300 } });
      emulator.fault('magicLink.send', { hang: true });
      const t0 = Date.now();
      const err = await rejectionOf(ezid.magicLink.send('demo@example.com'));
      expect(err).toBeInstanceOf(EzidUnavailableError);
      expect((err as EzidUnavailableError).kind).toBe('timeout');
      expect(Date.now() - t0).toBeLessThan(1500);
    });

    it('is total: retries do not extend it', async () => {
      const ezid = serviceFor(emulator, { http: { timeoutMs: 500, retries: 10 } });
      emulator.fault('auth.status', { latencyMs: 150, status: 503 });
      const t0 = Date.now();
      const err = await rejectionOf(ezid.auth.status('demo@example.com'));
      expect(Date.now() - t0).toBeLessThan(1200);
      expect(err).toBeInstanceOf(Error);
      expect(emulator.requestCount('auth.status')).toBeLessThan(5);
    });
  });

  it('never follows a redirect', async () => {
    const target = await rawServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"state":"x"}'),
    );
    try {
      const ezid = serviceFor(emulator);
      emulator.fault('magicLink.send', { redirect: `${target.url}/elsewhere` });
      emulator.fault('auth.status', { redirect: `${target.url}/elsewhere` });
      const err = await rejectionOf(ezid.magicLink.send('demo@example.com'));
      expect(err).toBeInstanceOf(EzidApiError);
      expect(err).toMatchObject({ status: 302, code: 'redirect_not_followed', endpoint: 'magicLink.send' });
      await expect(ezid.auth.status('demo@example.com')).rejects.toMatchObject({
        code: 'redirect_not_followed',
      });
      expect(target.captured).toHaveLength(0);
    } finally {
      await target.close();
    }
  });

  describe('response size cap', () => {
    it('rejects a body larger than maxResponseBytes (content-length)', async () => {
      const ezid = serviceFor(emulator, { http: { maxResponseBytes: 256 } });
      const { state } = await ezid.emailCode.send('demo@example.com');
      const code = emulator.outbox.last('demo@example.com')!.code!;
      const err = await rejectionOf(ezid.emailCode.verify(state, code));
      expect(err).toMatchObject({ code: 'response_too_large', endpoint: 'emailCode.verify', status: 200 });
    });

    it('rejects a chunked body as soon as it passes the cap', async () => {
      let written = 0;
      const server = await rawServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"state":"');
        const timer = setInterval(() => {
          if (res.destroyed || written > 50_000_000) return clearInterval(timer);
          written += 64 * 1024;
          res.write('a'.repeat(64 * 1024));
        }, 1);
        res.on('close', () => clearInterval(timer));
      });
      try {
        const ezid = serviceFor(emulator, { apiBaseUrl: server.url, http: { maxResponseBytes: 100_000 } });
        const err = await rejectionOf(ezid.magicLink.send('demo@example.com'));
        expect(err).toMatchObject({ code: 'response_too_large' });
        expect(written).toBeLessThan(5_000_000);
      } finally {
        await server.close();
      }
    });
  });

  describe('retry policy', () => {
    it('retries an idempotent GET on 502, 503 and 504, with the configured count', async () => {
      const ezid = serviceFor(emulator, { http: { retries: 2 } });
      for (const status of [502, 503, 504]) {
        emulator.resetCounters();
        emulator.fault('auth.status', { status, times: 2 });
        expect((await ezid.auth.status('demo@example.com')).exists).toBe(true);
        expect(emulator.requestCount('auth.status')).toBe(3);
      }
      emulator.resetCounters();
      emulator.fault('auth.status', { status: 503 });
      const err = await rejectionOf(ezid.auth.status('demo@example.com'));
      expect(err).toMatchObject({ status: 503, endpoint: 'auth.status' });
      expect(emulator.requestCount('auth.status')).toBe(3);
    });

    it('does not retry other statuses, nor any POST', async () => {
      const ezid = serviceFor(emulator, { http: { retries: 2 } });
      emulator.fault('auth.status', { status: 500 });
      await expect(ezid.auth.status('demo@example.com')).rejects.toMatchObject({ status: 500 });
      expect(emulator.requestCount('auth.status')).toBe(1);
      emulator.fault('magicLink.send', { status: 503 });
      await expect(ezid.magicLink.send('demo@example.com')).rejects.toMatchObject({ status: 503 });
      expect(emulator.requestCount('magicLink.send')).toBe(1);
      emulator.fault('legacy.emailLinkRefresh', { status: 502 });
      await expect(ezid.legacy.emailLinkRefresh('r')).rejects.toMatchObject({ status: 502 });
      expect(emulator.requestCount('legacy.emailLinkRefresh')).toBe(1);
    });

    it('retries network errors for GETs only', async () => {
      const dead = await rawServer(() => undefined);
      const deadUrl = dead.url;
      await dead.close();
      const ezid = serviceFor(emulator, { apiBaseUrl: deadUrl, http: { retries: 2 } });
      const getErr = await rejectionOf(ezid.auth.status('demo@example.com'));
      expect(getErr).toBeInstanceOf(EzidUnavailableError);
      expect(getErr).toMatchObject({ kind: 'network', attempts: 3, causeCode: 'ECONNREFUSED' });
      const postErr = await rejectionOf(ezid.magicLink.send('demo@example.com'));
      expect(postErr).toMatchObject({ kind: 'network', attempts: 1 });
    });
  });

  it('rejects a malformed body as invalid_response', async () => {
    const ezid = serviceFor(emulator);
    emulator.fault('magicLink.send', { malformed: true });
    await expect(ezid.magicLink.send('demo@example.com')).rejects.toMatchObject({
      code: 'invalid_response',
      status: 200,
    });
  });

  it('sends credentials where the table says, JSON, and the User-Agent', async () => {
    const server = await rawServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"state":"s","status":true,"users":[]}'),
    );
    try {
      const ezid = serviceFor(emulator, { apiBaseUrl: server.url, apiKey: 'api-key-123456' });
      await ezid.magicLink.send('demo@example.com');
      await ezid.passkeys.status('demo@example.com');
      await ezid.legacy.emailLinkGetUsers();
      const [send, status, legacy] = server.captured;
      expect(EZID_USER_AGENT).toMatch(/^nestjs-ezid\/\d+\.\d+\.\d+/);
      for (const c of server.captured) expect(c.headers['user-agent']).toBe(EZID_USER_AGENT);

      expect(send.method).toBe('POST');
      const sendUrl = new URL(send.url, server.url);
      expect(sendUrl.pathname).toBe('/api/v1/auth/passwordless/magic-link/send');
      expect(sendUrl.searchParams.get('client_id')).toBe(CLIENT_ID);
      expect(send.headers['content-type']).toBe('application/json');
      expect(send.headers.authorization).toBe('Bearer api-key-123456');
      expect(JSON.parse(send.body)).toEqual({ email: 'demo@example.com' });
      expect(send.body).not.toContain(CLIENT_SECRET);

      expect(status.method).toBe('GET');
      expect(status.headers['x-client-id']).toBe(CLIENT_ID);
      expect(new URL(status.url, server.url).searchParams.get('identifier')).toBe('demo@example.com');
      expect(status.body).toBe('');

      expect(legacy.url).toBe('/email-link/getusers');
      expect(JSON.parse(legacy.body)).toEqual({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
      expect(legacy.headers.authorization).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('honours endpoint overrides by name', async () => {
    const server = await rawServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
    );
    try {
      const ezid = serviceFor(emulator, {
        apiBaseUrl: server.url,
        endpoints: { 'magicLink.resend': { method: 'PUT', path: '/v2/magic/{x}' } },
      });
      await expect(ezid.magicLink.resend('s')).rejects.toThrow(
        /invalid x: must be a non-empty string \(nothing was sent\)/,
      );
      const ezid2 = serviceFor(emulator, {
        apiBaseUrl: server.url,
        endpoints: { 'magicLink.resend': { method: 'PUT', path: '/v2/magic/resend' } },
      });
      await ezid2.magicLink.resend('s');
      expect(server.captured[0]).toMatchObject({ method: 'PUT' });
      expect(server.captured[0].url).toBe(`/v2/magic/resend?client_id=${encodeURIComponent(CLIENT_ID)}`);
    } finally {
      await server.close();
    }
  });

  describe('hostile error bodies (ReDoS)', () => {
    const MIB = 1024 * 1024;
    const fill = (unit: string, size: number): string =>
      unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
    const shapes: [string, string][] = [
      ['eyJ repeated', 'eyJ'],
      ['19-character runs', 'aaaaaaaaaaaaaaaaaaa '],
      ['digits', '1'],
    ];

    it.each(shapes)(
      'a 1 MiB error body of %s settles as EzidApiError using a fraction of the deadline in CPU',
      async (_shape, unit) => {
        const half = Math.floor((MIB - 64) / 2);
        const body = JSON.stringify({ error_code: fill(unit, half), reason: fill(unit, half) });
        expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MIB);
        const server = await rawServer((_req, res) => {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(body);
        });
        try {
          const ezid = serviceFor(emulator, { apiBaseUrl: server.url, http: { timeoutMs: 2000 } });
          const cpu = process.cpuUsage();
          const err = await rejectionOf(ezid.magicLink.send('demo@example.com'));
          const { user, system } = process.cpuUsage(cpu);
          expect(err).toBeInstanceOf(EzidApiError);
          expect((err as EzidApiError).reason.length).toBeLessThanOrEqual(200);
          expect((err as EzidApiError).code.length).toBeLessThanOrEqual(64);
          // Linear work on 1 MiB is a few ms; the quadratic redaction took minutes on this input.
          expect((user + system) / 1000).toBeLessThan(1000);
        } finally {
          await server.close();
        }
      },
    );
  });

  describe('secret redaction', () => {
    const API_KEY = 'apikey_SUPERSECRET_9f8e7d';
    const logs: string[] = [];
    const capture: LoggerService = {
      log: (m) => logs.push(String(m)),
      error: (m, ...rest) => logs.push(String(m), ...rest.map(String)),
      warn: (m) => logs.push(String(m)),
      debug: (m) => logs.push(String(m)),
      verbose: (m) => logs.push(String(m)),
    };
    beforeAll(() => Logger.overrideLogger(capture));
    afterAll(() => Logger.overrideLogger(false as never));

    it('no secret, token, code or request body in message, toString(), JSON or logs', async () => {
      const userToken = emulator.mintAccessToken();
      const refreshToken = 'rt_THIS_IS_A_REFRESH_TOKEN_abcdef';
      const otp = '918273';
      const authCode = 'eyJhbGciOiJIUzI1NiJ9.AUTHCODE_SECRET.sig';
      const secrets = [CLIENT_SECRET, API_KEY, userToken, refreshToken, otp, authCode];
      const echo = JSON.stringify({
        error_code: 'bad',
        error_description: `echo ${secrets.join(' ')}`,
        success: false,
        reason: `echo ${secrets.join(' ')}`,
      });
      const ezid: EzidService = serviceFor(emulator, {
        apiKey: API_KEY,
        http: { retries: 1, timeoutMs: 2000 },
      });
      const errors: unknown[] = [];
      for (const name of ['tokens.refresh', 'emailCode.verify', 'legacy.emailLinkVerify', 'passkeys.list']) {
        emulator.fault(name, { status: 400, body: echo });
      }
      errors.push(await rejectionOf(ezid.tokens.refresh(refreshToken)));
      errors.push(await rejectionOf(ezid.emailCode.verify('a'.repeat(24), otp)));
      errors.push(await rejectionOf(ezid.legacy.emailLinkVerify(authCode)));
      errors.push(await rejectionOf(ezid.passkeys.list(userToken)));
      emulator.fault('tokens.refresh', { status: 503 });
      errors.push(await rejectionOf(ezid.tokens.refresh(refreshToken)));
      emulator.fault('tokens.refresh', { hang: true });
      errors.push(
        await rejectionOf(serviceFor(emulator, { http: { timeoutMs: 200 } }).tokens.refresh(refreshToken)),
      );
      const dead = serviceFor(emulator, { apiBaseUrl: 'http://127.0.0.1:1', http: { retries: 1 } });
      errors.push(await rejectionOf(dead.tokens.refresh(refreshToken)));

      expect(errors[0]).toBeInstanceOf(EzidApiError);
      expect((errors[0] as EzidApiError).reason).toContain('[redacted]');
      expect(logs.length).toBeGreaterThan(0); // the retries were logged
      for (const e of errors) {
        const err = e as Error;
        const views = [
          err.message,
          err.toString(),
          JSON.stringify(err),
          String(err.stack),
          JSON.stringify({ ...err }),
        ];
        for (const view of views) for (const s of secrets) expect(view).not.toContain(s);
      }
      for (const line of logs) for (const s of secrets) expect(line).not.toContain(s);
    });
  });
});
