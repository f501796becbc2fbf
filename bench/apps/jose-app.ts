// The second anchor: the jose recipe (as issue 19 describes it, after Logto and Clerk NestJS docs): one
// `createRemoteJWKSet(new URL(jwksUri))` for the app, built once with the guard (jose keeps the key
// set and imports each key once), and in a global guard `jwtVerify(token, JWKS, { issuer, algorithms })`
// on the Bearer token, the payload on `request.user`. The same controller, @Public() check and
// RolesGuard as the canonical recipe (canonical-app.ts), so only the verification differs.
import {
  CanActivate,
  ExecutionContext,
  Injectable,
  Module,
  UnauthorizedException,
  type DynamicModule,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { BenchIdp } from './bench-env';
import { CanonicalBenchController, IS_PUBLIC_KEY, RolesGuard } from './canonical-app';

const JOSE_OPTIONS = Symbol('jose-options');

@Injectable()
export class JoseAuthGuard implements CanActivate {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly issuer: string;

  constructor(
    private readonly reflector: Reflector,
    idp: BenchIdp,
  ) {
    this.jwks = createRemoteJWKSet(new URL(idp.jwksUri));
    this.issuer = idp.issuer;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | undefined>; user?: unknown }>();
    const [type, token] = request.headers.authorization?.split(' ') ?? [];
    if (type !== 'Bearer' || !token) throw new UnauthorizedException();
    try {
      const { payload } = await jwtVerify(token, this.jwks, { issuer: this.issuer, algorithms: ['RS256'] });
      request.user = payload;
    } catch {
      throw new UnauthorizedException();
    }
    return true;
  }
}

@Module({})
export class JoseBenchModule {
  static create(idp: BenchIdp): DynamicModule {
    return {
      module: JoseBenchModule,
      controllers: [CanonicalBenchController],
      providers: [
        { provide: JOSE_OPTIONS, useValue: idp },
        {
          provide: JoseAuthGuard,
          useFactory: (reflector: Reflector, o: BenchIdp) => new JoseAuthGuard(reflector, o),
          inject: [Reflector, JOSE_OPTIONS],
        },
        { provide: APP_GUARD, useExisting: JoseAuthGuard },
        { provide: APP_GUARD, useClass: RolesGuard },
      ],
    };
  }
}
