// The public API: every name here is documented in the README ("Exports").
export { ServerAwsStsModule } from './server-aws-sts.module';
export { ServerAwsStsConfig, type CredentialCacheOptions } from './server-aws-sts.config';
export { StsService } from './sts.service';
export type { CredentialCacheControl } from './cached-credentials';
export type { FanOutOptions } from './account-checks';
export type { CredentialCacheStats } from './credential-cache';
export { STS_CLIENT } from './sts.constants';
export { InjectStsClient } from './sts.decorators';
export { STS_LIMITS } from './sts-limits';
export { StsError, StsValidationError, type StsErrorDetails, type StsOperation } from './sts-error';
export { TemporaryCredentials, type TemporaryCredentialsDetails } from './temporary-credentials';
export type { StsEvent, StsCallEvent, CacheEvent, CacheEntryInfo } from './sts-events';
export type * from './sts-request.types';
