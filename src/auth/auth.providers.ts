import { CanActivate, DynamicModule, ExecutionContext, Injectable, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import {
  EZID_MONOTONIC_CLOCK,
  type EzidMonotonicClock,
  SYSTEM_MONOTONIC_CLOCK,
} from '../common/monotonic-clock';
import { EzidObserver } from '../observer/ezid-observer';
import type { ResolvedEzidOptions } from '../ezid-options.validation';
import { EZID_MODULE_OPTIONS, InjectEzidOptions } from '../ezid.module-definition';
import { enterEzidContext } from '../context/ezid-context';
import { EZID_KEY_SOURCE } from './auth.constants';
import { EzidAuthGuard } from './ezid-auth.guard';
import { EzidJwtStrategy } from './ezid-jwt.strategy';
import { EzidRevocationList } from './ezid-revocation-list';
import { EzidTokenVerifier } from './ezid-token-verifier';
import { type EzidKeySource, JwksKeySource, StaticKeySource } from './jwks-key-source';

/** Builds the process-wide key source (one JWKS client per process) from the options. */
export function createKeySource(
  options: ResolvedEzidOptions,
  clock: EzidMonotonicClock = SYSTEM_MONOTONIC_CLOCK,
  observer?: EzidObserver,
): EzidKeySource {
  const t = options.token;
  if (t.publicKey) return new StaticKeySource(t.publicKey);
  return new JwksKeySource({
    jwksUri: t.jwksUri!,
    algorithms: t.algorithms,
    cacheMaxAgeMs: t.jwks.cacheMaxAgeSec * 1000,
    cooldownMs: t.jwks.cooldownSec * 1000,
    timeoutMs: t.jwks.timeoutMs,
    staleIfErrorMs: t.jwks.staleIfErrorSec * 1000,
    prefetch: t.jwks.prefetch,
    clock,
    telemetry: observer?.telemetry,
  });
}

/**
 * The app-wide guard registered through `APP_GUARD`: delegates to `EzidAuthGuard` when
 * `globalGuard` is on (known only at runtime with `forRootAsync`), lets everything through
 * otherwise (routes then opt in with `@UseGuards(EzidAuthGuard)`). Internal.
 */
@Injectable()
export class EzidGlobalAuthGuard implements CanActivate {
  constructor(
    @InjectEzidOptions() private readonly options: ResolvedEzidOptions,
    private readonly guard: EzidAuthGuard,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.options.context) enterEzidContext(context);
    return this.options.globalGuard ? this.guard.canActivate(context) : true;
  }
}

/**
 * What the auth area adds to every EzidModule.forRoot()/forRootAsync() dynamic module.
 * Owned by the auth area; the module only concatenates these lists.
 */
export const authProviders: Provider[] = [
  { provide: EZID_MONOTONIC_CLOCK, useValue: SYSTEM_MONOTONIC_CLOCK },
  {
    provide: EZID_KEY_SOURCE,
    useFactory: createKeySource,
    inject: [EZID_MODULE_OPTIONS, EZID_MONOTONIC_CLOCK, { token: EzidObserver, optional: true }],
  },
  EzidTokenVerifier,
  EzidAuthGuard,
  EzidJwtStrategy,
  EzidGlobalAuthGuard,
  { provide: APP_GUARD, useExisting: EzidGlobalAuthGuard },
];
export const authExports: NonNullable<DynamicModule['exports']> = [
  EzidRevocationList,
  EzidTokenVerifier,
  EzidAuthGuard,
  EzidJwtStrategy,
];
export const authControllers: NonNullable<DynamicModule['controllers']> = [];
