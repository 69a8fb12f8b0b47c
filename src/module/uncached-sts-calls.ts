import type { ResolvedStsConfig } from '../config/server-aws-sts.config.js';
import { prepareAssumeRole } from '../sts/role-request.js';
import type { StsOperations } from '../sts/sts-operations.js';
import type {
  AccessKeyInfo,
  AssumeRoleRequest,
  AssumeRoleWithSamlRequest,
  AssumeRoleWithWebIdentityRequest,
  AssumeRootRequest,
  AuthorizationFailureExplanation,
  CallerIdentity,
  GetFederationTokenRequest,
  GetSessionTokenRequest,
  GetWebIdentityTokenRequest,
} from '../sts/sts-request.types.js';
import type { TemporaryCredentials } from '../sts/temporary-credentials.js';
import type { WebIdentityToken } from '../sts/web-identity-token.js';

/**
 * The uncached STS operations of `StsService` (its base class: users inject `StsService`): each call goes to STS
 * through `StsOperations`, validated first, within `operationTimeoutSeconds`.
 */
export class UncachedStsCalls {
  readonly #operations: StsOperations;
  readonly #config: ResolvedStsConfig;

  constructor(operations: StsOperations, config: ResolvedStsConfig) {
    this.#operations = operations;
    this.#config = config;
  }

  /** Who the base identity is. GetCallerIdentity needs no IAM permission. */
  getCallerIdentity(): Promise<CallerIdentity> {
    return this.#operations.identity.getCallerIdentity();
  }

  /** The base identity's 12-digit account id, asked of STS once and remembered (a failure is not). */
  getAccountId(): Promise<string> {
    return this.#operations.identity.getAccountId();
  }

  /**
   * AssumeRole, uncached: every call goes to STS. For repeated use prefer the cached `getCredentials`.
   * Validates every field first; with `requireExternalId`, refuses a cross-account request without its own ExternalId.
   */
  assumeRole(request: AssumeRoleRequest): Promise<TemporaryCredentials> {
    try {
      return this.#operations.roles.assumeRole(prepareAssumeRole(request, this.#config));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * AssumeRoleWithWebIdentity (OIDC, EKS service accounts): an unsigned call. A `webIdentityTokenFile` is read
   * at each call, so a rotated token is always the one sent.
   */
  assumeRoleWithWebIdentity(request: AssumeRoleWithWebIdentityRequest): Promise<TemporaryCredentials> {
    return this.#operations.roles.assumeRoleWithWebIdentity(request);
  }

  /** AssumeRoleWithSAML: an unsigned call with the identity provider's base64 SAML response. */
  assumeRoleWithSaml(request: AssumeRoleWithSamlRequest): Promise<TemporaryCredentials> {
    return this.#operations.roles.assumeRoleWithSaml(request);
  }

  /** GetSessionToken: temporary credentials for the base IAM user, optionally MFA-authenticated. */
  getSessionToken(request: GetSessionTokenRequest = {}): Promise<TemporaryCredentials> {
    return this.#operations.sessions.getSessionToken(request);
  }

  /**
   * GetWebIdentityToken (outbound identity federation), uncached: a JWT STS signs for the base identity, to
   * authenticate to a service outside AWS (GCP, Azure, Snowflake, an API) with no stored secret. The account must
   * have enabled outbound federation in IAM (`OutboundWebIdentityFederationDisabled` otherwise); the token cannot
   * outlive the calling session (`SessionDurationEscalation`). Not on the global endpoint: use a regional one.
   * For repeated use prefer the cached `webIdentityToken` or `webIdentityTokenProvider`.
   */
  getWebIdentityToken(request: GetWebIdentityTokenRequest): Promise<WebIdentityToken> {
    return this.#operations.outbound.getWebIdentityToken(request);
  }

  /**
   * GetFederationToken, uncached: a session for a federated user (`name`) of the base IAM user, whose permissions
   * are what both the session policy (`policy`, `policyArns`) and the IAM user's policies allow — without a session
   * policy it has none. For a proxy that hands its own users scoped AWS access (a console sign-in link, a broker).
   * Needs the long-term keys of an IAM user (a role or a session is refused with AccessDenied). The credentials carry
   * `federatedUser` and `accountId`.
   */
  getFederationToken(request: GetFederationTokenRequest): Promise<TemporaryCredentials> {
    return this.#operations.sessions.getFederationToken(request);
  }

  /**
   * AssumeRoot, uncached: a session of a member account's root user for one privileged task (Organizations centralized
   * root access), for an admin tool of the management account or of the delegated administrator account for IAM.
   * `taskPolicyArn` names one of the five AWS managed root-task policies; at most 900 s. Refused before sending
   * (`InvalidConfiguration`) when the STS client resolves the global endpoint, which does not serve it.
   * `AccessDenied` when centralized root access is not enabled, the caller may not, or the target is not a member.
   */
  assumeRoot(request: AssumeRootRequest): Promise<TemporaryCredentials> {
    return this.#operations.rootAndDelegated.assumeRoot(request);
  }

  /**
   * GetDelegatedAccessToken, uncached: the exchange step of IAM temporary delegation — a partner app turns the
   * trade-in token of a customer's approved delegation into credentials of the customer's principal (`assumedPrincipal`,
   * `accountId`). `ExpiredTradeInToken` once the token has expired. The token is never logged nor put in an event.
   */
  getDelegatedAccessToken(tradeInToken: string): Promise<TemporaryCredentials> {
    return this.#operations.rootAndDelegated.getDelegatedAccessToken(tradeInToken);
  }

  /**
   * DecodeAuthorizationMessage: why AWS denied a request. Pass the encoded message an AWS service appended to its
   * AccessDenied (`Encoded authorization failure message: …`), or the error itself — an `StsError` whose hint
   * says it carries one, or the service's own error. Returns the decoded document, its lists flattened: allowed,
   * explicitDeny, the matched statements, the principal, action, resource and condition keys. The base identity
   * needs `sts:DecodeAuthorizationMessage`. The encoded message is never logged, nor put in an event or error.
   */
  explainAuthorizationFailure(encodedMessageOrError: string | Error): Promise<AuthorizationFailureExplanation> {
    return this.#operations.identity.explainAuthorizationFailure(encodedMessageOrError);
  }

  /**
   * GetAccessKeyInfo: the account that owns an access key id (`AKIA…` or `ASIA…`; 16–128 characters of `[\w]`),
   * for support's "whose key is this?". Needs no permission on the key's account; the key id is not logged.
   */
  getAccessKeyInfo(accessKeyId: string): Promise<AccessKeyInfo> {
    return this.#operations.identity.getAccessKeyInfo(accessKeyId);
  }
}
