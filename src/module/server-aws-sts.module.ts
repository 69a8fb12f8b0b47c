import { Module, type DynamicModule } from '@nestjs/common';
import { resolveStsConfig, type ServerAwsStsConfig } from '../config/server-aws-sts.config.js';
import {
  ConfigurableServerAwsStsModule,
  STS_MODULE_ASYNC_OPTIONS_TYPE,
  STS_MODULE_OPTIONS,
  STS_MODULE_OPTIONS_TYPE,
} from './server-aws-sts.module-definition.js';
import { createStsClient } from '../config/sts-client.factory.js';
import { STS_CLIENT, STS_RESOLVED_CONFIG } from './sts.constants.js';
import { StsService } from './sts.service.js';

/**
 * AWS STS for Nest: `ServerAwsStsModule.configure(config)` or `configureAsync(...)` provides `StsService`
 * and the `STSClient` under `STS_CLIENT`. A bad config fails the bootstrap with one message per bad field.
 * `forRoot` / `forRootAsync` are the same methods under the names other Nest modules use.
 */
@Module({
  providers: [
    {
      provide: STS_RESOLVED_CONFIG,
      inject: [STS_MODULE_OPTIONS],
      useFactory: (config: ServerAwsStsConfig) => resolveStsConfig(config),
    },
    { provide: STS_CLIENT, inject: [STS_RESOLVED_CONFIG], useFactory: createStsClient },
    StsService,
  ],
  exports: [StsService, STS_CLIENT],
})
export class ServerAwsStsModule extends ConfigurableServerAwsStsModule {
  /**
   * `configure(config)` under the name other Nest modules use: the same options (`isGlobal` included, default
   * false) and the same dynamic module.
   */
  static forRoot(config: typeof STS_MODULE_OPTIONS_TYPE): DynamicModule {
    return this.configure(config);
  }

  /**
   * `configureAsync({ imports, inject, useFactory | useClass | useExisting, isGlobal })` under the name other Nest
   * modules use: the same options and the same dynamic module.
   */
  static forRootAsync(options: typeof STS_MODULE_ASYNC_OPTIONS_TYPE): DynamicModule {
    return this.configureAsync(options);
  }
}
