import { GetFederationTokenCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import { toCredentials } from './credentials-answer.js';
import { resolveTokenCode } from './mfa-token-code.js';
import { STS_LIMITS } from './sts-limits.js';
import type { GetFederationTokenRequest, GetSessionTokenRequest } from './sts-request.types.js';
import type { StsSender } from './sts-sender.js';
import { RequestValidator } from './sts-validation.js';
import type { TemporaryCredentials } from './temporary-credentials.js';

/** Sessions of the base IAM user: GetSessionToken (optionally with MFA) and GetFederationToken. */
export class SessionTokens {
  constructor(private readonly sts: StsSender) {}

  getSessionToken(request: GetSessionTokenRequest = {}): Promise<TemporaryCredentials> {
    const operation = 'GetSessionToken';
    return this.sts.bounded(operation, async (signal) => {
      const validate = new RequestValidator(operation);
      validate.request(request);
      const { durationSeconds } = request;
      const { min, max } = STS_LIMITS.sessionTokenDuration;
      if (durationSeconds !== undefined) validate.integer(durationSeconds, 'durationSeconds', min, max);
      const mfa = validate.mfa(request.mfa);
      const tokenCode = await resolveTokenCode(validate, mfa?.tokenCode);

      const output = await this.sts.send(
        operation,
        new GetSessionTokenCommand({ DurationSeconds: durationSeconds, SerialNumber: mfa?.serialNumber, TokenCode: tokenCode }),
        { secrets: tokenCode ? [tokenCode] : [], signal },
      );
      return toCredentials(operation, output, undefined);
    });
  }

  /** GetFederationToken: a federated user's session of the base IAM user, narrowed by a session policy. */
  getFederationToken(request: GetFederationTokenRequest): Promise<TemporaryCredentials> {
    const operation = 'GetFederationToken';
    return this.sts.bounded(operation, async (signal) => {
      const validate = new RequestValidator(operation);
      validate.request(request);
      const { name, durationSeconds } = request;
      validate.text(name, 'name', STS_LIMITS.federatedUserName);
      const { min, max } = STS_LIMITS.federationTokenDuration;
      if (durationSeconds !== undefined) validate.integer(durationSeconds, 'durationSeconds', min, max);
      const policy = validate.policy(request.policy);
      const policyArns = validate.policyArns(request.policyArns);
      const tags = validate.tags(request.tags, undefined);

      const output = await this.sts.send(
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
      return toCredentials(operation, output, accountId, {
        federatedUser: user && { arn: user.Arn ?? '', federatedUserId: user.FederatedUserId ?? '' },
      });
    });
  }
}
