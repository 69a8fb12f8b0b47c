import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import {
  AssumeRoleCommand,
  AssumeRoleWithSAMLCommand,
  AssumeRoleWithWebIdentityCommand,
  AssumeRootCommand,
  DecodeAuthorizationMessageCommand,
  GetAccessKeyInfoCommand,
  GetCallerIdentityCommand,
  GetDelegatedAccessTokenCommand,
  GetFederationTokenCommand,
  GetWebIdentityTokenCommand,
  GetSessionTokenCommand,
  type AssumeRoleCommandOutput,
  type AssumeRoleWithSAMLCommandOutput,
  type AssumeRoleWithWebIdentityCommandOutput,
  type AssumeRootCommandOutput,
  type Credentials,
  type DecodeAuthorizationMessageCommandOutput,
  type GetAccessKeyInfoCommandOutput,
  type GetDelegatedAccessTokenCommandOutput,
  type GetFederationTokenCommandOutput,
  type GetWebIdentityTokenCommandOutput,
  type GetCallerIdentityCommandOutput,
  type GetSessionTokenCommandOutput,
  type STSClient,
} from '@aws-sdk/client-sts';
import { FailureLog } from '../observability/failure-log.js';
import { withDeadline } from './operation-deadline.js';
import { prepareRoleSession, roleSessionCommandInput, type PreparedAssumeRole } from './role-request.js';
import type { ResolvedStsConfig } from '../config/server-aws-sts.config.js';
import { StsCallLimit } from './sts-call-limit.js';
import { stsClientSignedBy } from '../config/sts-client.factory.js';
import { sendsToGlobalStsEndpoint } from '../config/sts-endpoint.js';
import { validateAssumeRootRequest } from './assume-root.js';
import { STS_LIMITS } from './sts-limits.js';
import { encodedAuthorizationMessageOf, StsError, toStsError, type StsOperation } from '../errors/sts-error.js';
import { explainDecodedMessage } from './authorization-message.js';
import type { StsCallEvent } from '../observability/sts-events.js';
import type {
  AccessKeyInfo,
  AssumeRoleWithSamlRequest,
  AssumeRoleWithWebIdentityRequest,
  AssumeRootRequest,
  AuthorizationFailureExplanation,
  CallerIdentity,
  GetFederationTokenRequest,
  GetSessionTokenRequest,
  GetWebIdentityTokenRequest,
  MfaInput,
} from './sts-request.types.js';
import { WebIdentityToken } from './web-identity-token.js';
import { RequestValidator, validateWebIdentityTokenRequest } from './sts-validation.js';
import { TemporaryCredentials, type TemporaryCredentialsDetails } from './temporary-credentials.js';

