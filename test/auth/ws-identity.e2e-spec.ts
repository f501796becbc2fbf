// Issue 13 defect 6: on a WebSocket the user is per message. A user verified for one message must not be
// seen by a later message on the same socket (no token, @OptionalAuth, @Roles), and a handshake token is
// re-checked (exp) on every message. Real gateway (platform-ws) and a real `ws` client.
import type { IncomingMessage } from 'node:http';
import { UseGuards } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import WebSocket from 'ws';
import { CurrentUser, EzidAuthGuard, EzidRolesGuard, EzidUser, OptionalAuth, Roles } from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { AuthzApp, startAuthzApp } from '../authz/authz-test-app';

const T1 = EMULATOR_IDS.tenant1;

// Nest 11 applies no APP_GUARD to gateways: the guards are listed on the gateway (works on both majors).
@WebSocketGateway()
@UseGuards(EzidAuthGuard, EzidRolesGuard)
class IdentityGateway {
  @SubscribeMessage('whoami')
  @OptionalAuth()
  whoami(@CurrentUser() user: EzidUser | undefined, @MessageBody() _b: unknown) {
    return { event: 'whoami', data: { email: user?.email ?? null } };
  }

  @SubscribeMessage('admin')
  @Roles('Admin')
  admin(@CurrentUser('email') email: string, @MessageBody() _b: unknown) {
    return { event: 'admin', data: { email } };
  }

  @SubscribeMessage('optional-admin')
  @OptionalAuth()
  @Roles('Admin')
  optionalAdmin(@CurrentUser('email') email: string, @MessageBody() _b: unknown) {
    return { event: 'optional-admin', data: { email } };
  }

  handleConnection(client: WebSocket & { request?: IncomingMessage }, req: IncomingMessage): void {
    client.request = req; // handshake auth (docs/auth.md): the upgrade request's Authorization header
    client.on('exception', (e: unknown) => client.send(JSON.stringify({ event: 'exception', data: e })));
  }
}

let emu: EzidEmulator;
let app: AuthzApp;

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
  app = await startAuthzApp('express', emu, [], {}, (b) => b, {
    providers: [IdentityGateway],
    setup: (a) => a.useWebSocketAdapter(new WsAdapter(a)),
  });
});

afterAll(async () => {
  jest.restoreAllMocks();
  await app?.close();
  await emu?.stop();
});

async function connect(headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(app.url.replace('http', 'ws'), { headers });
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  return ws;
}

function send(ws: WebSocket, event: string, headers: Record<string, string>): Promise<unknown> {
  return new Promise((resolve) => {
    ws.once('message', (m) => resolve(JSON.parse(String(m))));
    ws.send(JSON.stringify({ event, data: { headers } }));
  });
}

const exception = (statusCode: number, code: string) => ({
  event: 'exception',
  data: expect.objectContaining({ statusCode, code }),
});

describe('WebSocket: the user is per message (issue 13 defect 6)', () => {
  it('a message without a token after one with a valid token has no user (@OptionalAuth)', async () => {
    const ws = await connect();
    try {
      const demo = emu.mintAccessToken('demo@example.com');
      expect(await send(ws, 'whoami', { authorization: `Bearer ${demo}` })).toEqual({
        event: 'whoami',
        data: { email: 'demo@example.com' },
      });
      expect(await send(ws, 'whoami', {})).toEqual({ event: 'whoami', data: { email: null } });
    } finally {
      ws.close();
    }
  });

  it('@Roles does not authorize a message without a token with the previous message’s user: 401', async () => {
    const ws = await connect();
    try {
      const demo = emu.mintAccessToken('demo@example.com');
      expect(await send(ws, 'admin', { authorization: `Bearer ${demo}`, 'x-tenant-id': T1 })).toEqual({
        event: 'admin',
        data: { email: 'demo@example.com' },
      });
      expect(await send(ws, 'admin', { 'x-tenant-id': T1 })).toEqual(exception(401, 'token_missing'));
      expect(
        await send(ws, 'optional-admin', { authorization: `Bearer ${demo}`, 'x-tenant-id': T1 }),
      ).toEqual({ event: 'optional-admin', data: { email: 'demo@example.com' } });
      expect(await send(ws, 'optional-admin', { 'x-tenant-id': T1 })).toEqual(
        exception(401, 'token_missing'),
      );
    } finally {
      ws.close();
    }
  });

  it('an expired token on an @OptionalAuth message is 401, never the previous user', async () => {
    const ws = await connect();
    try {
      const demo = emu.mintAccessToken('demo@example.com');
      const expired = emu.mintAccessToken('demo@example.com', {
        issuedAt: Math.floor(Date.now() / 1000) - 7200,
        expiresInSec: 3600,
      });
      await send(ws, 'whoami', { authorization: `Bearer ${demo}` });
      expect(await send(ws, 'whoami', { authorization: `Bearer ${expired}` })).toEqual(
        exception(401, 'token_expired'),
      );
      expect(await send(ws, 'whoami', {})).toEqual({ event: 'whoami', data: { email: null } });
    } finally {
      ws.close();
    }
  });

  it('a handshake token is re-checked for exp on every message', async () => {
    const token = emu.mintAccessToken('demo@example.com', { expiresInSec: 300 });
    const ws = await connect({ authorization: `Bearer ${token}` });
    try {
      expect(await send(ws, 'admin', { 'x-tenant-id': T1 })).toEqual({
        event: 'admin',
        data: { email: 'demo@example.com' },
      });
      const now = Date.now();
      const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 3600_000); // the handshake token has expired
      try {
        expect(await send(ws, 'admin', { 'x-tenant-id': T1 })).toEqual(exception(401, 'token_expired'));
        expect(await send(ws, 'whoami', {})).toEqual(exception(401, 'token_expired'));
      } finally {
        clock.mockRestore();
      }
    } finally {
      ws.close();
    }
  });
});
