import type { STSClient } from '@aws-sdk/client-sts';
import type { ResolvedStsConfig } from '../config/server-aws-sts.config.js';
import type { StsCallEvent } from '../observability/sts-events.js';
import { IdentityOperations } from './identity-operations.js';
import { OutboundFederation } from './outbound-federation.js';
import type { PreparedAssumeRole } from './role-request.js';
import { RoleAssumption } from './role-assumption.js';
import { RootAndDelegatedAccess } from './root-and-delegated-access.js';
import { SessionTokens } from './session-tokens.js';
import { StsSender } from './sts-sender.js';
import type { TemporaryCredentials } from './temporary-credentials.js';

/**
 * The STS operations: validate → send → map. Each settles within `operationTimeoutSeconds`, sends only
 * what it validated (read once from the request, before any wait), emits one `sts-call` event per call and maps
 * every failure to a scrubbed `StsError`. Every request goes through the one `StsSender`, which keeps at most
 * `maxConcurrentStsCalls` of them in flight; a wait for a turn counts against the operation's deadline.
 * The operations come in families, each a collaborator of its own.
 */
export class StsOperations {
  /** GetCallerIdentity (and the account id), DecodeAuthorizationMessage, GetAccessKeyInfo. */
  readonly identity: IdentityOperations;
  /** AssumeRole, AssumeRoleWithWebIdentity, AssumeRoleWithSAML. */
  readonly roles: RoleAssumption;
  /** GetSessionToken, GetFederationToken. */
  readonly sessions: SessionTokens;
  /** AssumeRoot, GetDelegatedAccessToken. */
  readonly rootAndDelegated: RootAndDelegatedAccess;
  /** GetWebIdentityToken. */
  readonly outbound: OutboundFederation;
  private readonly sender: StsSender;

  constructor(
    config: ResolvedStsConfig,
    stsClient: STSClient,
    emit: (event: StsCallEvent) => void,
    /** The (cached) credentials of a role-chaining hop: wired to the credential cache by `StsService`. */
    hopCredentials: (via: PreparedAssumeRole) => Promise<TemporaryCredentials>,
  ) {
    this.sender = new StsSender(config, stsClient, emit);
    this.identity = new IdentityOperations(this.sender);
    this.roles = new RoleAssumption(this.sender, () => this.identity.getAccountId(), hopCredentials);
    this.sessions = new SessionTokens(this.sender);
    this.rootAndDelegated = new RootAndDelegatedAccess(this.sender, stsClient);
    this.outbound = new OutboundFederation(this.sender);
  }

  /** STS's clock: the host clock corrected by the offset the SDK learned from STS's `Date` headers (ms). */
  now(): number {
    return this.sender.now();
  }
}
