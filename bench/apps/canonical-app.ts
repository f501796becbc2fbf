// The baseline: the canonical recipe, built the way the Nest docs ("Authentication" > "Enable
// authentication globally", "Authorization" > RolesGuard) and the Auth0 NestJS guide build it:
// @nestjs/passport AuthGuard('jwt') + passport-jwt + jwks-rsa passportJwtSecret, a global
// JwtAuthGuard that honours an IS_PUBLIC_KEY @Public(), and a RolesGuard reading req.user (the JWT
// payload returned by validate()). Roles and permissions are checked in the tenant named by
// :tenantId, from the token's `tenants` claim, which is what an app following the recipe writes.
import {
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  Module,
  SetMetadata,
  type DynamicModule,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy, type StrategyOptionsWithoutRequest } from 'passport-jwt';
import type { BenchIdp } from './bench-env';

export const IS_PUBLIC_KEY = 'isPublic';
export const CanonicalPublic = () => SetMetadata(IS_PUBLIC_KEY, true);
export const ROLES_KEY = 'roles';
export const CanonicalRoles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);
export const PERMISSIONS_KEY = 'permissions';
export const CanonicalPermissions = (...permissions: string[]) => SetMetadata(PERMISSIONS_KEY, permissions);

/** `'guide'`: the Auth0 guide's jwks-rsa options; `'library'`: jwks-rsa's own defaults (no rate limit). */
export type CanonicalJwks = 'guide' | 'library';

const JWT_OPTIONS = Symbol('canonical-jwt-options');

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(idp: BenchIdp, jwks: CanonicalJwks) {
    super({
      secretOrKeyProvider: passportJwtSecret(
        jwks === 'guide'
          ? { cache: true, rateLimit: true, jwksRequestsPerMinute: 5, jwksUri: idp.jwksUri }
          : { jwksUri: idp.jwksUri },
      ),
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      issuer: idp.issuer,
      algorithms: ['RS256'],
    } as StrategyOptionsWithoutRequest);
  }

  validate(payload: unknown): unknown {
    return payload;
  }
}

@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    return super.canActivate(context);
  }
}

interface TenantClaim {
  tenant_id?: string;
  roles?: Array<{ role_name?: string; permissions?: string[] | null }>;
}

@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    const requiredRoles = this.reflector.getAllAndOverride<string[]>(ROLES_KEY, targets);
    const requiredPermissions = this.reflector.getAllAndOverride<string[]>(PERMISSIONS_KEY, targets);
    if (!requiredRoles && !requiredPermissions) return true;
    const request = context
      .switchToHttp()
      .getRequest<{ user?: { tenants?: TenantClaim[] }; params: Record<string, string> }>();
    const tenant = request.user?.tenants?.find((t) => t.tenant_id === request.params.tenantId);
    const roles = tenant?.roles ?? [];
    if (requiredRoles && !requiredRoles.some((r) => roles.some((role) => role.role_name === r))) return false;
    if (requiredPermissions) {
      const held = roles.flatMap((role) => role.permissions ?? []);
      if (!requiredPermissions.every((p) => held.includes(p))) return false;
    }
    return true;
  }
}

@Controller()
export class CanonicalBenchController {
  @CanonicalPublic()
  @Get('public')
  public() {
    return { ok: true };
  }

  @Get('guarded')
  guarded() {
    return { ok: true };
  }

  @CanonicalRoles('Admin')
  @Get('orgs/:tenantId/admin')
  admin() {
    return { ok: true };
  }

  @CanonicalPermissions('Billing Manage')
  @Get('orgs/:tenantId/billing')
  billing() {
    return { ok: true };
  }
}

@Module({})
export class CanonicalBenchModule {
  static create(idp: BenchIdp, jwks: CanonicalJwks): DynamicModule {
    return {
      module: CanonicalBenchModule,
      imports: [PassportModule],
      controllers: [CanonicalBenchController],
      providers: [
        { provide: JWT_OPTIONS, useValue: { idp, jwks } },
        {
          provide: JwtStrategy,
          useFactory: (o: { idp: BenchIdp; jwks: CanonicalJwks }) => new JwtStrategy(o.idp, o.jwks),
          inject: [JWT_OPTIONS],
        },
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        { provide: APP_GUARD, useClass: RolesGuard },
      ],
    };
  }
}
