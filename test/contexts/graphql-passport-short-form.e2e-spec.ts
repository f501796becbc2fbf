// The Passport short form on a GraphQL resolver: `@Public() @UseGuards(GqlPassportGuard)` without
// EzidRolesGuard. Passport attaches the user after the app-wide EzidRolesGuard passed the request
// anonymously; the deferred authorization the module appends to @Public() handlers (resolvers included)
// must still check the tenant the arguments name. Apollo on Express, Mercurius on Fastify.
import { ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { Args, GqlExecutionContext, ID, Query, Resolver } from '@nestjs/graphql';
import { AuthGuard } from '@nestjs/passport';
import { Public } from '../../src';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { AuthzApp, PLATFORMS, bearer, startAuthzApp } from '../authz/authz-test-app';
import { OrgResolver, gql, graphqlModule } from './graphql-test-app';

const A = EMULATOR_IDS.tenant1; // alice: Member
const B = EMULATOR_IDS.tenant2; // alice: not a member

@Injectable()
class GqlPassportGuard extends AuthGuard('ezid-jwt') {
  override getRequest(context: ExecutionContext) {
    return GqlExecutionContext.create(context).getContext<{ req: unknown }>().req;
  }
}

@Resolver()
class ShortFormResolver {
  @Public()
  @UseGuards(GqlPassportGuard)
  @Query(() => String)
  shortFormOrg(@Args('tenantId', { type: () => ID }) tenantId: string): string {
    return tenantId;
  }
}

let emu: EzidEmulator;
beforeAll(async () => {
  emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
});
afterAll(async () => {
  await emu?.stop();
});

describe.each(PLATFORMS)('the Passport short form on a GraphQL resolver on %s', (platform) => {
  let app: AuthzApp;
  beforeAll(async () => {
    app = await startAuthzApp(platform, emu, [], {}, (b) => b, {
      imports: [graphqlModule(platform)],
      providers: [OrgResolver, ShortFormResolver],
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  const ask = (tenantId: string, token: string) =>
    gql(app, 'query ($t: ID!) { shortFormOrg(tenantId: $t) }', bearer(token), { t: tenantId });

  it('a member gets the field; a tenant the Passport user is not a member of is tenant_forbidden', async () => {
    const alice = emu.mintAccessToken('alice@example.com');
    expect((await ask(A, alice)).data).toEqual({ shortFormOrg: A });
    const denied = await ask(B, alice);
    expect(denied.data?.shortFormOrg ?? null).toBeNull();
    expect(denied.errors?.[0]?.extensions?.code).toBe('tenant_forbidden');
  });
});
