import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { AssumeRoleCommand, AssumeRoleWithSAMLCommand, AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { StsError } from '../errors/sts-error.js';
import { toCredentials } from './credentials-answer.js';
import { resolveTokenCode } from './mfa-token-code.js';
import { prepareRoleSession, roleSessionCommandInput, type PreparedAssumeRole } from './role-request.js';
import { STS_LIMITS } from './sts-limits.js';
import type { AssumeRoleWithSamlRequest, AssumeRoleWithWebIdentityRequest } from './sts-request.types.js';
import type { CallContext, StsSender } from './sts-sender.js';
import { RequestValidator } from './sts-validation.js';
import type { TemporaryCredentials } from './temporary-credentials.js';

/** Role assumption: AssumeRole (with role chaining and MFA), AssumeRoleWithWebIdentity and AssumeRoleWithSAML. */
export class RoleAssumption {
  constructor(
    private readonly sts: StsSender,
    /** The base identity's account id (remembered), for `requireExternalId`'s same-account test. */
    private readonly accountId: () => Promise<string>,
    /** The (cached) credentials of a role-chaining hop: wired to the credential cache by `StsService`. */
    private readonly hopCredentials: (via: PreparedAssumeRole) => Promise<TemporaryCredentials>,
  ) {}

  /**
   * AssumeRole with a prepared request: the only place an AssumeRole command is built. A `probe` (validateAccess's
   * check that the role demands its ExternalId) hopes to be refused: its refusal is not logged.
   */
  assumeRole(prepared: PreparedAssumeRole, { probe = false } = {}): Promise<TemporaryCredentials> {
    return this.sts.bounded('AssumeRole', async (signal) => {
      const validate = new RequestValidator('AssumeRole');
      if (this.sts.config.requireExternalId && !prepared.ownExternalId) {
        const callerAccount = prepared.via ? prepared.via.accountId : await this.accountId();
        validate.require(
          callerAccount === prepared.accountId,
          'externalId',
          'is required to assume a role in another account (requireExternalId is on; EXTERNAL_ID does not count)',
        );
      }
      // Last, so a one-time code is not spent on a request refused above.
      const tokenCode = await resolveTokenCode(validate, prepared.tokenCode);
      // Read once: a cached plain request builds its input when asked.
      const { input, accountId } = prepared;
      const sessionName = input.RoleSessionName ?? this.generateSessionName();
      const command = new AssumeRoleCommand({
        ...input,
        ...roleSessionCommandInput(input),
        Tags: input.Tags?.map(({ Key, Value }) => ({ Key, Value })),
        TransitiveTagKeys: input.TransitiveTagKeys && [...input.TransitiveTagKeys],
        ProvidedContexts: input.ProvidedContexts?.map(({ ProviderArn, ContextAssertion }) => ({ ProviderArn, ContextAssertion })),
        RoleSessionName: sessionName,
        TokenCode: tokenCode,
      });
      const context: CallContext = {
        logFailure: !probe,
        roleArn: input.RoleArn,
        accountId,
        sessionName,
        sourceIdentity: input.SourceIdentity,
        secrets: [input.ExternalId, tokenCode, ...(input.ProvidedContexts ?? []).map(({ ContextAssertion }) => ContextAssertion)].filter(
          (secret): secret is string => secret !== undefined,
        ),
        signal,
      };
      const client = prepared.via ? this.sts.signedBy(await this.hopCredentials(prepared.via)) : undefined;
      const output = await this.sts.send('AssumeRole', command, context, client);
      return toCredentials('AssumeRole', output, accountId);
    });
  }

  assumeRoleWithWebIdentity(request: AssumeRoleWithWebIdentityRequest): Promise<TemporaryCredentials> {
    const operation = 'AssumeRoleWithWebIdentity';
    return this.sts.bounded(operation, async (signal) => {
      const validate = new RequestValidator(operation);
      validate.request(request);
      const { webIdentityToken, webIdentityTokenFile, providerId, sessionName: givenSessionName } = request;
      const { session, accountId } = prepareRoleSession(validate, request, false, this.sts.config);
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
      const output = await this.sts.send(
        operation,
        new AssumeRoleWithWebIdentityCommand({
          ...roleSessionCommandInput(session),
          RoleSessionName: sessionName,
          WebIdentityToken: token,
          ProviderId: providerId,
        }),
        { roleArn: session.RoleArn, accountId, sessionName, secrets: [token], signal },
      );
      return toCredentials(operation, output, accountId, {
        subjectFromWebIdentityToken: output.SubjectFromWebIdentityToken,
        audience: output.Audience,
        provider: output.Provider,
      });
    });
  }

  assumeRoleWithSaml(request: AssumeRoleWithSamlRequest): Promise<TemporaryCredentials> {
    const operation = 'AssumeRoleWithSAML';
    return this.sts.bounded(operation, async (signal) => {
      const validate = new RequestValidator(operation);
      validate.request(request);
      const { principalArn, samlAssertion } = request;
      const { session, accountId } = prepareRoleSession(validate, request, false, this.sts.config);
      validate.samlProviderArn(principalArn);
      validate.text(samlAssertion, 'samlAssertion', STS_LIMITS.samlAssertion);

      const output = await this.sts.send(
        operation,
        new AssumeRoleWithSAMLCommand({ ...roleSessionCommandInput(session), PrincipalArn: principalArn, SAMLAssertion: samlAssertion }),
        { roleArn: session.RoleArn, accountId, secrets: [samlAssertion], signal },
      );
      return toCredentials(operation, output, accountId, {
        subject: output.Subject,
        subjectType: output.SubjectType,
        issuer: output.Issuer,
        audience: output.Audience,
        nameQualifier: output.NameQualifier,
      });
    });
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
    return `${this.sts.config.sessionNamePrefix}-${Date.now()}-${randomBytes(3).toString('hex')}`;
  }
}
