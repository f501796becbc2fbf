import { ConfigurableModuleBuilder, Inject } from '@nestjs/common';
import type { EzidModuleOptions } from './ezid.options';

export const {
  ConfigurableModuleClass: EzidConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: EZID_RAW_OPTIONS,
  OPTIONS_TYPE: EZID_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: EZID_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<Omit<EzidModuleOptions, 'isGlobal'>>({ moduleName: 'Ezid' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createEzidOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/**
 * Injection token of the validated, fully-defaulted options (`ResolvedEzidOptions`).
 * Prefer `@InjectEzidOptions()`.
 */
export const EZID_MODULE_OPTIONS = Symbol.for('nestjs-ezid:options');

/** Injects the validated, fully-defaulted module options (`ResolvedEzidOptions`). */
export const InjectEzidOptions = (): ParameterDecorator & PropertyDecorator => Inject(EZID_MODULE_OPTIONS);

/** For `forRootAsync({ useClass })` / `useExisting`: a class that creates the options. */
export interface EzidOptionsFactory {
  createEzidOptions(): Omit<EzidModuleOptions, 'isGlobal'> | Promise<Omit<EzidModuleOptions, 'isGlobal'>>;
}
