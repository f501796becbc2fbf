import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { EzidModule } from 'nestjs-ezid';
import type { EzidEmulator } from 'nestjs-ezid/testing';
import { DevInboxController, EMULATOR } from './dev-inbox.controller';
import { HealthController } from './health.controller';
import { OrgsController } from './orgs.controller';
import { PageController } from './page.controller';
import { SessionController } from './session.controller';

export interface SampleAppOptions {
  /** The public URL of the app, e.g. http://localhost:3000 (magic links point back to it). */
  publicUrl: string;
  /** The embedded emulator, in emulator mode. */
  emulator?: EzidEmulator;
}

@Module({})
export class AppModule {
  static register({ publicUrl, emulator }: SampleAppOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true }),
        TerminusModule,
        EzidModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            clientId: config.getOrThrow<string>('EZID_CLIENT_ID'),
            clientSecret: config.getOrThrow<string>('EZID_CLIENT_SECRET'),
            apiBaseUrl: config.getOrThrow<string>('EZID_API_URL'),
            token: {
              jwksUri: config.getOrThrow<string>('EZID_JWKS_URI'),
              issuer: config.getOrThrow<string>('EZID_ISSUER'),
              audience: config.get<string>('EZID_AUDIENCE'),
            },
            // globalGuard defaults to true: every route below needs a valid token unless @Public().
            callback: { mode: 'cookie', publicUrl, redirectAllowList: ['/'] },
          }),
        }),
      ],
      controllers: [
        PageController,
        HealthController,
        OrgsController,
        SessionController,
        ...(emulator ? [DevInboxController] : []),
      ],
      providers: emulator ? [{ provide: EMULATOR, useValue: emulator }] : [],
    };
  }
}
