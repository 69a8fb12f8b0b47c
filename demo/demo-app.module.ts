/** The app: the STS module signed by the platform's base identity, and the service that uses it. */
import { Module, type DynamicModule } from '@nestjs/common';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { ServerAwsStsModule } from '../src'; // in your app: 'nestjs-aws-sts'
import { AWS_CLIENT_CONFIG, TenantAccessService } from './tenant-access.service';

@Module({})
export class DemoAppModule {
  /**
   * `stsEndpoint` and `s3Endpoint` are the local STS and S3. In production: no endpoints (AWS's own) and credentials
   * from the environment, or `configureAsync`.
   */
  static forEndpoints(stsEndpoint: string, s3Endpoint: string, credentials: AwsCredentialIdentity): DynamicModule {
    return {
      module: DemoAppModule,
      imports: [
        ServerAwsStsModule.configure({
          AWS_REGION: 'us-east-1',
          credentials,
          clientConfig: { endpoint: stsEndpoint, maxAttempts: 2 },
          requireExternalId: true, // refuse any cross-account AssumeRole that forgets the tenant's ExternalId
          DEFAULT_SESSION_DURATION: 7200, // 2 h sessions, so the 1 h cap of role chaining shows
        }),
      ],
      providers: [TenantAccessService, { provide: AWS_CLIENT_CONFIG, useValue: { endpoint: s3Endpoint, forcePathStyle: true } }],
    };
  }
}
