import type { TemporaryCredentials } from './temporary-credentials.js';

/** An IAM policy document, given as an object (serialised for you) or as JSON text. */
export type SessionPolicy = string | Record<string, unknown>;

/** A multi-factor device and the code it shows. */
export interface MfaInput {
  /** The MFA device: an ARN (`arn:aws:iam::123456789012:mfa/alice`) or a hardware serial. 9–256 characters. */
  serialNumber: string;
  /**
   * The 6-digit code. In cached requests (`getCredentials`, `credentialProvider`) it may be a function
   * returning the current code: it is called on each refresh. A fixed code serves the first fetch only.
   */
  tokenCode: string | (() => string | Promise<string>);
}

/** Fields every role-assuming request shares. */
interface RoleSessionOptions {
  /** The role to assume: `arn:<partition>:iam::<account>:role/<path/name>`. 20–2048 characters. */
  roleArn: string;
  /** Session lifetime in seconds. 900–43200 and at most `MAX_SESSION_DURATION`. Default: `DEFAULT_SESSION_DURATION` (3600). */
  durationSeconds?: number;
  /** Session policy that narrows the role's permissions, as an object or JSON text. At most 2048 characters once serialised. */
  policy?: SessionPolicy;
  /** Managed policy ARNs that narrow the role's permissions. At most 10. */
  policyArns?: string[];
}

/** Input of `StsService.assumeRole` and of the cached `getCredentials`. */
export interface AssumeRoleRequest extends RoleSessionOptions {
  /**
   * The ExternalId the role's trust policy requires (`sts:ExternalId`). 2–1224 characters of `[\w+=,.@:/-]`.
   * Default (when absent): the config's `EXTERNAL_ID`, if any; `null` is refused (a tenant row without one is not
   * given the shared one).
   */
  externalId?: string;
  /**
   * Session name shown in CloudTrail and in the assumed-role ARN. 2–64 characters of `[\w+=,.@-]`.
   * Default: `<sessionNamePrefix>-<time>-<random>`, a fresh valid name per call.
   */
  sessionName?: string;
  /** Session tags (`key → value`). At most 50; keys 1–128 characters, values 0–256. */
  tags?: Record<string, string>;
  /** Keys of `tags` that pass on to roles assumed by chaining from this session. At most 50. */
  transitiveTagKeys?: string[];
  /** The identity of the person behind the session, kept across role chains. 2–64 characters, not starting with `aws:`. */
  sourceIdentity?: string;
  /** MFA device and code, when the role's trust policy requires `aws:MultiFactorAuthPresent`. */
  mfa?: MfaInput;
  /**
   * Trusted identity propagation (IAM Identity Center): the signed context assertions of the user the session acts
   * for. At most 5; `providerArn` such as `arn:aws:iam::aws:contextProvider/IdentityCenter` (20–2048 characters),
   * `contextAssertion` 4–2048 characters, a secret. Part of the cache key: each user's context gets its own credentials.
   */
  providedContexts?: Array<{ providerArn: string; contextAssertion: string }>;
  /**
   * Role chaining: assume this request first (through the credential cache) and call AssumeRole with its
   * credentials. The chained session is capped at 3600 seconds, as STS requires.
   */
  via?: AssumeRoleRequest;
}

/** Input of `StsService.assumeRoleWithWebIdentity`: exactly one of `webIdentityToken` or `webIdentityTokenFile`. */
export interface AssumeRoleWithWebIdentityRequest extends RoleSessionOptions {
  /** The OIDC / OAuth 2.0 token of the identity provider. 4–20000 characters. */
  webIdentityToken?: string;
  /** A file holding the token (as on EKS: `AWS_WEB_IDENTITY_TOKEN_FILE`). Read at each call, so a rotated token is used. */
  webIdentityTokenFile?: string;
  /** Only for OAuth 2.0 providers such as `www.amazon.com` or `graph.facebook.com`; omit for OIDC. 4–2048 characters. */
  providerId?: string;
  /** Session name, 2–64 characters of `[\w+=,.@-]`. Default: `<sessionNamePrefix>-<time>-<random>`. */
  sessionName?: string;
}

/** Input of `StsService.assumeRoleWithSaml`. */
export interface AssumeRoleWithSamlRequest extends RoleSessionOptions {
  /** The IAM SAML provider: `arn:<partition>:iam::<account>:saml-provider/<name>`. */
  principalArn: string;
  /** The base64-encoded SAML response of the identity provider. 4–100000 characters. */
  samlAssertion: string;
}

/** Input of `StsService.getFederationToken`. */
export interface GetFederationTokenRequest {
  /** The federated user's name, seen in CloudTrail and in its ARN (`federated-user/<name>`). 2–32 characters of `[\w+=,.@-]`. */
  name: string;
  /**
   * Session policy: the federated user may do what both it and the IAM user's policies allow. Without `policy` or
   * `policyArns` the session has no permissions (except what resource policies grant the federated user by name).
   * As an object or JSON text, at most 2048 characters once serialised.
   */
  policy?: SessionPolicy;
  /** Managed policy ARNs (of the IAM user's account) used as session policies. At most 10. */
  policyArns?: string[];
  /** Session lifetime in seconds: 900–129600 (root: at most 3600). Default: 43200. */
  durationSeconds?: number;
  /** Session tags (`key → value`). At most 50; keys 1–128 characters, values 0–256. */
  tags?: Record<string, string>;
}

