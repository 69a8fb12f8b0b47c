import type {
  AssumeRoleCommand,
  AssumeRoleCommandOutput,
  AssumeRoleWithSAMLCommand,
  AssumeRoleWithSAMLCommandOutput,
  AssumeRoleWithWebIdentityCommand,
  AssumeRoleWithWebIdentityCommandOutput,
  AssumeRootCommand,
  AssumeRootCommandOutput,
  DecodeAuthorizationMessageCommand,
  DecodeAuthorizationMessageCommandOutput,
  GetAccessKeyInfoCommand,
  GetAccessKeyInfoCommandOutput,
  GetCallerIdentityCommand,
  GetCallerIdentityCommandOutput,
  GetDelegatedAccessTokenCommand,
  GetDelegatedAccessTokenCommandOutput,
  GetFederationTokenCommand,
  GetFederationTokenCommandOutput,
  GetSessionTokenCommand,
  GetSessionTokenCommandOutput,
  GetWebIdentityTokenCommand,
  GetWebIdentityTokenCommandOutput,
  STSClient,
} from '@aws-sdk/client-sts';
import type { ResolvedStsConfig } from '../config/server-aws-sts.config.js';
import { stsClientSignedBy } from '../config/sts-client.factory.js';
import { toStsError, type StsOperation } from '../errors/sts-error.js';
import { FailureLog } from '../observability/failure-log.js';
import type { StsCallEvent } from '../observability/sts-events.js';
import { withDeadline } from './operation-deadline.js';
import { StsCallLimit } from './sts-call-limit.js';
import { followClockOffset, type StsClockOffset } from './sts-clock-offset.js';
import type { TemporaryCredentials } from './temporary-credentials.js';

/** Non-secret facts of a call, for events and logs. */
export interface CallContext {
  /** False when a refusal is the answer the caller expects (the ExternalId probe): it is not logged. */
  logFailure?: boolean;
  roleArn?: string;
  accountId?: string;
  sessionName?: string;
  sourceIdentity?: string;
  /** Request inputs that must never show in an error or a log. */
  secrets: string[];
  /** Cancels the HTTP request when the operation's deadline passes. */
  signal: AbortSignal;
}

/** What each STS operation answers. */
interface StsOutputs {
  AssumeRole: AssumeRoleCommandOutput;
  AssumeRoleWithWebIdentity: AssumeRoleWithWebIdentityCommandOutput;
  AssumeRoleWithSAML: AssumeRoleWithSAMLCommandOutput;
  GetSessionToken: GetSessionTokenCommandOutput;
  GetCallerIdentity: GetCallerIdentityCommandOutput;
  DecodeAuthorizationMessage: DecodeAuthorizationMessageCommandOutput;
  GetAccessKeyInfo: GetAccessKeyInfoCommandOutput;
  GetFederationToken: GetFederationTokenCommandOutput;
  GetWebIdentityToken: GetWebIdentityTokenCommandOutput;
  AssumeRoot: AssumeRootCommandOutput;
  GetDelegatedAccessToken: GetDelegatedAccessTokenCommandOutput;
}

type StsCommand =
  | AssumeRoleCommand
  | AssumeRoleWithWebIdentityCommand
  | AssumeRoleWithSAMLCommand
  | GetSessionTokenCommand
  | GetCallerIdentityCommand
  | DecodeAuthorizationMessageCommand
  | GetAccessKeyInfoCommand
  | GetFederationTokenCommand
  | GetWebIdentityTokenCommand
  | AssumeRootCommand
  | GetDelegatedAccessTokenCommand;

/**
 * The one send path of every STS operation: the operation's deadline (`operationTimeoutSeconds`), a turn of the
 * instance-wide call limit (`maxConcurrentStsCalls`; a wait for a turn counts against the deadline), one `sts-call`
 * event per call, and every failure mapped to a scrubbed `StsError` (and logged, rate-limited).
 */
export class StsSender {
  private readonly failures = new FailureLog();
  private readonly turns: StsCallLimit;
  /** The offset the SDK learned from STS's `Date` headers (ms), followed as it writes it (see `followClockOffset`). */
  private readonly clockOffset: StsClockOffset;

  constructor(
    readonly config: ResolvedStsConfig,
    private readonly stsClient: STSClient,
    private readonly emit: (event: StsCallEvent) => void,
  ) {
    this.turns = new StsCallLimit(config.maxConcurrentStsCalls);
    this.clockOffset = followClockOffset(stsClient.config);
  }

  /** STS's clock: the host clock corrected by the offset the SDK learned from STS's `Date` headers (ms). */
  now(): number {
    return Date.now() + this.clockOffset.offset;
  }

  /** A client signed by `credentials`, on the module client's sockets (a role-chaining hop, an access check). */
  signedBy(credentials: TemporaryCredentials): STSClient {
    return stsClientSignedBy(this.stsClient, this.config, credentials);
  }

  /** Runs `work` within the operation's deadline; `signal` aborts when it passes. */
  bounded<T>(operation: StsOperation, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(operation, this.config.operationTimeoutMs, work);
  }

  /**
   * Sends one command in a turn of the instance's STS call limit, emits its event, and maps a failure to a scrubbed
   * `StsError`. A caller whose deadline passes while it waits for a turn sent nothing: it rejects without an event.
   */
  send<Operation extends keyof StsOutputs>(
    operation: Operation,
    command: StsCommand,
    context: CallContext,
    client: STSClient = this.stsClient,
  ): Promise<StsOutputs[Operation]> {
    return this.turns.run(context.signal, () => this.sendNow(operation, command, context, client));
  }

  private async sendNow<Operation extends keyof StsOutputs>(
    operation: Operation,
    command: StsCommand,
    context: CallContext,
    client: STSClient,
  ): Promise<StsOutputs[Operation]> {
    const started = performance.now();
    const { secrets, signal, logFailure = true, ...facts } = context;
    try {
      const output = (await client.send(command as never, { abortSignal: signal })) as StsOutputs[Operation];
      this.emit({ type: 'sts-call', operation, ...facts, outcome: 'success', durationMs: performance.now() - started });
      return output;
    } catch (error) {
      const stsError = toStsError(signal.aborted ? signal.reason : error, operation, secrets);
      this.emit({
        type: 'sts-call',
        operation,
        ...facts,
        outcome: 'error',
        errorCode: stsError.code,
        durationMs: performance.now() - started,
      });
      if (logFailure) this.failures.report(stsError, facts.roleArn);
      throw stsError;
    }
  }
}
