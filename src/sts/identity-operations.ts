import {
  DecodeAuthorizationMessageCommand,
  GetAccessKeyInfoCommand,
  GetCallerIdentityCommand,
  type GetCallerIdentityCommandOutput,
} from '@aws-sdk/client-sts';
import { encodedAuthorizationMessageOf, StsError } from '../errors/sts-error.js';
import { explainDecodedMessage } from './authorization-message.js';
import { STS_LIMITS } from './sts-limits.js';
import type { AccessKeyInfo, AuthorizationFailureExplanation, CallerIdentity } from './sts-request.types.js';
import type { StsSender } from './sts-sender.js';
import { RequestValidator } from './sts-validation.js';
import type { TemporaryCredentials } from './temporary-credentials.js';

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
 * Identity and support: GetCallerIdentity (the base identity, its account remembered; an access check signed by
 * other credentials), DecodeAuthorizationMessage and GetAccessKeyInfo.
 */
export class IdentityOperations {
  private accountId?: Promise<string>;

  constructor(private readonly sts: StsSender) {}

  getCallerIdentity(): Promise<CallerIdentity> {
    return this.sts.bounded('GetCallerIdentity', async (signal) => {
      const output = await this.sts.send('GetCallerIdentity', new GetCallerIdentityCommand({}), { secrets: [], signal });
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

  /** Calls GetCallerIdentity signed by `credentials` (an access check), on the module client's sockets. */
  callerIdentityOf(credentials: TemporaryCredentials, roleArn: string): Promise<GetCallerIdentityCommandOutput> {
    return this.sts.bounded('GetCallerIdentity', (signal) =>
      this.sts.send(
        'GetCallerIdentity',
        new GetCallerIdentityCommand({}),
        { roleArn, accountId: credentials.accountId, secrets: [], signal },
        this.sts.signedBy(credentials),
      ),
    );
  }

  /**
   * DecodeAuthorizationMessage: the encoded message is given as is, or read from an error that carries one (an
   * `StsError` keeps it aside; any other error, in its message). The message is a secret: never in an event or error.
   */
  explainAuthorizationFailure(encodedMessageOrError: string | Error): Promise<AuthorizationFailureExplanation> {
    const operation = 'DecodeAuthorizationMessage';
    return this.sts.bounded(operation, async (signal) => {
      const validate = new RequestValidator(operation);
      const encoded =
        typeof encodedMessageOrError === 'string' ? encodedMessageOrError : encodedAuthorizationMessageOf(encodedMessageOrError);
      validate.require(
        encoded !== undefined,
        'encodedMessage',
        'must be an encoded authorization failure message, or an error that carries one',
      );
      validate.text(encoded, 'encodedMessage', STS_LIMITS.encodedAuthorizationMessage);
      const output = await this.sts.send(operation, new DecodeAuthorizationMessageCommand({ EncodedMessage: encoded }), {
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
    return this.sts.bounded(operation, async (signal) => {
      new RequestValidator(operation).text(accessKeyId, 'accessKeyId', STS_LIMITS.accessKeyId);
      const output = await this.sts.send(operation, new GetAccessKeyInfoCommand({ AccessKeyId: accessKeyId }), {
        secrets: [accessKeyId],
        signal,
      });
      if (!output.Account) throw new StsError(`${operation} returned no account`, { code: 'InvalidResponse', operation, retryable: true });
      return { account: output.Account };
    });
  }
}