/** Input of `StsService.assumeRoot`: a root session in a member account of the caller's organization. */
export interface AssumeRootRequest {
  /** The member account to act in as its root user: its 12-digit account id. */
  targetPrincipal: string;
  /**
   * The one privileged task the session may do: the ARN of an AWS managed root-task policy,
   * `arn:aws:iam::aws:policy/root-task/<name>` with `<name>` one of IAMAuditRootUserCredentials,
   * IAMCreateRootUserPassword, IAMDeleteRootUserCredentials, S3UnlockBucketPolicy or SQSUnlockQueuePolicy.
   */
  taskPolicyArn: string;
  /** Session lifetime in seconds: 0–900. Default: 900 (STS's). */
  durationSeconds?: number;
}

/** Input of `StsService.getWebIdentityToken` and `webIdentityTokenProvider`. */
export interface GetWebIdentityTokenRequest {
  /** The `aud` claim: who the token is for (e.g. `https://api.example.com`). 1–10 values of 1–1000 characters. */
  audience: string | string[];
  /** `RS256` or `ES384`. Default: `RS256`. */
  signingAlgorithm?: 'RS256' | 'ES384';
  /** Token lifetime in seconds: 60–3600. Default: 300. */
  durationSeconds?: number;
  /** Custom claims (`key → value`) added to the token. At most 50; keys 1–128 characters, values 0–256. */
  tags?: Record<string, string>;
  /** The `scope` claim (space-separated values); only with `subjectMode: 'OriginIdentity'` and one audience. */
  scope?: string;
  /** Whose identity the `sub` claim holds: the AWS principal (`AWSIdentity`, default) or the propagated user. */
  subjectMode?: 'AWSIdentity' | 'OriginIdentity';
}

/** Input of `StsService.getSessionToken`. */
export interface GetSessionTokenRequest {
  /** Session lifetime in seconds: 900–129600 (root: at most 3600). Default: 43200. */
  durationSeconds?: number;
  /** MFA device and code, for MFA-protected API access. */
  mfa?: MfaInput;
}

/** What `StsService.getCallerIdentity` returns. */
export interface CallerIdentity {
  /** The 12-digit AWS account id. */
  account: string;
  /** The ARN of the caller. */
  arn: string;
  /** The unique id of the caller (`AIDA…`, `AROA…:session`, or the account id for root). */
  userId: string;
  /** The kind of principal, read from the ARN. */
  type: 'user' | 'role' | 'assumed-role' | 'federated-user' | 'root' | 'unknown';
}

/** What `StsService.checkExpiration` returns. */
export interface ExpirationStatus {
  /** True once `expiration` has passed. */
  isExpired: boolean;
  /** True when fewer than `bufferSeconds` remain (and so also when expired). */
  isNearExpiration: boolean;
  /** Whole seconds left, 0 when expired. */
  remainingSeconds: number;
  /** When the credentials expire. */
  expiration: Date;
}

/** Result of `StsService.validateAccess`: never thrown for an access failure. */
export type AccessCheckResult =
  | {
      ok: true;
      accountId: string;
      arn: string;
      expiration: Date;
      /**
       * Whether the role refused the same request with two wrong ExternalIds: a random one, and the customer's own
       * with its last character changed. `false` is the confused-deputy hole (anyone who knows the role's ARN gets
       * in), or a wildcard condition such as `StringLike "tenant-*"`. Also `false` for a request that carries no
       * ExternalId at all. `undefined` when it is not known: a request with MFA is not probed (an MFA code cannot be
       * sent twice), or a probe failed for another reason than `AccessDenied` (throttling, a timeout). `true` does not
       * prove the condition names only this value: a list naming other customers' values passes too.
       */
      externalIdEnforced: boolean | undefined;
    }
  | { ok: false; error: import('../errors/sts-error.js').StsError };

/** Options of `StsService.validateAccess`. */
export interface AccessCheckOptions {
  /**
   * Treat a role that lets this app in with a wrong ExternalId as a failure: `{ ok: false }` with the code
   * `ExternalIdNotEnforced`; and one not checked (a request with MFA, which is not probed, or a probe that failed,
   * whose error is the `cause`) with `ExternalIdNotChecked`. Default: false (the result says `externalIdEnforced`).
   */
  requireExternalIdEnforced?: boolean;
}

/** One result of `StsService.assumeRoleInAccounts`, in the order of the requests. */
export type AccountAssumeResult =
  | { ok: true; accountId: string; credentials: TemporaryCredentials }
  | { ok: false; accountId: string; error: import('../errors/sts-error.js').StsError };

/** One statement of a policy that decided an authorization, as `explainAuthorizationFailure` reports it. */
export interface AuthorizationStatement {
  /** The statement's `Sid`, when it has one. */
  statementId?: string;
  /** `ALLOW` or `DENY`. */
  effect?: string;
  /** The actions the statement names. */
  actions: string[];
  /** The resources the statement names. */
  resources: string[];
}

/** What `StsService.explainAuthorizationFailure` returns: the decoded message, its `{ items: [...] }` lists flattened. */
export interface AuthorizationFailureExplanation {
  /** Whether the request was allowed (false for a denial). */
  allowed: boolean;
  /** True when a policy denied it explicitly; false when nothing allowed it (an implicit deny). */
  explicitDeny: boolean;
  /** The statements that matched the request. */
  matchedStatements: AuthorizationStatement[];
  /** The principal that made the request. */
  principal: { id?: string; name?: string; arn?: string };
  /** The action denied, e.g. `ec2:RunInstances`. */
  action: string;
  /** The resource the action was asked on. */
  resource: string;
  /** The request context: condition keys and their values. */
  conditions: Array<{ key: string; values: string[] }>;
  /** The decoded JSON document as STS returned it. */
  decoded: Record<string, unknown>;
}

/** What `StsService.getAccessKeyInfo` returns. */
export interface AccessKeyInfo {
  /** The 12-digit id of the account that owns the access key. */
  account: string;
}
