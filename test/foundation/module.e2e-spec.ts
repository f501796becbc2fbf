import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  EZID_MODULE_OPTIONS,
  EzidAuthGuard,
  EzidConfigurationError,
  EzidModule,
  EzidModuleOptions,
  EzidOptionsFactory,
  InjectEzidOptions,
  Public,
  ResolvedEzidOptions,
} from '../../src';

const base = (): Omit<EzidModuleOptions, 'isGlobal'> => ({
  clientId: 'cli_module_test',
  clientSecret: 'module-test-secret',
  token: { jwksUri: 'http://127.0.0.1:1/.well-known/jwks.json', issuer: 'https://ezid.test' },
  callback: false,
});

@Injectable()
class OptionsReader {
  constructor(@InjectEzidOptions() readonly options: ResolvedEzidOptions) {}
}

@Injectable()
class EzidConfigFactory implements EzidOptionsFactory {
  createEzidOptions() {
    return { ...base(), clientId: 'cli_from_class' };
  }
}

@Module({ providers: [EzidConfigFactory], exports: [EzidConfigFactory] })
class FactoryModule {}

@Controller('health')
class HealthController {
  @Public()
  @Get()
  health() {
    return { ok: true };
  }

  @Get('private')
  secret() {
    return { secret: true };
  }
}

describe('EzidModule registration', () => {
  it('forRoot(): validated, defaulted options are injectable with @InjectEzidOptions()', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [EzidModule.forRoot(base())],
      providers: [OptionsReader],
    }).compile();
    const { options } = moduleRef.get(OptionsReader);
    expect(options.clientId).toBe('cli_module_test');
    expect(options.token.algorithms).toEqual(['RS256']);
    expect(moduleRef.get(EZID_MODULE_OPTIONS)).toBe(options);
    await moduleRef.close();
  });

  it('forRootAsync({ imports, inject, useFactory }) with @nestjs/config', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        EzidModule.forRootAsync({
          imports: [
            ConfigModule.forRoot({
              ignoreEnvFile: true,
              load: [() => ({ EZID_CLIENT_ID: 'cli_from_config' })],
            }),
          ],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            ...base(),
            clientId: config.getOrThrow<string>('EZID_CLIENT_ID'),
          }),
        }),
      ],
      providers: [OptionsReader],
    }).compile();
    expect(moduleRef.get(OptionsReader).options.clientId).toBe('cli_from_config');
    await moduleRef.close();
  });

  it('forRootAsync({ useClass })', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [EzidModule.forRootAsync({ useClass: EzidConfigFactory })],
      providers: [OptionsReader],
    }).compile();
    expect(moduleRef.get(OptionsReader).options.clientId).toBe('cli_from_class');
    await moduleRef.close();
  });

  it('forRootAsync({ imports, useExisting })', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [EzidModule.forRootAsync({ imports: [FactoryModule], useExisting: EzidConfigFactory })],
      providers: [OptionsReader],
    }).compile();
    expect(moduleRef.get(OptionsReader).options.clientId).toBe('cli_from_class');
    await moduleRef.close();
  });

  it('isGlobal: true makes the options visible to modules that do not import EzidModule', async () => {
    @Module({ providers: [OptionsReader], exports: [OptionsReader] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [EzidModule.forRoot({ ...base(), isGlobal: true }), FeatureModule],
    }).compile();
    expect(moduleRef.get(OptionsReader).options.clientId).toBe('cli_module_test');
    await moduleRef.close();

    // Without isGlobal, the feature module cannot resolve the options.
    await expect(
      Test.createTestingModule({ imports: [EzidModule.forRoot(base()), FeatureModule] }).compile(),
    ).rejects.toThrow(/OptionsReader/);
  });

  it('a bad configuration fails boot with one EzidConfigurationError (forRoot and forRootAsync)', async () => {
    const bad = { ...base(), clientId: '', token: { issuer: 'x' } };
    await expect(Test.createTestingModule({ imports: [EzidModule.forRoot(bad)] }).compile()).rejects.toThrow(
      EzidConfigurationError,
    );
    const rejection = Test.createTestingModule({
      imports: [EzidModule.forRootAsync({ useFactory: async () => bad })],
    }).compile();
    await expect(rejection).rejects.toThrow(/clientId[\s\S]*token/);
    await expect(rejection).rejects.not.toThrow(/module-test-secret/);
  });

  it('boots an HTTP app with the module and serves a @Public() route', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [EzidModule.forRoot(base())],
      controllers: [HealthController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const res = await request(app.getHttpServer()).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
    await app.close();
  });

  // The app-wide guard delegates to the EzidAuthGuard provider, so tests replace it with
  // overrideProvider (Nest's overrideGuard swaps only guards listed in @UseGuards()).
  it("users' tests can replace the global guard with overrideProvider(EzidAuthGuard)", async () => {
    const real = await Test.createTestingModule({
      imports: [EzidModule.forRoot(base())],
      controllers: [HealthController],
    }).compile();
    const app1 = real.createNestApplication({ logger: false });
    await app1.init();
    expect((await request(app1.getHttpServer()).get('/health/private')).status).toBe(401);
    await app1.close();

    const overridden = await Test.createTestingModule({
      imports: [EzidModule.forRoot(base())],
      controllers: [HealthController],
    })
      .overrideProvider(EzidAuthGuard)
      .useValue({ canActivate: () => true })
      .compile();
    const app2 = overridden.createNestApplication({ logger: false });
    await app2.init();
    const res = await request(app2.getHttpServer()).get('/health/private');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ secret: true });
    await app2.close();
  });
});
