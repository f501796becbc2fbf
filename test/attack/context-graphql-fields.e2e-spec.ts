// Attack: root fields of one GraphQL operation (and the operations of one Apollo batch) name different
// tenants; each resolver must see the tenant its own field was authorized for, across awaits that
// interleave the fields. A field resolver the guards run for (`fieldResolverEnhancers: ['guards']`) has its
// own context: no tenant named, none seen (as `@CurrentTenant()`), never a sibling's.
import { Args, ID, ObjectType, Field, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { EzidContext } from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { AuthzApp, PLATFORMS, startAuthzApp } from '../authz/authz-test-app';
import { graphqlModule, OrgResolver } from '../contexts/graphql-test-app';

const T1 = EMULATOR_IDS.tenant1;
const T2 = EMULATOR_IDS.tenant2;

@ObjectType()
class Seen {
  @Field(() => String) tenant!: string;
}

let turn: Promise<void> = Promise.resolve();

@Resolver(() => Seen)
class SeenResolver {
  @Query(() => Seen)
  async seen(@Args('tenantId', { type: () => ID }) _t: string): Promise<Seen> {
    // Interleave with the other fields: each waits for the previous one's first await.
    const mine = turn.then(() => undefined);
    turn = mine;
    await mine;
    await new Promise<void>((r) => setImmediate(r));
    return { tenant: EzidContext.tenant?.id ?? 'none' };
  }

  @ResolveField(() => String)
  async nested(@Parent() _p: Seen): Promise<string> {
    await new Promise<void>((r) => setImmediate(r));
    return EzidContext.tenant?.id ?? 'none';
  }
}

let emu: EzidEmulator;
let app: AuthzApp;

beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
});
afterAll(async () => {
  await emu?.stop();
});

describe.each(PLATFORMS)('GraphQL fields naming different tenants on %s', (platform) => {
  beforeAll(async () => {
    app = await startAuthzApp(platform, emu, [], { context: true }, (b) => b, {
      imports: [graphqlModule(platform, { allowBatchedHttpRequests: true }, {})],
      providers: [OrgResolver, SeenResolver],
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  const post = async (body: unknown): Promise<unknown> => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${emu.mintAccessToken('demo@example.com')}`,
      },
      body: JSON.stringify(body),
    });
    return res.json();
  };

  it('each root field (and its field resolvers) sees its own tenant', async () => {
    const q = `{ a: seen(tenantId: "${T1}") { tenant nested } b: seen(tenantId: "${T2}") { tenant nested } c: seen(tenantId: "${T1}") { tenant nested } }`;
    expect(await post({ query: q })).toEqual({
      data: {
        a: { tenant: T1, nested: 'none' },
        b: { tenant: T2, nested: 'none' },
        c: { tenant: T1, nested: 'none' },
      },
    });
  });

  if (platform === 'express')
    it('each operation of an Apollo batch sees its own tenant', async () => {
      const one = (t: string) => ({ query: `{ seen(tenantId: "${t}") { tenant nested } }` });
      expect(await post([one(T1), one(T2), one(T1)])).toEqual([
        { data: { seen: { tenant: T1, nested: 'none' } } },
        { data: { seen: { tenant: T2, nested: 'none' } } },
        { data: { seen: { tenant: T1, nested: 'none' } } },
      ]);
    });
});
