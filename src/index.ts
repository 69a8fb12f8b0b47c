// The public API: every name here is documented in the README ("Exports").
export { ServerAwsStsModule } from './server-aws-sts.module.js';
export { ServerAwsStsConfig, type ClientPoolOptions, type MetricsOptions } from './server-aws-sts.config.js';
export type { CredentialCacheOptions, KeepWarmOptions, SharedCacheOptions } from './cache-options.js';
export type { SharedEncryptionKey } from './shared/credential-envelope.js';
export type { SharedRedisClient, SharedRedisSubscriber } from './shared/ioredis-store.js';
export type { SharedNodeRedisClient, SharedNodeRedisCluster, SharedNodeRedisSubscriber } from './shared/node-redis-store.js';
export type { SharedTierStats } from './shared/shared-tier.js';
export type { ClientPoolStats } from './client-pool.js';
export { StsService } from './sts.service.js';
export { StsTenantMiddleware } from './tenant/sts-tenant.middleware.js';
export type { CurrentTenant } from './tenant/current-tenant.js';
export type { RequestTenantOptions } from './tenant/request-tenant-options.js';
export type { CredentialCacheControl } from './cached-credentials.js';
export type { FanOutOptions } from './account-checks.js';
export type { CredentialCacheStats } from './credential-cache.js';
export { STS_CLIENT } from './sts.constants.js';
export { InjectStsClient } from './sts.decorators.js';
export { STS_LIMITS } from './sts-limits.js';
export { StsError, StsValidationError, type StsErrorDetails, type StsOperation } from './sts-error.js';
export { StsExceptionFilter } from './http/sts-exception.filter.js';
export { toStsHttpException, StsHttpException, type StsHttpErrorBody } from './http/sts-http-exception.js';
export { TemporaryCredentials, type TemporaryCredentialsDetails } from './temporary-credentials.js';
export type { StsEvent, StsCallEvent, CacheEvent, CacheEntryInfo, SharedTierEvent } from './sts-events.js';
export type {
  AccessCheckOptions,
  AccessCheckResult,
  AccountAssumeResult,
  AssumeRoleRequest,
  AssumeRoleWithSamlRequest,
  AssumeRoleWithWebIdentityRequest,
  CallerIdentity,
  ExpirationStatus,
  GetSessionTokenRequest,
  MfaInput,
  SessionPolicy,
} from './sts-request.types.js';
export { generateExternalId } from './onboarding/external-id.js';
export { trustPolicy, type TrustPolicyOptions, type TrustPolicyDocument } from './onboarding/trust-policy.js';
export { customerRoleTemplate, type CustomerRoleTemplateOptions, type CustomerRoleTemplate } from './onboarding/customer-role-template.js';
export { quickCreateUrl, type QuickCreateUrlOptions } from './onboarding/quick-create-url.js';
