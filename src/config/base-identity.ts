import { Logger } from '@nestjs/common';
import { fromIni, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';

/** What the base identity is made of: the `credentials` and `AWS_PROFILE` of `ServerAwsStsConfig`. */
export interface BaseIdentityOptions {
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  AWS_PROFILE?: string;
}

/** Where the SDK's default chain found credentials, by the feature id it marks them with (`$source`), in priority order. */
const CHAIN_SOURCES: ReadonlyArray<[feature: string, origin: string]> = [
  ['CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN', 'a web identity token file (AWS_WEB_IDENTITY_TOKEN_FILE)'],
  ['CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN', 'a web identity token file named by a profile'],
  ['CREDENTIALS_STS_ASSUME_ROLE_WEB_ID', 'a web identity token'],
  ['CREDENTIALS_ENV_VARS', 'environment variables (AWS_ACCESS_KEY_ID)'],
  ['CREDENTIALS_HTTP', 'the container credentials endpoint (ECS, EKS Pod Identity)'],
  ['CREDENTIALS_IMDS', 'EC2 instance metadata'],
  ['CREDENTIALS_PROFILE_SSO', 'SSO, through a profile'],
  ['CREDENTIALS_SSO', 'SSO'],
  ['CREDENTIALS_PROFILE_PROCESS', 'credential_process, through a profile'],
  ['CREDENTIALS_PROCESS', 'credential_process'],
  ['CREDENTIALS_PROFILE', 'the shared config and credentials files'],
];

/** Where SDK credentials came from, read from the feature ids the SDK marks them with; undefined if unmarked. */
function sdkOrigin(credentials: AwsCredentialIdentity): string | undefined {
  const features = (credentials as { $source?: Record<string, unknown> }).$source ?? {};
  return CHAIN_SOURCES.find(([feature]) => feature in features)?.[1];
}

/**
 * What a failing base provider becomes. The SDK's own providers fail with a `CredentialsProviderError` whose message
 * says what was looked for (no secret), kept as is. Any other provider's error (a vault client, `credential_process`
 * output, the app's own code) may quote anything, a token included: only its name is kept, never its message.
 */
function providerFailure(error: unknown): unknown {
  if (error instanceof Error && error.name === 'CredentialsProviderError' && 'tryNextLink' in error) return error;
  const name = error instanceof Error ? error.name : typeof error;
  return Object.assign(new Error(`The base credentials provider failed (${name}; its message is not shown, as it may hold a secret)`), {
    name: 'CredentialsProviderError',
  });
}

/**
 * The base identity as a provider, and a `debug` line saying where it came from the first time it resolves (the
 * profile, the environment, the container, a web identity token…): never a key. Static keys are wrapped in a
 * closure, so the resolved config (and the service holding it) never shows a secret key to `util.inspect` or
 * `JSON.stringify`.
 */
export function baseCredentialProvider(config: BaseIdentityOptions): AwsCredentialIdentityProvider {
  const { credentials } = config;
  let provider: AwsCredentialIdentityProvider;
  let origin: (resolved: AwsCredentialIdentity) => string;
  if (typeof credentials === 'function') {
    provider = credentials;
    // An SDK provider the app passed (fromNodeProviderChain(), fromTokenFile()…) marks what it found.
    origin = (resolved) => sdkOrigin(resolved) ?? 'the credentials provider function in the config';
  } else if (credentials !== undefined) {
    provider = () => Promise.resolve(credentials);
    origin = () => 'the static keys in the config';
  } else if (config.AWS_PROFILE) {
    provider = fromIni({ profile: config.AWS_PROFILE });
    origin = () => `the shared config profile "${config.AWS_PROFILE}"`;
  } else {
    provider = fromNodeProviderChain();
    origin = (resolved) => sdkOrigin(resolved) ?? 'the SDK default chain';
  }
  const logger = new Logger('StsService');
  let told = false;
  return async (options) => {
    let resolved: AwsCredentialIdentity;
    try {
      resolved = await provider(options);
    } catch (error) {
      throw providerFailure(error);
    }
    if (!told) {
      told = true;
      logger.debug(`Base identity: from ${origin(resolved)}`);
    }
    return resolved;
  };
}
