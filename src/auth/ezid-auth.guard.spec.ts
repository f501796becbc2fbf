/* eslint-disable @typescript-eslint/no-explicit-any */
import { Controller, ExecutionContext, Get, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { RpcException } from '@nestjs/microservices';
import { WsException } from '@nestjs/websockets';
import * as crypto from 'node:crypto';
import { getEzidUser } from '../common/ezid-user-context';
import { Permissions } from '../decorators/permissions.decorator';
import { Public } from '../decorators/public.decorator';
import { Roles } from '../decorators/roles.decorator';
import { resolveEzidOptions } from '../ezid-options.validation';
import { EzidAuthGuard } from './ezid-auth.guard';
import { ezidPassportJwtOptions } from './ezid-jwt.strategy';
import { EzidTokenVerifier } from './ezid-token-verifier';
import { StaticKeySource } from './jwks-key-source';
import { Logger } from '@nestjs/common';
import { EzidEmulator } from '../testing';
import { startApp } from '../../test/auth/auth-test-app';
import { EzidAuthGuard as PublicGuard } from '../index';

const keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const options = resolveEzidOptions({
  clientId: 'cli_unit',
  token: { publicKey: pem, issuer: 'https://iss.test', audience: 'api://unit' },
  callback: false,
});
const verifier = new EzidTokenVerifier(options, new StaticKeySource(pem));
const guard = new EzidAuthGuard(new Reflector(), verifier, options);

function token(over: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const h = Buffer.from(JSON.stringify({ alg: 'RS256' })).toString('base64url');
  const p = Buffer.from(
    JSON.stringify({
      iss: 'https://iss.test',
      aud: 'api://unit',
      sub: 'u1',
      iat: now,
      exp: now + 60,
      ...over,
    }),
  ).toString('base64url');
  return `${h}.${p}.${crypto.sign('sha256', Buffer.from(`${h}.${p}`), keys.privateKey).toString('base64url')}`;
}

class Handlers {
  handle(): void {}
}
function ctx(type: string, args: unknown[]): ExecutionContext {
  const c = new ExecutionContextHost(args, Handlers, Handlers.prototype.handle);
  c.setType(type);
  return c;
}

describe('EzidAuthGuard: @Public() with a rule is authenticated (GraphQL resolver context)', () => {
  @Public()
  class PublicResolver {
    @Roles('Admin') admin(): void {}
    open(): void {}
  }
  @Public()
  class PublicBase {
    field(): void {}
  }
  @Permissions('Billing Manage')
  class RuledSub extends PublicBase {}

  const gql = (cls: abstract new () => unknown, handler: () => void, req: Record<string, unknown>) => {
    const c = new ExecutionContextHost([{}, {}, { req }, {}], cls as never, handler);
    c.setType('graphql');
    return c;
  };

  it.each([
    ['class @Public() + handler @Roles', PublicResolver, PublicResolver.prototype.admin],
    ['@Public() base + subclass @Permissions', RuledSub, PublicBase.prototype.field],
  ])('%s: no token 401, a valid token attaches the user', async (_shape, cls, handler) => {
    await expect(
      Promise.resolve().then(() => guard.canActivate(gql(cls, handler, { headers: {} }))),
    ).rejects.toMatchObject({ statusCode: 401, extensions: { code: 'token_missing', statusCode: 401 } });
    const req: Record<string, unknown> = { headers: { authorization: `Bearer ${token()}` } };
    expect(await guard.canActivate(gql(cls, handler, req))).toBe(true);
    expect((req.user as { id: string }).id).toBe('u1');
  });

  it('a @Public() route without a rule reads no token', async () => {
    const req: Record<string, unknown> = { headers: { authorization: 'Bearer not-even-a-jwt' } };
    expect(await guard.canActivate(gql(PublicResolver, PublicResolver.prototype.open, req))).toBe(true);
    expect(req.user).toBeUndefined();
  });
});

describe('EzidAuthGuard contexts', () => {
  it('GraphQL: reads the request from the GraphQL context and sets request.user', async () => {
    const req = { headers: { authorization: `Bearer ${token()}` } } as Record<string, unknown>;
    const c = ctx('graphql', [{}, {}, { req }, {}]);
    expect(await guard.canActivate(c)).toBe(true);
    expect((req.user as { id: string }).id).toBe('u1');
    expect(getEzidUser(c)?.id).toBe('u1');
  });

  it('GraphQL: no token → 401 token_missing; bad token → 401', async () => {
    const c = ctx('graphql', [{}, {}, { req: { headers: {} } }, {}]);
    expect(() => guard.canActivate(c)).toThrow(
      expect.objectContaining({ extensions: { code: 'token_missing', statusCode: 401 } }),
    );
    const bad = ctx('graphql', [
      {},
      {},
      { req: { headers: { authorization: `Bearer ${token({ iss: 'x' })}` } } },
      {},
    ]);
    expect(() => guard.canActivate(bad)).toThrow(
      expect.objectContaining({ extensions: { code: 'token_invalid', statusCode: 401 } }),
    );
  });

  it('WebSocket: token from the socket.io handshake or the message metadata; user via getEzidUser()', async () => {
    const client = { handshake: { auth: { token: token() } } };
    const data = { msg: 1 };
    const c = ctx('ws', [client, data, 'event']);
    expect(await guard.canActivate(c)).toBe(true);
    expect(getEzidUser(c)?.id).toBe('u1');
    const c2 = ctx('ws', [{}, { headers: { authorization: `Bearer ${token({ sub: 'u2' })}` } }, 'event']);
    expect(await guard.canActivate(c2)).toBe(true);
    expect(getEzidUser(c2)?.id).toBe('u2');
  });

  it('WebSocket: failures are WsException with the stable body; no token at all → token_missing', () => {
    const c = ctx('ws', [{}, {}, 'event']);
    let err: unknown;
    try {
      guard.canActivate(c);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WsException);
    expect((err as WsException).getError()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      code: 'token_missing',
      message: expect.any(String),
    });
    const two = ctx('ws', [
      { handshake: { auth: { token: token() } } },
      { headers: { authorization: `Bearer ${token({ sub: 'other' })}` } },
      'e',
    ]);
    expect(() => guard.canActivate(two)).toThrow(WsException);
  });

  it('RPC: token from gRPC-style metadata or the payload headers; failures are RpcException', async () => {
    const meta = {
      get: (k: string) => (k === 'authorization' ? [`Bearer ${token()}`] : []),
      getMap: () => ({}),
    };
    const c = ctx('rpc', [{ x: 1 }, meta]);
    expect(await guard.canActivate(c)).toBe(true);
    expect(getEzidUser(c)?.id).toBe('u1');
    const tcp = ctx('rpc', [{ headers: { authorization: `Bearer ${token()}` } }, { getPattern: () => 'p' }]);
    expect(await guard.canActivate(tcp)).toBe(true);
    const bad = ctx('rpc', [{ headers: { authorization: 'Bearer x.y.z' } }, {}]);
    expect(() => guard.canActivate(bad)).toThrow(RpcException);
  });

  it('unknown context types are denied, not allowed', () => {
    expect(guard.canActivate(ctx('kafka-custom', [{}, {}]))).toBe(false);
  });

  it('is exported as a plain class (overrideGuard works)', () => {
    expect(PublicGuard).toBe(EzidAuthGuard);
  });
});

