import { Module } from '@nestjs/common';
import { resolveStsConfig, type ServerAwsStsConfig } from './server-aws-sts.config.js';
import { ConfigurableServerAwsStsModule, STS_MODULE_OPTIONS } from './server-aws-sts.module-definition.js';
import { createStsClient } from './sts-client.factory.js';
import { STS_CLIENT, STS_RESOLVED_CONFIG } from './sts.constants.js';
import { StsService } from './sts.service.js';

/**
 * AWS STS for Nest: `ServerAwsStsModule.configure(config)` or `configureAsync(...)` provides `StsService`
 * and the `STSClient` under `STS_CLIENT`. A bad config fails the bootstrap with one message per bad field.
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
export class ServerAwsStsModule extends ConfigurableServerAwsStsModule {}
