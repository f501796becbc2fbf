import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { KafkaContext, NatsContext, RmqContext } from '@nestjs/microservices';
import { T1, T2, demoUser, hookRegistry } from '../../test/authz/unit-helpers';
import { extractRpcToken } from '../auth/token-extractor';
import { setEzidUser } from '../common/ezid-user-context';
import { Roles } from '../decorators/roles.decorator';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { getAuthzView, getEzidTenant } from './authz-context';
import { EzidAuthorizer } from './ezid-authorizer';
import { EzidProfileStore } from './ezid-profile.source';
import { EzidRolesGuard } from './ezid-roles.guard';

class Handlers {
  @Roles('Admin') admin() {}
}

const OPTIONS = {
  globalGuard: true,
  tenant: { param: 'tenantId', header: 'x-tenant-id' },
  profile: { source: 'token', cacheTtlSec: 60, cacheMaxEntries: 100 },
} as unknown as ResolvedEzidOptions;

const guard = () =>
  new EzidRolesGuard(
    new Reflector(),
    new EzidAuthorizer(new EzidProfileStore(OPTIONS)),
    OPTIONS,
    hookRegistry(OPTIONS),
  );

/** An RPC execution context as Nest's RpcContextCreator builds it: `[data, transportContext]`. */
function rpcContext(transport: unknown, data: unknown = { value: 1 }): ExecutionContext {
  const ctx = new ExecutionContextHost([data, transport], Handlers, Handlers.prototype.admin);
  ctx.setType('rpc');
  // Admin (Team View, Team Manage, Billing Manage) in T1; Member only in T2.
  setEzidUser(ctx, demoUser());
  return ctx;
}

/** A kafkajs `KafkaMessage` (header values are Buffers), wrapped as the Kafka server does. */
const kafka = (headers: Record<string, Buffer | string | (Buffer | string)[]>) =>
  new KafkaContext([
    { key: null, value: Buffer.from('{}'), headers, timestamp: '0', offset: '0', attributes: 0 },
    0,
    'topic',
    undefined as never,
    undefined as never,
    undefined as never,
  ]);

/** An amqplib message (`properties.headers`), wrapped as the RMQ server does. */
const rmq = (headers: Record<string, unknown>) =>
  new RmqContext([{ content: Buffer.from('{}'), fields: {}, properties: { headers } }, {}, 'pattern']);

/** The header API of nats.js `MsgHdrsImpl` (nats is not installed): names kept as sent, `get` gives '' when absent. */
class NatsHeaders {
  private readonly h = new Map<string, string[]>();
  append(k: string, v: string): this {
    this.h.set(k, [...(this.h.get(k) ?? []), v]);
    return this;
  }
  keys(): string[] {
    return [...this.h.keys()];
  }
  get(k: string): string {
    return this.h.get(k)?.[0] ?? '';
  }
  has(k: string): boolean {
    return this.h.has(k);
  }
  values(k: string): string[] {
    return this.h.get(k) ?? [];
  }
  [Symbol.iterator]() {
    return this.h.entries();
  }
}
const nats = (headers: NatsHeaders) => new NatsContext(['subject', headers]);

/** The API of @grpc/grpc-js `Metadata` (not installed): lower-case names, `get` lists every value. */
class GrpcMetadata {
  private readonly m = new Map<string, string[]>();
  add(k: string, v: string): this {
    const key = k.toLowerCase();
    this.m.set(key, [...(this.m.get(key) ?? []), v]);
    return this;
  }
  get(k: string): string[] {
    return this.m.get(k.toLowerCase()) ?? [];
  }
  getMap(): Record<string, string> {
    return Object.fromEntries([...this.m].map(([k, v]) => [k, v[0]]));
  }
}

async function outcome(ctx: ExecutionContext): Promise<string> {
  try {
    return (await guard().canActivate(ctx)) ? `allowed ${getEzidTenant(ctx)?.id ?? '-'}` : 'false';
  } catch (e) {
    const body = (e as { getError?: () => { code?: string } }).getError?.();
    return `${(e as Error).constructor.name} ${body?.code ?? ''}`;
  }
}