describe('EzidTokenVerifier.verify (outside HTTP)', () => {
  it('applies the same rules and maps errors to codes', async () => {
    await expect(verifier.verify(token())).resolves.toMatchObject({ id: 'u1' });
    await expect(verifier.verify(token({ exp: 1, iat: 0 }))).rejects.toMatchObject({ code: 'token_expired' });
    await expect(
      verifier.verify(token().replace(/\.[^.]+$/, `.${Buffer.alloc(256, 1).toString('base64url')}`)),
    ).rejects.toMatchObject({ code: 'token_invalid' });
    await expect(verifier.verify('a.b')).rejects.toMatchObject({ code: 'token_malformed' });
  });

  it('the verified-token cache still checks exp on every call', async () => {
    const now = Math.floor(Date.now() / 1000);
    const t = token({ exp: now + 2, iat: now });
    const opts = resolveEzidOptions({
      clientId: 'c',
      token: { publicKey: pem, issuer: 'https://iss.test', audience: 'api://unit', clockToleranceSec: 0 },
    });
    const v = new EzidTokenVerifier(opts, new StaticKeySource(pem));
    await expect(v.verify(t)).resolves.toBeDefined();
    const spy = jest.spyOn(Date, 'now').mockReturnValue((now + 3) * 1000);
    try {
      await expect(v.verify(t)).rejects.toMatchObject({ code: 'token_expired' });
    } finally {
      spy.mockRestore();
    }
  });

  it('a static PEM under 2048 bits is refused at boot', () => {
    const weak = crypto
      .generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    expect(() => new StaticKeySource(weak)).toThrow(/2048/);
  });
});

