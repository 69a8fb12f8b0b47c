import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ServerAwsStsConfig } from './server-aws-sts.config.js';

/**
 * `configure(config)` and `configureAsync({ imports, inject, useFactory | useClass | useExisting })`,
 * both taking `isGlobal` (default false).
 */
export const {
  ConfigurableModuleClass: ConfigurableServerAwsStsModule,
  MODULE_OPTIONS_TOKEN: STS_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<ServerAwsStsConfig>({ moduleName: 'ServerAwsSts' })
  .setClassMethodName('configure')
  .setFactoryMethodName('createStsConfig')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
