// A code-first GraphQL app for the context suites: Apollo on Express, Mercurius on Fastify, the module's
// guards app-wide (and on field resolvers through `fieldResolverEnhancers: ['guards']`).
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { DynamicModule } from '@nestjs/common';
import {
  Args,
  Field,
  GraphQLModule,
  ID,
  Mutation,
  ObjectType,
  Parent,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql';
import { MercuriusDriver, MercuriusDriverConfig } from '@nestjs/mercurius';
import type { EzidModuleOptions, EzidTenant } from '../../src';
import { CurrentTenant, CurrentUser, OptionalAuth, Permissions, Public, Roles } from '../../src';
import type { EzidEmulator } from '../../src/testing';
import { AuthzApp, Platform, startAuthzApp } from '../authz/authz-test-app';

@ObjectType()
export class Org {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
}

const org = (t: EzidTenant): Org => ({ id: t.id, name: t.name });

@Resolver(() => Org)
export class OrgResolver {
  @Public()
  @Query(() => String)
  ping(): string {
    return 'pong';
  }

  @OptionalAuth()
  @Query(() => String, { nullable: true })
  whoami(@CurrentUser('email') email?: string): string | null {
    return email ?? null;
  }

  /** Non-null: a refusal leaves `data` null (Mercurius then answers with the error's HTTP status). */
  @Query(() => String)
  me(@CurrentUser('email') email: string): string {
    return email;
  }

  /** The tenant named by the `tenantId` argument (or the header); Admin only. */
  @Roles('Admin')
  @Query(() => Org, { nullable: true })
  adminOrg(
    @Args('tenantId', { type: () => ID }) _tenantId: string,
    @CurrentTenant() tenant: EzidTenant,
  ): Org {
    return org(tenant);
  }

  /** No rule: naming a tenant in the argument is a membership check, as a route param is over HTTP. */
  @Query(() => Org, { nullable: true })
  memberOrg(
    @Args('tenantId', { type: () => ID }) _tenantId: string,
    @CurrentTenant() tenant: EzidTenant,
  ): Org {
    return org(tenant);
  }

  /** The tenant of the `x-tenant-id` header only. */
  @Roles('Admin', 'Member')
  @Query(() => Org, { nullable: true })
  currentOrg(@CurrentTenant() tenant: EzidTenant): Org {
    return org(tenant);
  }

  @Permissions('Billing Manage')
  @Mutation(() => String)
  refund(
    @Args('tenantId', { type: () => ID }) _tenantId: string,
    @CurrentTenant() tenant: EzidTenant,
  ): string {
    return `refunded in ${tenant.name}`;
  }

  /** A field only an Admin of the tenant the request names may read: null with an error for others. */
  @Roles('Admin')
  @ResolveField(() => String, { nullable: true })
  billing(@Parent() parent: Org, @CurrentTenant() tenant: EzidTenant): string {
    return `billing of ${parent.name} (checked in ${tenant.name})`;
  }
}

export type GraphqlDriver = 'apollo' | 'mercurius';
/** The driver each platform runs in these suites. */
export const DRIVER_OF: Record<Platform, GraphqlDriver> = { express: 'apollo', fastify: 'mercurius' };

/**
 * `GraphQLModule.forRoot()` for the platform's driver. Apollo gets `includeStacktraceInErrorResponses: true`
 * (its default when NODE_ENV is unset) so the suites can show no stack reaches a client anyway.
 */
export function graphqlModule(
  platform: Platform,
  apollo: Partial<ApolloDriverConfig> = {},
  mercurius: Partial<MercuriusDriverConfig> = {},
): DynamicModule {
  if (DRIVER_OF[platform] === 'apollo') {
    return GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: true,
      fieldResolverEnhancers: ['guards'],
      includeStacktraceInErrorResponses: true,
      ...apollo,
    });
  }
  return GraphQLModule.forRoot<MercuriusDriverConfig>({
    driver: MercuriusDriver,
    autoSchemaFile: true,
    fieldResolverEnhancers: ['guards'],
    // Mercurius's query cache loads quick-lru with a dynamic import(), which jest's CommonJS mode cannot run.
    cache: false,
    ...mercurius,
  });
}

/** A real GraphQL server (the platform's driver) with the module's guards, on 127.0.0.1. */
export function startGraphqlApp(
  platform: Platform,
  emu: EzidEmulator,
  extra: Partial<EzidModuleOptions> = {},
): Promise<AuthzApp> {
  return startAuthzApp(platform, emu, [], extra, (b) => b, {
    imports: [graphqlModule(platform)],
    providers: [OrgResolver],
  });
}

export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}
export interface GqlResult {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: GqlError[];
  text: string;
}

/** POSTs one GraphQL operation to `/graphql` (plus `query` appended to the URL) and parses the answer. */
export async function gql(
  app: AuthzApp,
  query: string,
  headers: Record<string, string> = {},
  variables: Record<string, unknown> = {},
  urlQuery = '',
): Promise<GqlResult> {
  const res = await fetch(`${app.url}/graphql${urlQuery}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  const body = JSON.parse(text) as { data?: Record<string, unknown> | null; errors?: GqlError[] };
  return { status: res.status, data: body.data, errors: body.errors, text };
}