describe('EzidJwtStrategy options (checklist section b)', () => {
  it('issuer, audience and algorithms are at the top level of the passport-jwt options (where passport-jwt reads them)', () => {
    const o = ezidPassportJwtOptions(options, verifier, new Logger('t')) as unknown as Record<
      string,
      unknown
    >;
    expect(o.issuer).toEqual(['https://iss.test']);
    expect(o.audience).toEqual(['api://unit']);
    expect(o.algorithms).toEqual(['RS256']);
    expect(o.ignoreExpiration).toBe(false);
    // passport-jwt overwrites these from the top level: the strategy's effective options carry them.
    const { Strategy } = require('passport-jwt');
    const s = new Strategy(o, () => undefined);
    expect(s._verifOpts).toMatchObject({
      issuer: ['https://iss.test'],
      audience: ['api://unit'],
      algorithms: ['RS256'],
    });
  });
});

@Controller()
class ExplicitController {
  @UseGuards(EzidAuthGuard)
  @Get('guarded')
  guarded(): string {
    return 'ok';
  }

  @Get('open')
  open(): string {
    return 'open';
  }
}

describe('globalGuard: false and the cookie source', () => {
  let emu: EzidEmulator;
  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: 'cli_auth_test', clientSecret: 's' });
  });
  afterAll(() => emu.stop());

  it.each(['express', 'fastify'] as const)(
    '%s: @UseGuards(EzidAuthGuard) still works; other routes are open',
    async (platform) => {
      const app = await startApp(platform, emu, {}, { globalGuard: false }, [ExplicitController]);
      try {
        expect((await app.get('/open')).status).toBe(200);
        expect((await app.get('/guarded')).status).toBe(401);
        expect((await app.get('/guarded', { authorization: `Bearer ${emu.mintAccessToken()}` })).status).toBe(
          200,
        );
      } finally {
        await app.close();
      }
    },
  );

  it.each(['express', 'fastify'] as const)(
    '%s: token from the configured cookie; two different tokens → 400',
    async (platform) => {
      const app = await startApp(platform, emu, { cookieName: 'ezid_at' });
      try {
        const t = emu.mintAccessToken();
        expect((await app.get('/protected', { cookie: `a=b; ezid_at=${t}` })).status).toBe(200);
        expect(
          (await app.get('/protected', { cookie: `ezid_at=${t}`, authorization: `Bearer ${t}` })).status,
        ).toBe(200);
        const other = emu.mintAccessToken(undefined, { claims: { n: 2 } });
        const res = await app.get('/protected', { cookie: `ezid_at=${t}`, authorization: `Bearer ${other}` });
        expect(res.status).toBe(400);
        expect(((await res.json()) as any).code).toBe('invalid_request');
        expect((await app.get('/protected', { cookie: `ezid_at=${t}; ezid_at=${other}` })).status).toBe(400);
      } finally {
        await app.close();
      }
    },
  );
});
