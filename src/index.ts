export { ServerAwsStsModule } from './server-aws-sts.module';
export { STS_MODULE_OPTIONS, STS_OPTIONS_TYPE, STS_ASYNC_OPTIONS_TYPE } from './server-aws-sts.module-definition';
export { ServerAwsStsConfig, resolveStsConfig, type CredentialCacheOptions, type ResolvedStsConfig } from './server-aws-sts.config';
export { StsService } from './sts.service';
export { STS_CLIENT, STS_RESOLVED_CONFIG, STS_LIMITS } from './sts.constants';
export { StsError, StsValidationError, type StsErrorDetails, type StsOperation } from './sts-error';
export { TemporaryCredentials, type TemporaryCredentialsDetails } from './temporary-credentials';
export type { StsEvent, StsCallEvent, CacheEvent, CacheEntryInfo } from './sts-events';
export type * from './sts-request.types';