describe('RPC tenant carriers: read from the same transport headers as the token', () => {
  const bearer = 'Bearer a.b.c';

  it.each<[string, () => unknown]>([
    ['Kafka (Buffer header values)', () => kafka({ 'x-tenant-id': Buffer.from(T1) })],
    ['Kafka (string header values)', () => kafka({ 'x-tenant-id': T1 })],
    ['RMQ (properties.headers)', () => rmq({ 'x-tenant-id': T1 })],
    ['NATS (MsgHdrs)', () => nats(new NatsHeaders().append('x-tenant-id', T1))],
    ['gRPC (Metadata)', () => new GrpcMetadata().add('x-tenant-id', T1)],
  ])('%s: a tenant named in transport headers is the tenant authorized', async (_label, make) => {
    expect(await outcome(rpcContext(make()))).toBe(`allowed ${T1}`);
  });

  it.each<[string, () => unknown]>([
    ['Kafka', () => kafka({ 'x-tenant-id': Buffer.from(T2) })],
    ['RMQ', () => rmq({ 'x-tenant-id': T2 })],
    ['NATS', () => nats(new NatsHeaders().append('x-tenant-id', T2))],
    ['gRPC', () => new GrpcMetadata().add('x-tenant-id', T2)],
  ])('%s: the header tenant is checked (Member in T2 is not Admin)', async (_label, make) => {
    expect(await outcome(rpcContext(make()))).toBe('RpcException insufficient_role');
  });

  it.each<[string, () => unknown]>([
    ['Kafka header T1, payload header T2', () => kafka({ 'x-tenant-id': Buffer.from(T1) })],
    ['RMQ header T1, payload header T2', () => rmq({ 'x-tenant-id': T1 })],
    ['NATS header T1, payload header T2', () => nats(new NatsHeaders().append('x-tenant-id', T1))],
    ['gRPC metadata T1, payload header T2', () => new GrpcMetadata().add('x-tenant-id', T1)],
  ])('%s: carriers disagreeing are refused, as over HTTP', async (_label, make) => {
    const ctx = rpcContext(make(), { headers: { 'x-tenant-id': T2 } });
    expect(await outcome(ctx)).toBe('RpcException tenant_forbidden');
  });

  it.each<[string, () => unknown]>([
    ['Kafka header listed twice', () => kafka({ 'x-tenant-id': [T1, T2] })],
    ['Kafka header in two cases', () => kafka({ 'x-tenant-id': T1, 'X-Tenant-Id': T2 })],
    [
      'NATS header appended twice',
      () => nats(new NatsHeaders().append('x-tenant-id', T1).append('x-tenant-id', T2)),
    ],
    ['gRPC metadata with two values', () => new GrpcMetadata().add('x-tenant-id', T1).add('X-Tenant-Id', T2)],
    ['RMQ header that is not a string', () => rmq({ 'x-tenant-id': { id: T1 } })],
  ])('%s: refused as a malformed tenant', async (_label, make) => {
    expect(await outcome(rpcContext(make()))).toBe('RpcException tenant_forbidden');
  });

  it('a header name in another case is the same header (as HTTP headers are)', async () => {
    expect(await outcome(rpcContext(kafka({ 'X-Tenant-Id': Buffer.from(T1) })))).toBe(`allowed ${T1}`);
    expect(await outcome(rpcContext(nats(new NatsHeaders().append('X-TENANT-ID', T1))))).toBe(
      `allowed ${T1}`,
    );
  });

  it('the same value in transport headers and payload headers is one tenant', async () => {
    const ctx = rpcContext(kafka({ 'x-tenant-id': Buffer.from(T1) }), { headers: { 'x-tenant-id': T1 } });
    expect(await outcome(ctx)).toBe(`allowed ${T1}`);
  });

  it('no tenant anywhere: tenant_required (nothing read from an absent NATS header)', async () => {
    expect(await outcome(rpcContext(nats(new NatsHeaders())))).toBe('RpcException tenant_required');
    expect(await outcome(rpcContext(kafka({})))).toBe('RpcException tenant_required');
  });

  it('the token and the tenant come from the same carriers', () => {
    const cases: unknown[] = [
      kafka({ authorization: Buffer.from(bearer), 'x-tenant-id': Buffer.from(T1) }),
      rmq({ authorization: bearer, 'x-tenant-id': T1 }),
      nats(new NatsHeaders().append('authorization', bearer).append('x-tenant-id', T1)),
      new GrpcMetadata().add('authorization', bearer).add('x-tenant-id', T1),
    ];
    for (const transport of cases) {
      const ctx = rpcContext(transport);
      expect(extractRpcToken(transport, {})).toBe('a.b.c');
      const bags = getAuthzView(ctx)!.headerBags.filter(Boolean) as Record<string, unknown>[];
      expect(bags.map((b) => b['x-tenant-id'])).toEqual([T1]);
    }
  });
});
