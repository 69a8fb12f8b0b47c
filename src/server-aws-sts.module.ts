import { Module } from '@nestjs/common';
import { resolveStsConfig, type ServerAwsStsConfig } from './server-aws-sts.config';
import { ConfigurableServerAwsStsModule, STS_MODULE_OPTIONS } from './server-aws-sts.module-definition';
import { createStsClient } from './sts-client.factory';
import { STS_CLIENT, STS_RESOLVED_CONFIG } from './sts.constants';
import { StsService } from './sts.service';

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
