import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ServerAwsStsConfig } from '../config/server-aws-sts.config.js';

/**
 * `configure(config)` and `configureAsync({ imports, inject, useFactory | useClass | useExisting })`,
 * both taking `isGlobal` (default false). `ServerAwsStsModule` adds `forRoot` / `forRootAsync` as aliases.
 */
export const {
  ConfigurableModuleClass: ConfigurableServerAwsStsModule,
  MODULE_OPTIONS_TOKEN: STS_MODULE_OPTIONS,
  OPTIONS_TYPE: STS_MODULE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: STS_MODULE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ServerAwsStsConfig>({ moduleName: 'ServerAwsSts' })
  .setClassMethodName('configure')
  .setFactoryMethodName('createStsConfig')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
