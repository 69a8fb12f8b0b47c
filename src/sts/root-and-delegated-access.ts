import { AssumeRootCommand, GetDelegatedAccessTokenCommand, type STSClient } from '@aws-sdk/client-sts';
import { sendsToGlobalStsEndpoint } from '../config/sts-endpoint.js';
import { StsError, toStsError } from '../errors/sts-error.js';
import { validateAssumeRootRequest } from './assume-root.js';
import { toCredentials } from './credentials-answer.js';
import { STS_LIMITS } from './sts-limits.js';
import type { AssumeRootRequest } from './sts-request.types.js';
import type { StsSender } from './sts-sender.js';
import { RequestValidator } from './sts-validation.js';
import type { TemporaryCredentials } from './temporary-credentials.js';

/** Sessions in other accounts, never cached: AssumeRoot (a member account's root) and GetDelegatedAccessToken. */
export class RootAndDelegatedAccess {
  /** Whether the client resolves STS's global endpoint: fixed by its config, so asked of the SDK once. */
  private globalEndpoint?: Promise<boolean>;

  constructor(
    private readonly sts: StsSender,
    private readonly stsClient: STSClient,
  ) {}

  /**
   * AssumeRoot: the root user's session in a member account, for one task. Refused before sending when the client
   * resolves STS's global endpoint, which does not serve it. Never cached: a root session is short and privileged.
   */
  assumeRoot(request: AssumeRootRequest): Promise<TemporaryCredentials> {
    const operation = 'AssumeRoot';
    return this.sts.bounded(operation, async (signal) => {
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
      const output = await this.sts.send(operation, new AssumeRootCommand(input), {
        accountId: input.TargetPrincipal,
        secrets: [],
        signal,
      });
      return toCredentials(operation, output, input.TargetPrincipal);
    });
  }

  /**
   * GetDelegatedAccessToken: exchanges the trade-in token of a customer's approved delegation for credentials of the
   * customer's principal. The token is a secret: never in an event, a log line or an error.
   */
  getDelegatedAccessToken(tradeInToken: string): Promise<TemporaryCredentials> {
    const operation = 'GetDelegatedAccessToken';
    return this.sts.bounded(operation, async (signal) => {
      new RequestValidator(operation).text(tradeInToken, 'tradeInToken', STS_LIMITS.tradeInToken);
      const output = await this.sts.send(operation, new GetDelegatedAccessTokenCommand({ TradeInToken: tradeInToken }), {
        secrets: [tradeInToken],
        signal,
      });
      const principal = output.AssumedPrincipal;
      const accountId = principal ? /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(principal)?.[1] : undefined;
      return toCredentials(operation, output, accountId, { assumedPrincipal: principal });
    });
  }

  private sendsToGlobalEndpoint(): Promise<boolean> {
    this.globalEndpoint ??= sendsToGlobalStsEndpoint(this.stsClient).catch((error: unknown) => {
      this.globalEndpoint = undefined;
      throw error;
    });
    return this.globalEndpoint;
  }
}
