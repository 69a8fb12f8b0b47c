// The public API: every name here is documented in docs/reference/exports.md.
export { ServerAwsStsModule } from './module/server-aws-sts.module.js';
export { ServerAwsStsConfig, type ClientPoolOptions, type MetricsOptions } from './config/server-aws-sts.config.js';
export type { CredentialCacheOptions, KeepWarmOptions, SharedCacheOptions } from './config/cache-options.js';
export type { SharedEncryptionKey } from './cache/shared/credential-envelope.js';
export type { SharedRedisClient, SharedRedisSubscriber } from './cache/shared/ioredis-store.js';
export type { SharedNodeRedisClient, SharedNodeRedisCluster, SharedNodeRedisSubscriber } from './cache/shared/node-redis-store.js';
export type { SharedTierStats } from './cache/shared-tier-stats.js';
export type { ClientPoolStats } from './clients/client-pool.js';
export { StsService } from './module/sts.service.js';
export { StsTenantMiddleware } from './tenant/sts-tenant.middleware.js';
export type { CurrentTenant } from './tenant/current-tenant.js';
export type { RequestTenantOptions } from './tenant/request-tenant-options.js';
export type { CredentialCacheControl } from './module/credential-cache-control.js';
export type { FanOutOptions } from './account-checks/account-checks.js';
export type { CredentialCacheStats } from './cache/credential-cache-stats.js';
export { STS_CLIENT } from './module/sts.constants.js';
export { InjectStsClient } from './module/sts.decorators.js';
export { STS_LIMITS } from './sts/sts-limits.js';
export { StsError, StsValidationError, type StsErrorDetails, type StsOperation } from './errors/sts-error.js';
export { isStsErrorCode, type StsErrorCode } from './errors/error-codes.js';
export { StsExceptionFilter } from './http/sts-exception.filter.js';
export { toStsHttpException, StsHttpException, type StsHttpErrorBody } from './http/sts-http-exception.js';
export { TemporaryCredentials, type TemporaryCredentialsDetails } from './sts/temporary-credentials.js';
export { WebIdentityToken } from './sts/web-identity-token.js';
export type { StsEvent, StsCallEvent, CacheEvent, CacheEntryInfo, SharedTierEvent } from './observability/sts-events.js';
export type {
  AccessCheckOptions,
  AccessCheckResult,
  AccessKeyInfo,
  AccountAssumeResult,
  AssumeRoleRequest,
  AssumeRoleWithSamlRequest,
  AssumeRoleWithWebIdentityRequest,
  AuthorizationFailureExplanation,
  AuthorizationStatement,
  CallerIdentity,
  ExpirationStatus,
  GetFederationTokenRequest,
  AssumeRootRequest,
  GetSessionTokenRequest,
  GetWebIdentityTokenRequest,
  MfaInput,
  SessionPolicy,
} from './sts/sts-request.types.js';
export { generateExternalId } from './onboarding/external-id.js';
export { trustPolicy, type TrustPolicyOptions, type TrustPolicyDocument } from './onboarding/trust-policy.js';
export { customerRoleTemplate, type CustomerRoleTemplateOptions, type CustomerRoleTemplate } from './onboarding/customer-role-template.js';
export { quickCreateUrl, type QuickCreateUrlOptions } from './onboarding/quick-create-url.js';
export { customerRoleTerraform } from './onboarding/customer-role-terraform.js';
export { rotationTrustPolicy, type RotationTrustPolicyOptions } from './onboarding/external-id-rotation.js';
