import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { ResolvedStsConfig } from './server-aws-sts.config.js';

/** The module's `STSClient` (token `STS_CLIENT`), signed by the base identity. */
export function createStsClient(config: ResolvedStsConfig): STSClient {
  return new STSClient({ ...config.clientConfig, region: config.region ?? config.clientConfig.region, credentials: config.credentials });
}

/**
 * An `STSClient` signed by other credentials (a role-chaining hop, an access check) that shares the module
 * client's request handler, sockets and learned clock offset. It holds nothing of its own to close: never
 * destroy it, as that would destroy the shared handler.
 */
export function stsClientSignedBy(moduleClient: STSClient, config: ResolvedStsConfig, credentials: AwsCredentialIdentity): STSClient {
  const shared = moduleClient.config as Partial<STSClient['config']> | undefined;
  return new STSClient({
    ...config.clientConfig,
    region: config.region ?? config.clientConfig.region,
    credentials,
    ...(shared?.requestHandler ? { requestHandler: shared.requestHandler } : {}),
    systemClockOffset: shared?.systemClockOffset,
  });
}