/** Non-secret facts of a call, for events and logs. */
interface CallContext {
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

const PRINCIPAL_TYPES: ReadonlyArray<[RegExp, CallerIdentity['type']]> = [
  [/^arn:[^:]+:iam::\d{12}:root$/, 'root'],
  [/^arn:[^:]+:iam::\d{12}:user\//, 'user'],
  [/^arn:[^:]+:iam::\d{12}:role\//, 'role'],
  [/^arn:[^:]+:sts::\d{12}:assumed-role\//, 'assumed-role'],
  [/^arn:[^:]+:sts::\d{12}:federated-user\//, 'federated-user'],
];

/** The kind of principal an ARN names, as `getCallerIdentity` reports it. */
export function principalTypeOf(arn: string): CallerIdentity['type'] {
  return PRINCIPAL_TYPES.find(([pattern]) => pattern.test(arn))?.[1] ?? 'unknown';
}

/**
 * The STS operations: validate → send → map. Each settles within `operationTimeoutSeconds`, sends only
 * what it validated (read once from the request, before any wait), emits one `sts-call` event per call and maps
 * every failure to a scrubbed `StsError`. Every request goes through `send`, which keeps at most
 * `maxConcurrentStsCalls` of them in flight; a wait for a turn counts against the operation's deadline.
 */
export class StsOperations {
  private readonly failures = new FailureLog();
  private readonly turns: StsCallLimit;
  private accountId?: Promise<string>;
  /** Whether the client resolves STS's global endpoint: fixed by its config, so asked of the SDK once. */
  private globalEndpoint?: Promise<boolean>;

  constructor(
    private readonly config: ResolvedStsConfig,
    private readonly stsClient: STSClient,
    private readonly emit: (event: StsCallEvent) => void,
    /** The (cached) credentials of a role-chaining hop: wired to the credential cache by `StsService`. */
    private readonly hopCredentials: (via: PreparedAssumeRole) => Promise<TemporaryCredentials>,
  ) {
    this.turns = new StsCallLimit(config.maxConcurrentStsCalls);
  }

  /** STS's clock: the host clock corrected by the offset the SDK learned from STS's `Date` headers (ms). */
  now(): number {
    return Date.now() + (this.stsClient.config?.systemClockOffset ?? 0);
  }

  getCallerIdentity(): Promise<CallerIdentity> {
    return this.bounded('GetCallerIdentity', async (signal) => {
      const output = await this.send('GetCallerIdentity', new GetCallerIdentityCommand({}), { secrets: [], signal });
      const arn = output.Arn ?? '';
      const type = principalTypeOf(arn);
      return { account: output.Account ?? '', arn, userId: output.UserId ?? '', type };
    });
  }

  getAccountId(): Promise<string> {
    this.accountId ??= this.getCallerIdentity().then(
      (identity) => identity.account,
      (error: unknown) => {
        this.accountId = undefined;
        throw error;
      },
    );
    return this.accountId;
  }

  /**
   * AssumeRole with a prepared request: the only place an AssumeRole command is built. A `probe` (validateAccess's
   * check that the role demands its ExternalId) hopes to be refused: its refusal is not logged.
   */
  assumeRole(prepared: PreparedAssumeRole, { probe = false } = {}): Promise<TemporaryCredentials> {
    return this.bounded('AssumeRole', async (signal) => {
      const validate = new RequestValidator('AssumeRole');
      if (this.config.requireExternalId && !prepared.ownExternalId) {
        const callerAccount = prepared.via ? prepared.via.accountId : await this.getAccountId();
        validate.require(
          callerAccount === prepared.accountId,
          'externalId',
          'is required to assume a role in another account (requireExternalId is on; EXTERNAL_ID does not count)',
        );
      }
      // Last, so a one-time code is not spent on a request refused above.
      const tokenCode = await this.resolveTokenCode(validate, prepared.tokenCode);
      const sessionName = prepared.input.RoleSessionName ?? this.generateSessionName();
      const command = new AssumeRoleCommand({
        ...prepared.input,
        ...roleSessionCommandInput(prepared.input),
        Tags: prepared.input.Tags?.map(({ Key, Value }) => ({ Key, Value })),
        TransitiveTagKeys: prepared.input.TransitiveTagKeys && [...prepared.input.TransitiveTagKeys],
        ProvidedContexts: prepared.input.ProvidedContexts?.map(({ ProviderArn, ContextAssertion }) => ({ ProviderArn, ContextAssertion })),
        RoleSessionName: sessionName,
        TokenCode: tokenCode,
      });
      const context: CallContext = {
        logFailure: !probe,
        roleArn: prepared.input.RoleArn,
        accountId: prepared.accountId,
        sessionName,
        sourceIdentity: prepared.input.SourceIdentity,
        secrets: [
          prepared.input.ExternalId,
          tokenCode,
          ...(prepared.input.ProvidedContexts ?? []).map(({ ContextAssertion }) => ContextAssertion),
        ].filter((secret): secret is string => secret !== undefined),
        signal,
      };
      const client = prepared.via
        ? stsClientSignedBy(this.stsClient, this.config, await this.hopCredentials(prepared.via))
        : this.stsClient;
      const output = await this.send('AssumeRole', command, context, client);
      return this.toCredentials('AssumeRole', output, prepared.accountId);
    });
  }

  assumeRoleWithWebIdentity(request: AssumeRoleWithWebIdentityRequest): Promise<TemporaryCredentials> {
    const operation = 'AssumeRoleWithWebIdentity';
    return this.bounded(operation, async (signal) => {
      const validate = new RequestValidator(operation);
      validate.request(request);
      const { webIdentityToken, webIdentityTokenFile, providerId, sessionName: givenSessionName } = request;
      const { session, accountId } = prepareRoleSession(validate, request, false, this.config);
      validate.require(
        (webIdentityToken === undefined) !== (webIdentityTokenFile === undefined),
        'webIdentityToken',
        'give exactly one of webIdentityToken or webIdentityTokenFile',
      );
      if (webIdentityTokenFile !== undefined)
        validate.text(webIdentityTokenFile, 'webIdentityTokenFile', { max: 4_096 }, 'characters of a file path,');
      validate.optionalText(providerId, 'providerId', STS_LIMITS.providerId);
      validate.sessionName(givenSessionName);
      const token = webIdentityToken ?? (await this.readTokenFile(webIdentityTokenFile as string));
      validate.text(token, 'webIdentityToken', STS_LIMITS.webIdentityToken);

      const sessionName = givenSessionName ?? this.generateSessionName();
      const output = await this.send(
        operation,
        new AssumeRoleWithWebIdentityCommand({
          ...roleSessionCommandInput(session),
          RoleSessionName: sessionName,
          WebIdentityToken: token,
          ProviderId: providerId,
        }),
        { roleArn: session.RoleArn, accountId, sessionName, secrets: [token], signal },
      );
      return this.toCredentials(operation, output, accountId, {
        subjectFromWebIdentityToken: output.SubjectFromWebIdentityToken,
        audience: output.Audience,
        provider: output.Provider,
      });
    });
  }

  assumeRoleWithSaml(request: AssumeRoleWithSamlRequest): Promise<TemporaryCredentials> {
    const operation = 'AssumeRoleWithSAML';
    return this.bounded(operation, async (signal) => {
      const validate = new RequestValidator(operation);
      validate.request(request);
      const { principalArn, samlAssertion } = request;
      const { session, accountId } = prepareRoleSession(validate, request, false, this.config);
      validate.samlProviderArn(principalArn);
      validate.text(samlAssertion, 'samlAssertion', STS_LIMITS.samlAssertion);

      const output = await this.send(
        operation,
        new AssumeRoleWithSAMLCommand({ ...roleSessionCommandInput(session), PrincipalArn: principalArn, SAMLAssertion: samlAssertion }),
        { roleArn: session.RoleArn, accountId, secrets: [samlAssertion], signal },
      );
      return this.toCredentials(operation, output, accountId, {
        subject: output.Subject,
        subjectType: output.SubjectType,
        issuer: output.Issuer,
        audience: output.Audience,
        nameQualifier: output.NameQualifier,
      });
    });
  }

  getSessionToken(request: GetSessionTokenRequest = {}): Promise<TemporaryCredentials> {
    const operation = 'GetSessionToken';
    return this.bounded(operation, async (signal) => {
      const validate = new RequestValidator(operation);
      validate.request(request);
      const { durationSeconds } = request;
      const { min, max } = STS_LIMITS.sessionTokenDuration;
      if (durationSeconds !== undefined) validate.integer(durationSeconds, 'durationSeconds', min, max);
      const mfa = validate.mfa(request.mfa);
      const tokenCode = await this.resolveTokenCode(validate, mfa?.tokenCode);

      const output = await this.send(
        operation,
        new GetSessionTokenCommand({ DurationSeconds: durationSeconds, SerialNumber: mfa?.serialNumber, TokenCode: tokenCode }),
        { secrets: tokenCode ? [tokenCode] : [], signal },
      );
      return this.toCredentials(operation, output, undefined);
    });
  }

  /**
   * DecodeAuthorizationMessage: the encoded message is given as is, or read from an error that carries one (an
   * `StsError` keeps it aside; any other error, in its message). The message is a secret: never in an event or error.
   */
  explainAuthorizationFailure(encodedMessageOrError: string | Error): Promise<AuthorizationFailureExplanation> {
    const operation = 'DecodeAuthorizationMessage';
    return this.bounded(operation, async (signal) => {
      const validate = new RequestValidator(operation);
      const encoded =
        typeof encodedMessageOrError === 'string' ? encodedMessageOrError : encodedAuthorizationMessageOf(encodedMessageOrError);
      validate.require(
        encoded !== undefined,
        'encodedMessage',
        'must be an encoded authorization failure message, or an error that carries one',
      );
      validate.text(encoded, 'encodedMessage', STS_LIMITS.encodedAuthorizationMessage);
      const output = await this.send(operation, new DecodeAuthorizationMessageCommand({ EncodedMessage: encoded }), {
        secrets: [encoded as string],
        signal,
      });
      const explanation = explainDecodedMessage(output.DecodedMessage ?? '');
      if (!explanation)
        throw new StsError(`${operation} returned no JSON document`, { code: 'InvalidResponse', operation, retryable: true });
      return explanation;
    });
  }

  /** GetAccessKeyInfo: the account that owns an access key id. The key id is not sent to events or logs. */
  getAccessKeyInfo(accessKeyId: string): Promise<AccessKeyInfo> {
    const operation = 'GetAccessKeyInfo';
    return this.bounded(operation, async (signal) => {
      new RequestValidator(operation).text(accessKeyId, 'accessKeyId', STS_LIMITS.accessKeyId);
      const output = await this.send(operation, new GetAccessKeyInfoCommand({ AccessKeyId: accessKeyId }), {
        secrets: [accessKeyId],
        signal,
      });
      if (!output.Account) throw new StsError(`${operation} returned no account`, { code: 'InvalidResponse', operation, retryable: true });
      return { account: output.Account };
    });
  }

  /** GetFederationToken: a federated user's session of the base IAM user, narrowed by a session policy. */
  getFederationToken(request: GetFederationTokenRequest): Promise<TemporaryCredentials> {
    const operation = 'GetFederationToken';
    return this.bounded(operation, async (signal) => {
      const validate = new RequestValidator(operation);
      validate.request(request);
      const { name, durationSeconds } = request;
      validate.text(name, 'name', STS_LIMITS.federatedUserName);
      const { min, max } = STS_LIMITS.federationTokenDuration;
      if (durationSeconds !== undefined) validate.integer(durationSeconds, 'durationSeconds', min, max);
      const policy = validate.policy(request.policy);
      const policyArns = validate.policyArns(request.policyArns);
      const tags = validate.tags(request.tags, undefined);

      const output = await this.send(
        operation,
        new GetFederationTokenCommand({
          Name: name,
          DurationSeconds: durationSeconds,
          Policy: policy,
          PolicyArns: policyArns?.map((arn) => ({ arn })),
          Tags: tags?.map(([Key, Value]) => ({ Key, Value })),
        }),
        { sessionName: name, secrets: [], signal },
      );
      const user = output.FederatedUser;
      const accountId = user?.Arn ? /^arn:[^:]+:sts::(\d{12}):/.exec(user.Arn)?.[1] : undefined;
      return this.toCredentials(operation, output, accountId, {
        federatedUser: user && { arn: user.Arn ?? '', federatedUserId: user.FederatedUserId ?? '' },
      });
    });
  }

  /** GetWebIdentityToken: a JWT STS signs for the base identity, for a service outside AWS. Never logged. */
  getWebIdentityToken(request: GetWebIdentityTokenRequest): Promise<WebIdentityToken> {
    const operation = 'GetWebIdentityToken';
    return this.bounded(operation, async (signal) => {
      const input = validateWebIdentityTokenRequest(new RequestValidator(operation), request);
      const output = await this.send(operation, new GetWebIdentityTokenCommand(input), { secrets: [], signal });
      if (!output.WebIdentityToken || !output.Expiration) {
        throw new StsError(`${operation} returned no token`, { code: 'InvalidResponse', operation, retryable: true });
      }
      return new WebIdentityToken(output.WebIdentityToken, new Date(output.Expiration));
    });
  }

  /**
   * AssumeRoot: the root user's session in a member account, for one task. Refused before sending when the client
   * resolves STS's global endpoint, which does not serve it. Never cached: a root session is short and privileged.
   */
  assumeRoot(request: AssumeRootRequest): Promise<TemporaryCredentials> {
    const operation = 'AssumeRoot';
    return this.bounded(operation, async (signal) => {
      const input = validateAssumeRootRequest(new RequestValidator(operation), request);
      const global = await this.sendsToGlobalEndpoint().catch((error: unknown) => {
        throw toStsError(error, operation);
      });
      if (global) {
        throw new StsError(
          `${operation} is not served by STS's global endpoint (https://sts.amazonaws.com): set AWS_REGION to a region (e.g. us-east-1), not aws-global, and leave useGlobalEndpoint off`,
          { code: 'InvalidConfiguration', operation },
        );
      }
      const output = await this.send(operation, new AssumeRootCommand(input), { accountId: input.TargetPrincipal, secrets: [], signal });
      return this.toCredentials(operation, output, input.TargetPrincipal);
    });
  }

  /**
   * GetDelegatedAccessToken: exchanges the trade-in token of a customer's approved delegation for credentials of the
   * customer's principal. The token is a secret: never in an event, a log line or an error.
   */
  getDelegatedAccessToken(tradeInToken: string): Promise<TemporaryCredentials> {
    const operation = 'GetDelegatedAccessToken';
    return this.bounded(operation, async (signal) => {
      new RequestValidator(operation).text(tradeInToken, 'tradeInToken', STS_LIMITS.tradeInToken);
      const output = await this.send(operation, new GetDelegatedAccessTokenCommand({ TradeInToken: tradeInToken }), {
        secrets: [tradeInToken],
        signal,
      });
      const principal = output.AssumedPrincipal;
      const accountId = principal ? /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(principal)?.[1] : undefined;
      return this.toCredentials(operation, output, accountId, { assumedPrincipal: principal });
    });
  }

  /** Calls GetCallerIdentity signed by `credentials` (an access check), on the module client's sockets. */
  callerIdentityOf(credentials: TemporaryCredentials, roleArn: string): Promise<GetCallerIdentityCommandOutput> {
    return this.bounded('GetCallerIdentity', (signal) =>
      this.send(
        'GetCallerIdentity',
        new GetCallerIdentityCommand({}),
        { roleArn, accountId: credentials.accountId, secrets: [], signal },
        stsClientSignedBy(this.stsClient, this.config, credentials),
      ),
    );
  }

  private sendsToGlobalEndpoint(): Promise<boolean> {
    this.globalEndpoint ??= sendsToGlobalStsEndpoint(this.stsClient).catch((error: unknown) => {
      this.globalEndpoint = undefined;
      throw error;
    });
    return this.globalEndpoint;
  }

  private bounded<T>(operation: StsOperation, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(operation, this.config.operationTimeoutMs, work);
  }

  private async resolveTokenCode(validate: RequestValidator, tokenCode: MfaInput['tokenCode'] | undefined): Promise<string | undefined> {
    if (tokenCode === undefined) return undefined;
    let code: unknown = tokenCode;
    if (typeof tokenCode === 'function') {
      try {
        code = await tokenCode();
      } catch (error) {
        throw new StsError('The mfa.tokenCode function failed', { code: 'MfaTokenCodeError', operation: validate.operation, cause: error });
      }
    }
    validate.mfaTokenCode(code);
    return code as string;
  }

  private async readTokenFile(path: string): Promise<string> {
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch (error) {
      throw new StsError(`Could not read the web identity token file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
        code: 'WebIdentityTokenFileError',
        operation: 'AssumeRoleWithWebIdentity',
        cause: error,
      });
    }
  }

  /** A valid, unique RoleSessionName: `<prefix>-<epoch ms>-<6 hex>`, at most 53 characters. */
  private generateSessionName(): string {
    return `${this.config.sessionNamePrefix}-${Date.now()}-${randomBytes(3).toString('hex')}`;
  }

  /**
   * Sends one command in a turn of the instance's STS call limit, emits its event, and maps a failure to a scrubbed
   * `StsError`. A caller whose deadline passes while it waits for a turn sent nothing: it rejects without an event.
   */
  private send<Operation extends keyof StsOutputs>(
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

  /** Builds `TemporaryCredentials` from an answer, with the session facts every role operation returns. */
  private toCredentials(
    operation: StsOperation,
    output: {
      Credentials?: Credentials;
      AssumedRoleUser?: { Arn?: string; AssumedRoleId?: string };
      SourceIdentity?: string;
      PackedPolicySize?: number;
    },
    accountId: string | undefined,
    details: TemporaryCredentialsDetails = {},
  ): TemporaryCredentials {
    const credentials = output.Credentials;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !credentials.Expiration) {
      throw new StsError(`${operation} returned no credentials`, { code: 'InvalidResponse', operation });
    }
    const user = output.AssumedRoleUser;
    return new TemporaryCredentials(
      {
        accessKeyId: credentials.AccessKeyId,
        secretAccessKey: credentials.SecretAccessKey,
        sessionToken: credentials.SessionToken,
        expiration: new Date(credentials.Expiration),
      },
      {
        accountId,
        assumedRoleUser: user && { arn: user.Arn ?? '', assumedRoleId: user.AssumedRoleId ?? '' },
        sourceIdentity: output.SourceIdentity,
        packedPolicySize: output.PackedPolicySize,
        ...details,
      },
    );
  }
}
